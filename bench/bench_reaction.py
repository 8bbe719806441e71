"""
``BENCH reaction``: how soon a chunk reflects a change in the scene, with the SHIPPED defaults.

fake_sensors (two 30 Hz 320x240 cameras, audio, tactile, joints) -> vla_policy with
``models/default`` -> this process, all over DDS. A change in the scene at time t is first
seen by the next camera frame; the reaction to it is the receipt time of the first
``~/action_chunk`` whose ``frame_stamp`` is >= t, minus t. It is sampled for t every 1 ms over
the measurement window (a change can happen at any time).

The measured condition sets no ``scheduler.*`` parameter: it is what a user gets
(``scheduler.trigger`` default, named as ``trigger=`` in the line). ``reaction_ratio`` = its
p50 / (frame period + median policy run() + one control tick), the bound of reacting at the
next frame (target <= 1.5). ``--trigger frame,threshold`` adds conditions with that trigger set
explicitly, in the same run, each printed as ``<trigger>_p50_ms`` and ``<trigger>_ratio``
(and ``speedup`` = p50 of the defaults / p50 of the first of them).
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import tempfile
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'bench'))
import _policy_graph as G  # noqa: E402, I100
import _smoke as S  # noqa: E402, I100
import numpy as np  # noqa: E402, I100
from vla_ros.harness.procs import NodeProcess, ros_args  # noqa: E402
from vla_ros.params.policy import POLICY_PARAMETERS  # noqa: E402, I100

CAMERA_HZ, CONTROL_HZ = 30.0, 50.0
DEFAULTS = 'default'  # the condition without any scheduler override
SHIPPED_TRIGGER = POLICY_PARAMETERS['scheduler.trigger'].default
WARMUP_S, MEASURE_S = S.pick(3.0, 0.5), S.pick(10.0, 1.5)
MIN_CHUNKS = S.pick(5, 1)  # fewer in the window: the condition failed
SENSORS = {'cameras': ['front', 'wrist'], 'image_width': 320, 'image_height': 240,
           'camera_rate_hz': CAMERA_HZ}
POLICY = {'cameras': ['front', 'wrist'], 'required_cameras': ['front', 'wrist'],
          'control_rate_hz': CONTROL_HZ}


def reactions_ms(chunks: list[tuple[int, int]], t0: int, t1: int) -> np.ndarray:
    """Reaction [ms] for changes at every 1 ms in [t0, t1) from (receipt, frame stamp) [ns]."""
    recv = np.array([r for r, _ in chunks], np.int64)
    stamp = np.array([s for _, s in chunks], np.int64)
    order = np.argsort(recv)
    recv, stamp = recv[order], stamp[order]
    # the first chunk received with frame stamp >= t is where the running maximum of the
    # stamps (in receipt order) first reaches t
    run_max = np.maximum.accumulate(stamp)
    ts = np.arange(t0, t1, 1_000_000, dtype=np.int64)
    idx = np.searchsorted(run_max, ts, side='left')
    ok = idx < len(recv)
    return (recv[idx[ok]] - ts[ok]) * 1e-6


def run_condition(tmp: pathlib.Path, trigger: str) -> tuple[np.ndarray, float]:
    """Return (reactions [ms], median policy run() [ms]) for one trigger (or the defaults)."""
    over = {} if trigger == DEFAULTS else {'scheduler.trigger': trigger}
    procs = [NodeProcess('fake_sensors', ros_args(params=SENSORS),
                         log_path=tmp / f'fs_{trigger}.log').start(),
             NodeProcess('vla_policy', ros_args(params={
                 **G.POLICY, **POLICY, 'bundle': str(ROOT / 'models' / 'default'), **over}),
                 log_path=tmp / f'vp_{trigger}.log').start()]
    rec = G.Recorder()
    try:
        if not rec.wait_state('idle', 60.0):
            raise RuntimeError(procs[1].log_tail())
        rec.cmd.publish(G.String(data='pick up the red cube'))
        time.sleep(WARMUP_S)
        with rec.lock:
            rec.chunks.clear(), rec.status.clear()
        t0 = time.time_ns()
        time.sleep(MEASURE_S)
        t1 = time.time_ns() - 1_000_000_000  # leave time for the last changes' chunks
        with rec.lock:
            chunks = [(r, G.stamp_ns(m.frame_stamp)) for r, m in rec.chunks]
            run = [m.inference_latency_ms for _, m in rec.status if m.state_name == 'running']
    finally:
        rec.close()
        for p in procs:
            p.stop()
    if len(chunks) < MIN_CHUNKS:
        raise RuntimeError(f'{trigger}: only {len(chunks)} chunks in {MEASURE_S} s')
    return reactions_ms(chunks, t0, t1), float(np.median(run)) if run else float('nan')


def main() -> int:
    """Run the shipped defaults (and any ``--trigger`` comparisons); print the summary line."""
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument('--trigger', default='',
                   help='comma-separated scheduler.trigger values to compare with the shipped '
                        'defaults (set explicitly); default: the defaults only')
    args = p.parse_args()
    extra = [t for t in args.trigger.split(',') if t]
    for t in extra:
        POLICY_PARAMETERS['scheduler.trigger'].check(t, label='--trigger')
    G.rclpy.init()
    out = {}
    with tempfile.TemporaryDirectory() as d:
        for trigger in (DEFAULTS, *extra):
            out[trigger] = run_condition(pathlib.Path(d), trigger)
    G.rclpy.try_shutdown()

    def bound(run_ms: float) -> float:
        return 1e3 / CAMERA_HZ + run_ms + 1e3 / CONTROL_HZ

    react, run_ms = out[DEFAULTS]
    p50, p90 = np.percentile(react, 50), np.percentile(react, 90)
    parts = [f'reaction_p50_ms={p50:.0f} reaction_p90_ms={p90:.0f} bound_ms={bound(run_ms):.0f} '
             f'reaction_ratio={p50 / bound(run_ms):.2f} trigger={SHIPPED_TRIGGER}']
    for t in extra:
        r, ms = out[t]
        t50 = np.percentile(r, 50)
        parts.append(f'{t}_p50_ms={t50:.0f} {t}_p90_ms={np.percentile(r, 90):.0f} '
                     f'{t}_ratio={t50 / bound(ms):.2f}')
    if extra:
        parts.append(f'speedup={np.percentile(out[extra[0]][0], 50) / p50:.1f}')
    print(f'BENCH reaction {" ".join(parts)} run_ms={run_ms:.1f} camera_hz={CAMERA_HZ:g} '
          f'load={G.load_avg():.1f}{S.tag()}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
