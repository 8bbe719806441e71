"""
BENCH e2e: camera header stamp -> chunk handed to the scheduler, vs its irreducible parts.

fake_sensors (640x480 rgb8, 30 Hz) -> vla_policy (random bundle, 1 intra-op thread) ->
JointTrajectory. Same run, same load:
- e2e_ms: median over chunks of (chunk handed to the scheduler - frame stamp), as reported by
  the node in ~/status (sync, preprocessing, inference, postprocessing and safety included);
- dds_ms: median (receipt - header stamp) of the same image topic in this process (bare DDS
  transfer + rclpy deserialization);
- infer_ms: median bare ``PolicyRuntime.infer`` on a 640x480 frame in this process;
- ratio = e2e / (dds + infer) (target <= 1.25);
- reaction_ms: median frame stamp -> first received JointTrajectory taken from that chunk
  (control-tick phase and DDS included);
- load1: 1-minute load average at start..end (the machine is shared).
"""

from __future__ import annotations

from pathlib import Path
import sys
import tempfile
import time

import _policy_graph as G
import _smoke as S
import numpy as np

MEASURE_S = S.pick(12.0, 1.0)
SETTLE_S = S.pick(2.0, 0.3)  # running before the measurement
INFER_RUNS = S.pick(60, 8)  # bare inference runs (the first 5 dropped)
IMAGE_SIZE = S.pick((224, 224), (64, 64))


def example_frame():
    """Build a 640x480 camera frame with every modality present (what fake_sensors sends)."""
    from vla_ros import constants as C
    from vla_ros.core.frame import Frame, TactileLayout

    names = (*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT)
    rng = np.random.default_rng(0)
    return Frame(
        stamp_ns=1, images={'front': rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)},
        audio=np.zeros(16000, np.float32), tactile=np.zeros(32, np.float32),
        tactile_layout=TactileLayout(('left_finger', 'right_finger'), ((4, 4, 1), (4, 4, 1))),
        joint_names=names, joint_positions=np.zeros(len(names)),
        joint_velocities=np.zeros(len(names)), command='pick up the red cube',
        present={'image/front': True, 'audio': True, 'tactile': True, 'joints': True,
                 'language': True})


def bare_infer_ms(bundle: Path, n: int = INFER_RUNS) -> float:
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime

    rt = PolicyRuntime.from_bundle(bundle, intra_op_threads=1)
    rt.set_command('pick up the red cube')
    frame = example_frame()
    times = []
    for i in range(n):
        t0 = time.monotonic()
        rt.infer(frame)
        if i >= 5:
            times.append((time.monotonic() - t0) * 1e3)
    return float(np.median(times))


def reactions_ms(chunks, traj) -> list[float]:
    out = []
    ti = 0
    for t_chunk, c in chunks:
        rows = np.array(c.values).reshape(c.horizon, len(c.action_names))[:, :6]
        f_ns = G.stamp_ns(c.frame_stamp)
        while ti < len(traj) and traj[ti][0] < t_chunk - 5_000_000:
            ti += 1
        for t_traj, m in traj[ti:ti + 20]:
            p = np.array(m.points[0].positions)
            if np.any(np.all(np.abs(rows - p) < 1e-9, axis=1)):
                out.append((t_traj - f_ns) * 1e-6)
                break
    return out


def main() -> int:
    from vla_ros.model.config import tiny_model_config

    G.rclpy.init()
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        bundle = S.random_bundle(tmp / 'bundle', tiny_model_config(image_size=IMAGE_SIZE))
        load0 = G.load_avg()
        infer_ms = bare_infer_ms(bundle)
        procs = G.start(tmp, bundle, {})
        rec = G.Recorder(images=True)
        try:
            if not rec.wait_state('idle', 60.0):
                print(procs[1].log_tail(), file=sys.stderr)
                return 1
            rec.cmd.publish(G.String(data='pick up the red cube'))
            rec.wait_state('running', 20.0)
            time.sleep(SETTLE_S)
            with rec.lock:
                for store in (rec.traj, rec.chunks, rec.status, rec.images):
                    store.clear()
            time.sleep(MEASURE_S)
            rec.recording = False
            infer_after = bare_infer_ms(bundle, max(INFER_RUNS // 2, 6))
            load1 = G.load_avg()
        finally:
            rec.close()
            for p in procs:
                p.stop()
    dds = [(t - G.stamp_ns(m.header.stamp)) * 1e-6 for t, m in rec.images]
    e2e = {s.chunks: s.e2e_latency_ms for _, s in rec.status if s.chunks}
    react = reactions_ms(rec.chunks, rec.traj)
    dds_ms, e2e_ms = float(np.median(dds)), float(np.median(list(e2e.values())))
    infer_ms = min(infer_ms, infer_after)
    ratio = e2e_ms / (dds_ms + infer_ms)
    print(f'BENCH e2e e2e_ms={e2e_ms:.2f} dds_ms={dds_ms:.2f} infer_ms={infer_ms:.2f} '
          f'ratio={ratio:.2f} reaction_ms={np.median(react):.2f} '
          f'e2e_p90_ms={np.percentile(list(e2e.values()), 90):.2f} chunks={len(e2e)} '
          f'reactions={len(react)} load1={load0:.2f}..{load1:.2f}{S.tag()}')
    G.rclpy.try_shutdown()
    return 0


if __name__ == '__main__':
    sys.exit(main())
