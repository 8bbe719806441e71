#!/usr/bin/env python3
"""
Capacity plan for a fleet on ``vla_inference`` + Ray Serve (docs/distributed.md).

For 10 / 100 / 1000 robots and each bundle class, a discrete-event simulation of the serving
path finds the fewest replicas that keep the p95 frame -> chunk latency inside the robot's
budget, and the model below adds gateways, network bytes and DDS discovery load.

Serving path simulated: each robot sends a frame every ``1 / rate`` s (random phase, 5 %
jitter); a gateway (``vla_inference``, ``backend: ray``) spends ``gw_ms`` CPU per request
(``gateways`` of them share the fleet); the router sends each request to the less loaded of
two random replicas (Serve's power of two choices); a replica runs a batch as soon as it is
idle and has requests (at most ``max_batch``, waiting up to ``wait_ms`` for more), a batch of
B frames taking ``s1 + (B - 1) * s_add`` ms. Budget: the chunk must be back before the robot
runs out = (1 - threshold) of the chunk's duration (the robot requests at half a chunk).

Inputs: measured on this machine (``BENCH fleet``, ``BENCH fleet_ray``, ``BENCH remote``; the
per-frame times of one replica on one CPU core) unless marked *assumed*; the JSON of
``make bench BENCH=fleet_ray`` replaces the ACT numbers when it exists. Usage:
``python scripts/capacity_plan.py [--fleet 10 100 1000] [--json out.json]``.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
import heapq
import json
import math
from pathlib import Path
import random

ROOT = Path(__file__).resolve().parents[1]
FLEET_RAY_JSON = ROOT / 'out' / 'bench' / 'fleet_ray' / 'fleet_ray.json'
SIM_S = 30.0        # simulated seconds per configuration (after a 5 s warm-up)
WARM_S = 5.0
MAX_UTIL = 0.8      # a replica or gateway planned at most this busy
GW_MS = 1.5  # gateway CPU per request [ms] (*assumed* until BENCH fleet_ray has measured it)
CHUNK_OVERHEAD_B = 400  # ActionChunk header, names, units (measured: serialized, 7 joints)
# DDS simple discovery (Fast DDS defaults): a participant announces itself every 3 s to all
# (multicast or every peer), each announcement ~300 B; each participant keeps a proxy of every
# other participant and endpoint it discovered (~2 KB per endpoint: order of magnitude, from
# Fast DDS' documented proxy pools; *assumed*).
SPDP_PERIOD_S, SPDP_BYTES, PROXY_BYTES = 3.0, 300, 2048
PARTICIPANTS_PER_ROBOT = 6   # sensors, sync, policy, drivers, sim/bridge, status tools
ENDPOINTS_PER_PARTICIPANT = 12


@dataclass(frozen=True)
class BundleClass:
    """One bundle class: per-frame cost on one replica, its chunk, its request."""

    name: str
    s1_ms: float          # one frame, one replica (1 CPU core, or 1 GPU) [ms]
    s_add_ms: float       # each further frame in the same batch [ms]
    horizon: int
    dt: float
    actions: int
    request_bytes: int    # RemoteFrame on the wire (BENCH remote)
    unit: str = 'CPU core'
    max_batch: int = 8
    source: str = ''

    @property
    def rate_hz(self) -> float:
        """Return the requests per robot per second: one per half chunk."""
        return 2.0 / (self.horizon * self.dt)

    @property
    def budget_ms(self) -> float:
        """Return the latency budget: the chunk must be back within the half chunk left [ms]."""
        return 0.5 * self.horizon * self.dt * 1e3

    @property
    def chunk_bytes(self) -> int:
        return self.horizon * self.actions * 8 + CHUNK_OVERHEAD_B


def gateway_ms() -> float:
    """Gateway CPU per request [ms]: measured by BENCH fleet_ray when its JSON exists."""
    if FLEET_RAY_JSON.exists():
        rows = [r for r in json.loads(FLEET_RAY_JSON.read_text())['rows']
                if 'server_idle_cores' in r]  # per chunk above the gateway's idle CPU
        if rows:
            return sorted(r['server_cpu_ms_per_chunk'] for r in rows)[len(rows) // 2]
    return GW_MS


def bundle_classes() -> list[BundleClass]:
    act_s1, act_add, src = 81.0, 72.6, 'ACT 1 frame 81 ms, batch 8 589 ms (1 thread)'
    if FLEET_RAY_JSON.exists():  # the replica's own throughput under Serve, N = 16
        rows = json.loads(FLEET_RAY_JSON.read_text())['rows']
        r1 = max((r for r in rows if r['replicas'] == 1), key=lambda r: r['n'])
        cores = r1.get('replica_cores') or 1.0  # what the replica got of its core (shared)
        act_s1, act_add = (act_s1 / act_add) * 1e3 * cores / r1['chunks_per_s'], \
            1e3 * cores / r1['chunks_per_s']
        src = (f'BENCH fleet_ray: 1 replica {r1["chunks_per_s"]:.1f} chunks/s at N={r1["n"]} on '
               f'{cores:.2f} of a core; batch-1 cost scaled by 81 / 72.6 ms')
    return [
        BundleClass('default', 2.7, 1.8, 10, 0.1, 7, 56_816,
                    source='BENCH fleet: 752 chunks/s on 2 cores at N=8, batch gain 1.55'),
        BundleClass('ACT (34 M)', act_s1, act_add, 100, 0.02, 7, 55_408, source=src),
        BundleClass('SmolVLA int8, CPU', 1800.0, 1800.0, 50, 1 / 30, 6, 55_408,
                    source='1.8 s/chunk on 1 thread (BENCH real_vla); no batch gain on CPU'),
        BundleClass('SmolVLA, GPU', 60.0, 6.0, 50, 1 / 30, 6, 55_408, unit='GPU', max_batch=32,
                    source='*assumed*: 60 ms batch 1, +6 ms per frame; measure on your GPU'),
    ]


def simulate(b: BundleClass, robots: int, replicas: int, gateways: int, *, seed: int = 0,
             wait_ms: float = 5.0) -> dict:
    """Return p50/p95 latency [ms] and replica utilisation of one configuration."""
    rng, max_batch, gw_ms = random.Random(seed), b.max_batch, gateway_ms()
    period = 1.0 / b.rate_hz
    events: list[tuple[float, int, str, int]] = []   # (time, seq, kind, index)
    seq = 0

    def push(t: float, kind: str, i: int) -> None:
        nonlocal seq
        seq += 1
        heapq.heappush(events, (t, seq, kind, i))

    for r in range(robots):
        push(rng.uniform(0, period), 'send', r)
    gw_free = [0.0] * gateways
    queues: list[list[float]] = [[] for _ in range(replicas)]   # arrival times
    busy = [False] * replicas
    busy_s = [0.0] * replicas
    pending: dict[int, list[float]] = {}
    lat: list[float] = []
    end = WARM_S + SIM_S
    while events:
        t, _, kind, i = heapq.heappop(events)
        if t > end:
            break
        if kind == 'send':
            push(t + period * rng.uniform(0.95, 1.05), 'send', i)
            g = i % gateways
            gw_free[g] = max(gw_free[g], t) + gw_ms * 1e-3
            a, c = rng.randrange(replicas), rng.randrange(replicas)
            k = a if len(queues[a]) + busy[a] <= len(queues[c]) + busy[c] else c
            queues[k].append(t)
            push(gw_free[g], 'arrive', k)
        elif kind in ('arrive', 'wake') and not busy[i] and queues[i]:
            oldest = queues[i][0]
            if len(queues[i]) < max_batch and t < oldest + wait_ms * 1e-3 and kind == 'arrive':
                push(oldest + wait_ms * 1e-3, 'wake', i)
                continue
            batch, queues[i] = queues[i][:max_batch], queues[i][max_batch:]
            s = (b.s1_ms + (len(batch) - 1) * b.s_add_ms) * 1e-3
            busy[i] = True
            if t > WARM_S:
                busy_s[i] += s
            pending[i] = batch
            push(t + s, 'done', i)
        elif kind == 'done':
            busy[i] = False
            lat += [(t - a) * 1e3 for a in pending.pop(i) if a > WARM_S]
            push(t, 'wake', i)
    lat.sort()
    if not lat:
        return {'p50_ms': math.inf, 'p95_ms': math.inf, 'util': 1.0}
    return {'p50_ms': lat[len(lat) // 2], 'p95_ms': lat[int(0.95 * (len(lat) - 1))],
            'util': sum(busy_s) / (replicas * SIM_S)}


def plan(b: BundleClass, robots: int) -> dict:
    """
    Return the fewest replicas whose p95 stays within the budget over SIM_S (None: none does).

    Starts at the load at full batches / MAX_UTIL; utilisation itself is no criterion: with a
    large per-batch cost, spreading the fleet thinner makes batches smaller, not idler.
    """
    full = (b.s1_ms + (b.max_batch - 1) * b.s_add_ms) / b.max_batch  # per frame, full batch
    load = robots * b.rate_hz * full * 1e-3                 # replica-seconds per second
    gateways = max(1, math.ceil(robots * b.rate_hz * gateway_ms() * 1e-3 / MAX_UTIL))
    n = max(1, math.ceil(load / MAX_UTIL))
    if b.s1_ms > b.budget_ms:  # one frame alone takes longer than the budget
        return {'replicas': None, 'gateways': gateways, 'why': f'{b.s1_ms:.0f} ms per chunk '
                f'> budget {b.budget_ms:.0f} ms'}
    for _ in range(60):
        r = simulate(b, robots, n, gateways)
        if r['p95_ms'] <= b.budget_ms:
            return {'replicas': n, 'gateways': gateways, **r}
        n = math.ceil(n * 1.15) if n > 8 else n + 1
    return {'replicas': None, 'gateways': gateways, 'why': 'no replica count found'}


def discovery(robots: int, *, one_domain: bool) -> dict:
    """DDS simple discovery on one domain for the whole fleet (or per robot: LOCALHOST)."""
    p = robots * PARTICIPANTS_PER_ROBOT + math.ceil(robots / 100) if one_domain else \
        PARTICIPANTS_PER_ROBOT + 1
    return {'participants': p,
            'spdp_rx_bytes_s': (p - 1) * SPDP_BYTES / SPDP_PERIOD_S,
            'spdp_rx_packets_s': (p - 1) / SPDP_PERIOD_S,
            'proxy_mb_per_process': p * ENDPOINTS_PER_PARTICIPANT * PROXY_BYTES / 2**20}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    ap.add_argument('--fleet', type=int, nargs='+', default=[10, 100, 1000])
    ap.add_argument('--json', type=Path)
    a = ap.parse_args()
    rows = []
    print('| Bundle | Robots | chunks/s | Replicas | Gateways | p95 / budget | '
          'Up (robots -> server) | Down |')
    print('|---|---|---|---|---|---|---|---|')
    for b in bundle_classes():
        for n in a.fleet:
            p = plan(b, n)
            up = n * b.rate_hz * b.request_bytes
            down = n * b.rate_hz * b.chunk_bytes
            plural = 's' if p['replicas'] != 1 else ''
            reps = f'{p["replicas"]} {b.unit}{plural}' if p['replicas'] else f'-- ({p["why"]})'
            lat = f'{p["p95_ms"]:.0f} / {b.budget_ms:.0f} ms' if p['replicas'] else \
                f'-- / {b.budget_ms:.0f} ms'
            print(f'| {b.name} | {n} | {n * b.rate_hz:.0f} | {reps} | {p["gateways"]} | {lat} '
                  f'| {up * 8 / 1e6:.1f} Mbit/s | {down * 8 / 1e6:.2f} Mbit/s |')
            rows.append({'bundle': b.name, 'robots': n, 'rate_hz': b.rate_hz, **p,
                         'up_bytes_s': up, 'down_bytes_s': down, 'source': b.source})
    print('\nInputs:')
    for b in bundle_classes():
        print(f'- {b.name}: {b.s1_ms:.1f} ms + {b.s_add_ms:.1f} ms per extra frame in a batch '
              f'per {b.unit}; H {b.horizon} x dt {b.dt:.3f} s -> {b.rate_hz:.2f} requests/s '
              f'per robot, budget {b.budget_ms:.0f} ms ({b.source})')
    print('\n| Robots | DDS participants on one domain | SPDP in per process | '
          'discovery state per process |')
    print('|---|---|---|---|')
    disc = []
    for n in a.fleet:
        d = discovery(n, one_domain=True)
        disc.append({'robots': n, **d})
        print(f'| {n} | {d["participants"]} | {d["spdp_rx_packets_s"]:.0f} pkt/s, '
              f'{d["spdp_rx_bytes_s"] / 1e3:.1f} kB/s | {d["proxy_mb_per_process"]:.0f} MB |')
    if a.json:
        a.json.write_text(json.dumps({'plan': rows, 'discovery': disc}, indent=1))


if __name__ == '__main__':
    main()
