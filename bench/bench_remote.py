"""
``BENCH remote``: frame -> chunk with inference on another host vs in the robot's process.

Two network namespaces joined by a veth pair (:class:`vla_ros.harness.netns.TwoHosts`), DDS over
UDP only with initial peers on both sides, in both cases -- the same transport settings, so
the ratio is the split alone. The robot host runs fake_sensors (two 640x480 cameras at 30 Hz,
audio, tactile, joints), ``vla_policy`` with models/default and bench/_chunk_probe.py, which
commands and records frame stamp -> chunk preview received; ``vla_inference`` runs on the
other host in the split cases. ``ROUNDS`` rounds of (same-process, split raw, split JPEG 90)
in fresh processes; the medians of the per-round p50s are printed.

``e2e_ms`` = split (raw images, S16LE audio), ``local_ms`` = same process, ``ratio`` =
median over rounds of ``e2e / local`` (target <= 1.5); ``jpeg_ms`` with
``remote.jpeg_quality`` 90; ``bytes`` / ``jpeg_bytes`` = payload per request (images, audio,
tactile, joints). Two bundles: models/default (0.4 M parameters, a 0.6 ms graph: the split's
fixed cost -- two DDS hops, ~4 ms in Python on this machine -- against the smallest local
time) and, ``act_``, the LeRobot-size ACT of ``bench fleet`` (what one would split for).
The server gets one intra-op thread, as vla_policy's own session: the same compute, so the
ratio is the split's overhead alone (same CPU, no faster server).
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import random
import subprocess
import sys
import tempfile

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))
import _smoke as S  # noqa: E402, I100

ROUNDS = S.pick(3, 1)
SECONDS = S.pick(8.0, 2.0)
WARM_S = S.pick(2.0, 0.5)  # the probe's warm-up after the command
POLICY = {'autostart': True, 'dry_run': True, 'cameras': ['front', 'wrist'],
          'required_cameras': ['front'], 'max_frame_age_s': 0.5, 'attribution_rate_hz': 0.0}
# smoke: small frames (two 640x480 streams at 30 Hz cost a core the other smoke runs need)
SENSORS = {'cameras': ['front', 'wrist'], 'image_width': S.pick(640, 160),
           'image_height': S.pick(480, 120), 'camera_rate_hz': 30.0}


def run_case(net, env: dict, bundle: Path, tmp: Path, name: str,
             remote: dict | None, policy: dict | None = None) -> dict:
    from vla_ros.harness.procs import executable_path, ros_args

    def node(host: str, exe: str, params: dict):
        log = open(tmp / f'{name}_{exe}.log', 'w')  # noqa: SIM115 - closed with the net
        return net.popen(host, [sys.executable, str(executable_path(exe)),
                                *ros_args(params=params)], env=env[host], stdout=log,
                         stderr=subprocess.STDOUT)
    procs = [node('a', 'fake_sensors', SENSORS)]
    if remote is not None:  # one intra-op thread, as vla_policy's own session: same compute
        procs.append(node('b', 'vla_inference', {'bundle': str(bundle), 'intra_op_threads': 1}))
    procs.append(node('a', 'vla_policy', {**POLICY, **(policy or {}), 'bundle': str(bundle), **(
        {'inference': 'local'} if remote is None else {'inference': 'remote', **remote})}))
    try:
        out = net.run('a', [sys.executable, str(ROOT / 'bench' / '_chunk_probe.py'),
                            '--seconds', str(SECONDS), '--warm', str(WARM_S),
                            '--wait-publisher',
                            '' if remote is None else '/vla/remote/chunk'],
                      env=env['a'], capture_output=True,
                      text=True, timeout=120)
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            try:
                p.wait(10)
            except subprocess.TimeoutExpired:
                p.kill()
    if out.returncode != 0 or not out.stdout.strip():
        raise RuntimeError(f'{name}: probe failed: {out.stderr[-2000:]}')
    res = json.loads(out.stdout.strip().splitlines()[-1])
    if not res['latencies_ms']:
        logs = ''.join((tmp / f).read_text()[-1500:] for f in os.listdir(tmp) if name in f)
        raise RuntimeError(f'{name}: no chunks ({res}):\n{logs}')
    res['p50_ms'] = float(np.median(res['latencies_ms']))
    print(name, json.dumps({k: v for k, v in res.items() if k != 'latencies_ms'}),
          len(res['latencies_ms']), 'chunks', file=sys.stderr)
    return res


def measure(net, env: dict, bundle: Path, tmp: Path, cases: dict,
            policy: dict | None = None) -> dict[str, list[dict]]:
    """Run ROUNDS rounds of every case (fresh processes each time)."""
    rows: dict[str, list[dict]] = {name: [] for name in cases}
    for _ in range(ROUNDS):
        for name, remote in cases.items():
            rows[name].append(run_case(net, env, bundle, tmp, name, remote, policy))
    return rows


def summary(rows: dict[str, list[dict]], prefix: str = '') -> str:
    med = {k: float(np.median([r['p50_ms'] for r in v])) for k, v in rows.items()}

    def ratio(case: str) -> float:
        return float(np.median([r['p50_ms'] / lo['p50_ms']
                                for r, lo in zip(rows[case], rows['local'])]))
    out = (f'{prefix}e2e_ms={med["raw"]:.1f} {prefix}local_ms={med["local"]:.1f} '
           f'{prefix}ratio={ratio("raw"):.2f} '
           f'{prefix}bytes={rows["raw"][-1].get("remote_bytes_per_frame")}')
    if 'jpeg' in rows:
        out += (f' {prefix}jpeg_ms={med["jpeg"]:.1f} {prefix}jpeg_ratio={ratio("jpeg"):.2f} '
                f'{prefix}jpeg_bytes={rows["jpeg"][-1].get("remote_bytes_per_frame")}')
    return out


def main() -> int:
    from bench_fleet import act_bundle
    from vla_ros.harness.netns import dds_env, netns_available, TwoHosts, write_udp_profile

    why = netns_available()
    if why:
        print(f'BENCH remote skipped=1 reason="{why}"{S.tag()}')
        return 0
    # smoke: no ACT export (minutes); its act_ keys repeat the default bundle's rows
    default, act = ROOT / 'models' / 'default', None if S.SMOKE else act_bundle()
    with tempfile.TemporaryDirectory() as td, TwoHosts() as net:
        tmp = Path(td)
        domain = random.randint(100, 200)
        env = {h: dds_env(write_udp_profile(tmp / f'{h}.xml', [net.address(h), net.peer(h)]),
                          domain) for h in ('a', 'b')}
        cases = {'local': None, 'raw': {}, 'jpeg': {'remote.jpeg_quality': 90}}
        if S.SMOKE:  # the split alone (the JPEG wire has its own tests)
            del cases['jpeg']
        rows = measure(net, env, default, tmp, cases)
        act_rows = rows if act is None else measure(
            net, env, act, tmp, {'local': None, 'raw': {}},
            {'required_cameras': ['front', 'wrist'],  # the bundle needs both
             # a chunk of 100 lasts 1.84 s under the threshold trigger: ask on
             # frames (10 Hz) for enough samples, in both cases alike
             'scheduler.trigger': 'frame',
             'scheduler.max_inference_rate_hz': 10.0})
    out = S.out_dir(ROOT / 'out' / 'bench')
    out.mkdir(parents=True, exist_ok=True)
    (out / 'remote.json').write_text(json.dumps({'default': rows, 'act': act_rows}))
    print(f'BENCH remote {summary(rows)} {summary(act_rows, "act_")}{S.tag()}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
