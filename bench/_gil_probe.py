"""
Where late control ticks come from: a 50 Hz SCHED_FIFO ticker beside a busy policy graph.

``python bench/_gil_probe.py MODE BUNDLE [SECONDS] [images] [fifo_images]`` prints one JSON
line: the ticker's lateness (wake-up + GIL + a tick's worth of Python) p50 / p99 / max [ms].
MODE: ``none`` (the ticker alone), ``thread`` (the graph inferring back to back on two
640x480 frames in a thread of this process, as ``inference_worker: thread``) or ``process``
(the same in a child process, as ``inference_worker: process``). ``images``: another thread
deserialises two 30 Hz 640x480 rgb8 Images (what vla_policy's executor does);
``fifo_images``: that thread at SCHED_FIFO 40 (``executor_priority``). Needs root (or an rtprio
limit) for SCHED_FIFO. No DDS: only this process's scheduling and GIL.
"""

from __future__ import annotations

import dataclasses
import json
import multiprocessing as mp
import os
from pathlib import Path
import sys
import threading
import time

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
PERIOD_NS = 20_000_000
IMAGE_HZ = 60.0  # two cameras at 30 Hz
CONTROL_PRIORITY, EXECUTOR_PRIORITY = 50, 40


def busy(bundle: str, stop, ready) -> None:
    """Infer back to back on a two-camera 640x480 frame until ``stop``; ``ready`` after one."""
    from bench_e2e import example_frame
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime
    rt = PolicyRuntime.from_bundle(bundle, intra_op_threads=1)
    rt.set_command('pick up the red cube')
    f = example_frame()
    f = dataclasses.replace(f, images={'front': f.images['front'], 'wrist': f.images['front']},
                            present={**f.present, 'image/wrist': True})
    rt.infer(f)
    ready.set()
    while not stop.is_set():
        rt.infer(f)


def images(stop: threading.Event, fifo: bool) -> None:
    """Deserialise a 640x480 rgb8 Image at IMAGE_HZ (the executor's share of the GIL)."""
    from rclpy.serialization import deserialize_message, serialize_message
    from sensor_msgs.msg import Image
    if fifo:
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(EXECUTOR_PRIORITY))
    m = Image(height=480, width=640, encoding='rgb8', step=640 * 3)
    m.data = np.random.default_rng(0).integers(0, 255, 640 * 480 * 3, np.uint8).tobytes()
    raw = serialize_message(m)
    nxt = time.monotonic()
    while not stop.is_set():
        nxt += 1.0 / IMAGE_HZ
        time.sleep(max(0.0, nxt - time.monotonic()))
        deserialize_message(raw, Image)


def ticker(seconds: float, late_ms: list) -> None:
    """50 Hz on absolute deadlines at SCHED_FIFO; appends each tick's lateness [ms]."""
    os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(CONTROL_PRIORITY))
    wake = threading.Event()
    deadline = time.monotonic_ns() + PERIOD_NS
    end = deadline + int(seconds * 1e9)
    while deadline < end:
        left = deadline - time.monotonic_ns()
        if left > 0:
            wake.wait(left * 1e-9)
        late_ms.append((time.monotonic_ns() - deadline) / 1e6)
        [float(i) for i in range(50)]  # a tick's worth of Python
        deadline += PERIOD_NS


def main() -> int:
    mode, bundle = sys.argv[1], sys.argv[2]
    seconds = float(sys.argv[3]) if len(sys.argv) > 3 else 15.0
    flags = set(sys.argv[4:])
    sys.setswitchinterval(0.0005)  # vla_policy's gil_switch_interval_ms
    stop = threading.Event()
    ctx = mp.get_context('spawn')
    pstop, ready = ctx.Event(), ctx.Event()
    proc = None
    if mode == 'thread':
        threading.Thread(target=busy, args=(bundle, stop, ready), daemon=True).start()
    elif mode == 'process':
        proc = ctx.Process(target=busy, args=(bundle, pstop, ready), daemon=True)
        proc.start()
    if mode != 'none':
        ready.wait(600)  # the session opened and one chunk is done
    if 'images' in flags:
        threading.Thread(target=images, args=(stop, 'fifo_images' in flags), daemon=True).start()
    late: list[float] = []
    t = threading.Thread(target=ticker, args=(seconds, late))
    t.start()
    t.join()
    stop.set()
    pstop.set()
    if proc is not None:
        proc.join(30)
    a = np.array(late)
    print(json.dumps({'mode': mode, 'flags': sorted(flags),
                      'p50_ms': round(float(np.median(a)), 3),
                      'p99_ms': round(float(np.percentile(a, 99)), 3),
                      'max_ms': round(float(a.max()), 2), 'ticks': len(a),
                      'load1': round(os.getloadavg()[0], 2)}), flush=True)
    os._exit(0)  # a busy thread may be inside onnxruntime: no interpreter teardown under it


if __name__ == '__main__':
    sys.exit(main())
