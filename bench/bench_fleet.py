"""
``BENCH fleet``: one ``vla_inference`` server for N = 1, 2, 4, 8 robots, batched vs one by one.

The robots are simulated in this process (fake sensors are enough): robot k publishes a
``RemoteFrame`` on ``/robot<k>/vla/remote/frame`` -- built once by the robot-side encoder
(:func:`remote_frame_msg`, 640x480 cameras resized to the bundle's input, S16LE audio), only
its stamp renewed -- and sends the next one as soon as its chunk is back on
``/robot<k>/vla/remote/chunk``: one request in flight per robot, as ``vla_policy`` keeps it,
so the server is saturated and the numbers are its capacity. For each N, two fresh servers:
batching (``max_batch`` 8, ``batch_window_ms`` 5) and one frame at a time (``max_batch`` 1,
the same server otherwise: same threads, same decode); at N = 8 ``ROUNDS`` rounds of both,
``batch_gain`` the median of the per-round ratios (min and max printed too).

Printed per N for the batching server: chunk rate per robot, p50/p95 frame -> chunk latency
(request stamp -> chunk received here); ``batch_gain`` = total chunk rate batching / one at a
time at N = 8. Bundles: ``act`` -- the ACT architecture at LeRobot's default size (ResNet-18,
d 512, 4+1 layers, chunk 100 at 50 Hz, 34 M parameters in the graph, random weights;
:func:`make_act_full_bundle`), the class of policy a fleet server exists for -- and
``default`` (models/default, 0.4 M parameters: per-frame decode and preprocessing dominate,
so batching gains little; reported with a ``default_`` prefix). ``needs`` = 1 / (horizon *
dt), the chunks per second a robot must get to never run out.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
import struct
import sys
import tempfile
import threading
import time

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))
os.environ.setdefault('FASTDDS_DEFAULT_PROFILES_FILE', str(ROOT / 'config/fastdds_shm.xml'))
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_DOMAIN_ID', str(100 + os.getpid() % 50))

import _smoke as S  # noqa: E402, I100
import numpy as np  # noqa: E402, I100

OUT = S.out_dir(ROOT / 'out' / 'bench' / 'fleet')
FLEET = S.pick((1, 2, 4, 8), (2,))
WARM_S, MEASURE_S = S.pick(3.0, 0.5), S.pick(6.0, 1.0)
ROUNDS = S.pick(3, 1)  # at N = 8: the batch gain is the median of the per-round ratios
COMMAND = 'pick up the red cube'


def act_bundle() -> Path:
    """Export (once) the LeRobot-default-size ACT bundle."""
    from vla_ros.model.reference_bundles import make_act_full_bundle
    d = OUT / 'act'
    if not (d / 'bundle.yaml').exists():
        make_act_full_bundle(d)
    return d


def request(bundle: Path):
    """Build the RemoteFrame a robot sends: a 640x480 frame shrunk by the robot-side encoder."""
    from bench_e2e import example_frame
    import dataclasses
    from vla_ros.core.bundle.manifest import load_bundle
    from vla_ros.core.remote.wire import camera_wires, RemoteConfig
    from vla_ros.ros.frame_msgs import remote_frame_msg

    m = load_bundle(bundle).manifest
    f = example_frame()
    f = dataclasses.replace(f, images={c: f.images['front'] for c in m.cameras},
                            present={**f.present, **{f'image/{c}': True for c in m.cameras}})
    return remote_frame_msg(f, model_id=m.model_id, wires=camera_wires(m),
                            config=RemoteConfig(), modalities=m.modalities), m


def stamped(msg) -> tuple[bytes, list[int]]:
    """
    Serialize a request once; return it and the offsets of its two stamps (patched per send).

    The simulated robots must cost the server's CPU as little as possible (they share it).
    """
    from rclpy.serialization import serialize_message
    from builtin_interfaces.msg import Time

    msg.header.stamp = msg.frame.header.stamp = Time(sec=0x7A7A7A7A, nanosec=0x5B5B5B5B)
    data = serialize_message(msg)
    key = struct.pack('<iI', 0x7A7A7A7A, 0x5B5B5B5B)
    offsets, i = [], data.find(key)
    while i >= 0:
        offsets.append(i)
        i = data.find(key, i + 1)
    assert len(offsets) == 2, offsets
    return data, offsets


def run_fleet(bundle: Path, n: int, max_batch: int, tmp: Path) -> dict:
    """One server, n closed-loop robots; chunk rate and latency over MEASURE_S."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from vla_ros.core.convert import stamp_to_ns
    from vla_ros.qos import REMOTE_CHUNK_QOS, REMOTE_FRAME_QOS
    from vla_ros.harness.procs import NodeProcess, ros_args, wait_until
    from vla_ros_msgs.msg import ActionChunk, RemoteFrame

    robots = [f'/robot{k + 1}' for k in range(n)]
    srv = NodeProcess('vla_inference', ros_args(params={
        'bundle': str(bundle), 'robots': robots, 'max_batch': max_batch,
        'batch_window_ms': 5.0}), log_path=tmp / f'srv_{n}_{max_batch}.log').start()
    data, offsets = stamped(request(bundle)[0])
    node = rclpy.create_node(f'fleet_robots_{n}_{max_batch}')
    lock = threading.Lock()
    got: list[tuple[float, float]] = []  # (received [s], latency [ms])
    pubs = {r: node.create_publisher(RemoteFrame, f'{r}/vla/remote/frame', REMOTE_FRAME_QOS)
            for r in robots}

    def send(robot: str) -> None:
        sec, nsec = divmod(time.time_ns(), 1_000_000_000)
        buf = bytearray(data)
        for off in offsets:
            struct.pack_into('<iI', buf, off, sec, nsec)
        pubs[robot].publish(bytes(buf))

    def on_chunk(robot: str, chunk: ActionChunk) -> None:
        now = time.time_ns()
        with lock:
            got.append((now * 1e-9, (now - stamp_to_ns(chunk.frame_stamp)) * 1e-6))
        send(robot)

    for r in robots:
        node.create_subscription(ActionChunk, f'{r}/vla/remote/chunk',
                                 lambda c, r=r: on_chunk(r, c), REMOTE_CHUNK_QOS)
    ex = SingleThreadedExecutor()
    ex.add_node(node)
    spin = threading.Thread(target=ex.spin, daemon=True)
    spin.start()
    try:
        ok = wait_until(lambda: all(p.get_subscription_count() for p in pubs.values()), 30.0)
        assert ok, srv.log_tail()
        time.sleep(0.5)
        for r in robots:
            send(r)
        t0 = time.time()
        while time.time() - t0 < 5.0 and not got:  # lost first request: start again
            time.sleep(0.5)
            if not got:
                for r in robots:
                    send(r)
        time.sleep(WARM_S)
        t_start = time.time()
        time.sleep(MEASURE_S)
        t_end = time.time()
    finally:
        ex.shutdown()
        node.destroy_node()
        srv.stop()
    with lock:
        window = [lat for t, lat in got if t_start <= t < t_end]
    if not window:
        raise RuntimeError(f'no chunks from vla_inference:\n{srv.log_tail()}')
    rate = len(window) / (t_end - t_start)
    return {'n': n, 'max_batch': max_batch, 'chunks_per_s': rate,
            'per_robot_hz': rate / n, 'p50_ms': float(np.median(window)),
            'p95_ms': float(np.percentile(window, 95))}


