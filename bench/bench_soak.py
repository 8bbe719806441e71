"""
BENCH soak: the closed loop (mujoco_sim + vla_policy, models/default) for SOAK_MINUTES.

Episodes with resets through :class:`vla_ros.eval.episode.EpisodeRunner` (one sim and one
policy process for the whole run, as ``vla-ros eval``; both nodes with config/sim.yaml, so
the policy has the sim's joint limits). Every SAMPLE_S seconds the RSS and thread count of
both node processes are read from /proc. Printed:

    BENCH soak minutes= episodes= successes= rss_mb_per_h= threads_slope_per_h=
    p99_latency_ms_first= p99_latency_ms_last= p99_drift= ...

rss_mb_per_h / threads_slope_per_h: least-squares slope over the samples after the first 20 %
of the run (warm-up), the larger of the two processes (each also printed); runs of a few
minutes (smoke tests) still see the sim's warm-up and give large, meaningless slopes. Latency: the
policy's own time per chunk (``ActionChunk.inference_latency``); first = chunks in 10-20 % of
the run, last = the final 10 %; p99_drift = last - first [ms]. Per-sample CSV and a JSON
summary go to SOAK_OUT (default out/soak), node logs to out/soak/logs_<stamp>. Target:
rss_mb_per_h < 10.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime
import json
import os
from pathlib import Path
import subprocess
import sys
import threading
import time

import _policy_graph as G
from _procfs import proc_status
import _smoke as S
import numpy as np
from vla_ros.eval.episode import EpisodeRunner

# smoke: one episode of 1 s sim time (the loop starts one before it checks the time)
MINUTES = float(os.environ.get('SOAK_MINUTES', S.pick('30', '0.01')))
OUT = Path(os.environ.get('SOAK_OUT', str(S.out_dir(G.ROOT / 'out' / 'soak'))))
SAMPLE_S = S.pick(5.0, 0.3)
SMOKE_TIMEOUT_S = 1.0
WARMUP = 0.2
SEED_BASE = 70_000
TARGET_MB_PER_H = 10.0
PROCS = ('mujoco_sim', 'vla_policy')


class Sampler:
    """RSS [MB] and threads of the node processes every SAMPLE_S, plus chunk latencies."""

    def __init__(self, runner: EpisodeRunner) -> None:
        from vla_ros_msgs.msg import ActionChunk
        self.runner = runner
        self.t0 = time.monotonic()
        self.rows: list[dict] = []
        self.latency: list[tuple[float, float]] = []  # (t [s], ms)
        self.episodes = 0
        self._stop = threading.Event()
        runner.node.create_subscription(ActionChunk, '/vla_policy/action_chunk',
                                        self._on_chunk, 100)
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _on_chunk(self, msg) -> None:
        self.latency.append((time.monotonic() - self.t0, msg.inference_latency * 1e3))

    def _loop(self) -> None:
        while not self._stop.wait(SAMPLE_S):
            row = {'t_s': round(time.monotonic() - self.t0, 2), 'episodes': self.episodes,
                   'load1': round(os.getloadavg()[0], 2)}
            for name, proc in zip(PROCS, self.runner.procs):
                st = proc_status(proc.proc.pid)
                row[f'{name}_rss_mb'] = round(st.get('VmRSS', 0) / 1024, 2)
                row[f'{name}_threads'] = st.get('Threads', -1)
            self.rows.append(row)

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def slope_per_h(rows: list[dict], key: str, t_from: float) -> float:
    pts = [(r['t_s'], r[key]) for r in rows if r['t_s'] >= t_from and r[key] > 0]
    if len(pts) < 3:
        return float('nan')
    t, y = np.array(pts, dtype=np.float64).T
    return float(np.polyfit(t / 3600.0, y, 1)[0])


def p99(lat: list[tuple[float, float]], t0: float, t1: float) -> float:
    x = [ms for t, ms in lat if t0 <= t < t1]
    return float(np.percentile(x, 99)) if x else float('nan')


def commit() -> str:
    """Return the checkout's short commit hash (SOAK_COMMIT when run from an exported tree)."""
    res = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=G.ROOT,
                         capture_output=True, text=True)
    return res.stdout.strip() or os.environ.get('SOAK_COMMIT', 'unknown')


