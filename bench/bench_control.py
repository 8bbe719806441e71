"""
BENCH control: control-tick jitter of vla_policy at 50 Hz while inference runs.

fake_sensors (640x480 rgb8 at 30 Hz) -> vla_policy (random bundle, inference_threshold =
horizon so a chunk is computed on every frame, 1 intra-op thread) -> JointTrajectory received
in this process. jitter = |receipt period - 20 ms| (what the controller sees: timer + DDS);
target p99 <= 2 ms; ratio = p99 / 2 ms. Same run, before the graph starts: baseline_p99_ms of
a bare rclpy 50 Hz timer beside a busy onnxruntime session (bench/_timer_probe.py), received
the same way, so a loaded shared machine shows in both numbers. load1 = 1-minute load average
(start..end). Prints one line. Extra vla_policy parameters as arguments, for experiments:
``python bench/bench_control.py gil_switch_interval_ms=0 executor=multi``.
"""

from __future__ import annotations

from pathlib import Path
import subprocess
import sys
import tempfile
import time

import _policy_graph as G
import _smoke as S
import numpy as np
import yaml

MEASURE_S = S.pick(15.0, 1.0)
PROBE_S = S.pick(9.0, 1.6)  # the first second is dropped
SETTLE_S = S.pick(2.0, 0.3)  # running before the measurement
IMAGE_SIZE = S.pick((224, 224), (64, 64))
HERE = Path(__file__).resolve().parent


def probe_jitter_ms(rec: G.Recorder, bundle: Path) -> np.ndarray:
    """Jitter of the bare-timer probe (first second dropped: start-up)."""
    subprocess.run([sys.executable, str(HERE / '_timer_probe.py'), str(bundle), str(PROBE_S)],
                   check=True, timeout=60)
    with rec.lock:
        t = np.array([ts for ts, _ in rec.probe], dtype=np.int64)
    t = t[t >= t[0] + 1_000_000_000] if len(t) else t
    return G.jitter_ms(t)


def measure(tmp: Path, bundle: Path, policy: dict, sensors: dict | None = None) -> dict:
    """
    Run fake_sensors + vla_policy on ``bundle`` with a command; return the jitter figures.

    The same-run baseline (a bare timer beside a busy session of the same bundle) first.
    """
    load0 = G.load_avg()
    rec = G.Recorder()
    base = probe_jitter_ms(rec, bundle)
    procs = G.start(tmp, bundle, policy, sensors)
    try:
        if not rec.wait_state('idle', 120.0):
            raise RuntimeError(procs[1].log_tail())
        rec.cmd.publish(G.String(data='pick up the red cube'))
        rec.wait_state('running', 20.0)
        time.sleep(SETTLE_S)
        with rec.lock:
            rec.traj.clear()
            rec.status.clear()
        time.sleep(MEASURE_S)
        rec.recording = False
        t = np.array([ts for ts, _ in rec.traj], dtype=np.float64) * 1e-9
        status = [s for _, s in rec.status]
        load1 = G.load_avg()
    finally:
        rec.close()
        for p in procs:
            p.stop()
    if len(t) < 2:  # e.g. a machine so loaded that no chunk came in time: no stream to time
        raise RuntimeError(f'vla_policy sent {len(t)} commands in {MEASURE_S:g} s (last state '
                           f'{status[-1].state_name if status else "?"}, load {load1:.1f})')
    jitter_ms = np.abs(np.diff(t) - 0.02) * 1e3
    return {'p99': float(np.percentile(jitter_ms, 99)), 'p50': float(np.median(jitter_ms)),
            'max': float(jitter_ms.max()), 'rate': (len(t) - 1) / (t[-1] - t[0]),
            'infer_hz': float(np.median([s.inference_rate_hz for s in status])),
            'infer_ms': float(np.median([s.inference_latency_ms for s in status])),
            'holds': status[-1].holds - status[0].holds if status else -1,
            'samples': len(t) - 1, 'base_p99': float(np.percentile(base, 99)),
            'base_p50': float(np.median(base)), 'load': f'{load0:.2f}..{load1:.2f}'}


def main() -> int:
    from vla_ros.model.config import tiny_model_config

    G.rclpy.init()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bundle = S.random_bundle(tmp / 'bundle', tiny_model_config(image_size=IMAGE_SIZE))
        extra = {k: yaml.safe_load(v) for k, v in (a.split('=', 1) for a in sys.argv[1:])}
        try:
            m = measure(tmp, bundle, {'scheduler.inference_threshold': 16, **extra})
        except RuntimeError as e:
            print(e, file=sys.stderr)
            return 1
    print(f'BENCH control jitter_p99_ms={m["p99"]:.2f} jitter_p50_ms={m["p50"]:.2f} '
          f'jitter_max_ms={m["max"]:.2f} rate_hz={m["rate"]:.2f} '
          f'inference_hz={m["infer_hz"]:.1f} infer_ms={m["infer_ms"]:.2f} '
          f'hold_ticks={m["holds"]} samples={m["samples"]} '
          f'baseline_p99_ms={m["base_p99"]:.2f} baseline_p50_ms={m["base_p50"]:.2f} '
          f'load1={m["load"]} ratio={m["p99"] / 2.0:.2f}{S.tag()}')
    G.rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