def measure(bundle: Path, tmp: Path) -> dict:
    """Batching for every N; at N = 8 ROUNDS rounds of (batching, one at a time)."""
    rows: dict = {}
    for n in FLEET[:-1]:
        rows[(n, 8)] = [run_fleet(bundle, n, 8, tmp)]
    for _ in range(ROUNDS):
        for mb in (8, 1):
            rows.setdefault((FLEET[-1], mb), []).append(run_fleet(bundle, FLEET[-1], mb, tmp))
    for runs in rows.values():
        for r in runs:
            print(json.dumps(r), file=sys.stderr)
    return rows


def keys(rows: dict, prefix: str = '') -> list[str]:
    def med(n: int, mb: int, key: str) -> float:
        return float(np.median([r[key] for r in rows[(n, mb)]]))
    out = []
    for n in FLEET:
        out += [f'{prefix}n{n}_hz={med(n, 8, "per_robot_hz"):.1f}',
                f'{prefix}n{n}_p50_ms={med(n, 8, "p50_ms"):.1f}',
                f'{prefix}n{n}_p95_ms={med(n, 8, "p95_ms"):.1f}']
    n = FLEET[-1]
    gains = [b['chunks_per_s'] / o['chunks_per_s'] for b, o in zip(rows[(n, 8)], rows[(n, 1)])]
    return out + [f'{prefix}batch_gain={float(np.median(gains)):.2f}',
                  f'{prefix}gain_min={min(gains):.2f}', f'{prefix}gain_max={max(gains):.2f}']


def main() -> int:
    import rclpy

    rclpy.init()
    try:
        with tempfile.TemporaryDirectory() as td:
            tmp = Path(td)
            # smoke: no ACT export (minutes); models/default in its place, measured once
            act = ROOT / 'models' / 'default' if S.SMOKE else act_bundle()
            _, m = request(act)
            rows = measure(act, tmp)
            default = rows if S.SMOKE else measure(ROOT / 'models' / 'default', tmp)
    finally:
        rclpy.try_shutdown()
    needs = 1.0 / (m.horizon * m.dt)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / 'fleet.json').write_text(json.dumps(
        {'act': [r for k in sorted(rows) for r in rows[k]],
         'default': [r for k in sorted(default) for r in default[k]], 'needs_hz': needs},
        indent=1))
    print(f'BENCH fleet bundle={act.name} ' + ' '.join(keys(rows)) + f' needs_hz={needs:.2f} '
          + ' '.join(keys(default, 'default_')) + S.tag())
    return 0


if __name__ == '__main__':
    sys.exit(main())