def main() -> int:
    from vla_ros.sim.task_suite import make_task
    from vla_ros.eval.kinds import trained_kinds
    bundle = G.ROOT / 'models' / 'default'
    if not (bundle / 'bundle.yaml').exists():
        print(f'no bundle at {bundle}; run `make train`', file=sys.stderr)
        return 1
    OUT.mkdir(parents=True, exist_ok=True)
    stamp = datetime.datetime.now(datetime.timezone.utc).strftime('%Y%m%dT%H%M%SZ')
    kinds = trained_kinds(bundle)
    load0 = G.load_avg()
    results = []
    runner = EpisodeRunner(bundle, log_dir=S.out_dir(G.ROOT / 'out' / 'soak') / f'logs_{stamp}',
                           domain_id=int(os.environ['ROS_DOMAIN_ID'])).start()
    sampler = Sampler(runner)
    deadline = sampler.t0 + MINUTES * 60.0
    try:
        while time.monotonic() < deadline:
            i = len(results)
            seed = SEED_BASE + i
            task = make_task(kinds[i % len(kinds)], seed, held_out=i % 2 == 1)
            if S.SMOKE:
                task = dataclasses.replace(task, timeout_s=SMOKE_TIMEOUT_S)
            r = runner.run(task, seed)
            results.append(r)
            sampler.episodes = len(results)
    finally:
        sampler.stop()
        runner.close()
    total = time.monotonic() - sampler.t0
    rows, lat = sampler.rows, sampler.latency
    warm = WARMUP * total
    rss = {p: slope_per_h(rows, f'{p}_rss_mb', warm) for p in PROCS}
    thr = {p: slope_per_h(rows, f'{p}_threads', warm) for p in PROCS}
    first, last = p99(lat, 0.1 * total, 0.2 * total), p99(lat, 0.9 * total, total + 1)
    ok = sum(r.success for r in results)
    line = (f'BENCH soak minutes={total / 60:.1f} episodes={len(results)} successes={ok} '
            f'rss_mb_per_h={max(rss.values()):.2f} '
            f'threads_slope_per_h={max(thr.values()):.2f} '
            f'p99_latency_ms_first={first:.2f} p99_latency_ms_last={last:.2f} '
            f'p99_drift={last - first:+.2f} '
            f'rss_mb_per_h_sim={rss["mujoco_sim"]:.2f} '
            f'rss_mb_per_h_policy={rss["vla_policy"]:.2f} '
            f'rss_mb_end_sim={rows[-1]["mujoco_sim_rss_mb"] if rows else 0:.0f} '
            f'rss_mb_end_policy={rows[-1]["vla_policy_rss_mb"] if rows else 0:.0f} '
            f'chunks={len(lat)} load1={load0:.1f}..{G.load_avg():.1f} '
            f'target_ratio={max(rss.values()) / TARGET_MB_PER_H:.2f}{S.tag()}')
    with open(OUT / f'soak_{stamp}_samples.csv', 'w', newline='') as f:
        w = csv.DictWriter(f, fieldnames=list(rows[0]) if rows else ['t_s'])
        w.writeheader()
        w.writerows(rows)
    (OUT / f'soak_{stamp}.json').write_text(json.dumps({
        'bench': line, 'commit': commit(), 'minutes': MINUTES, 'sample_s': SAMPLE_S,
        'warmup_fraction': WARMUP,
        'rss_mb_per_h': rss, 'threads_per_h': thr,
        'latency_ms_p50_p99_all': [float(np.percentile([m for _, m in lat], q))
                                   for q in (50, 99)] if lat else [],
        'episodes': [{'task': r.task, 'seed': r.seed, 'success': r.success,
                      'reason': r.reason, 'wall_s': r.wall_s, 'chunks': r.chunks}
                     for r in results]}, indent=1))
    print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
