"""BENCH image: 640x480 rgb8 sensor_msgs/Image -> 3x224x224 normalized float32 tensor.

Ours: ``convert.image_to_rgb8`` (a view of msg.data) + ``image_to_tensor`` (integer box
filter + bilinear, planar fused normalize). Baseline: the cv_bridge + cv2 path --
``imgmsg_to_cv2(msg, 'rgb8')`` (a faithful copy of ROS 2 cv_bridge's Python code, see
bench/_cv_bridge_ref.py; ROS 2 cv_bridge is not installable here), ``cv2.resize`` INTER_AREA,
``/255``, mean/std, CHW. Median of 300 runs each, interleaved.
"""

from __future__ import annotations

import pathlib
import sys
import time

import numpy as np
from sensor_msgs.msg import Image

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from _cv_bridge_ref import cv_bridge_to_tensor  # noqa: E402

from vla_ros.core.convert import image_to_rgb8  # noqa: E402
from vla_ros.core.image_preproc import image_to_tensor  # noqa: E402

RUNS = 300


def main() -> None:
    msg = Image(height=480, width=640, encoding='rgb8', step=640 * 3)
    rng = np.random.default_rng(0)
    msg.data = rng.integers(0, 256, (480, 640, 3), np.uint8).tobytes()
    ours_fn = lambda: image_to_tensor(image_to_rgb8(msg))  # noqa: E731
    base_fn = lambda: cv_bridge_to_tensor(msg)  # noqa: E731
    a, b = ours_fn(), base_fn()
    assert a.shape == b.shape == (3, 224, 224) and a.dtype == b.dtype == np.float32
    diff = float(np.abs(a - b).mean())
    ours, base = [], []
    for _ in range(RUNS):
        t = time.perf_counter()
        ours_fn()
        ours.append(time.perf_counter() - t)
        t = time.perf_counter()
        base_fn()
        base.append(time.perf_counter() - t)
    ms, base_ms = np.median(ours) * 1e3, np.median(base) * 1e3
    print(f'BENCH image ms={ms:.3f} cv_bridge_ms={base_ms:.3f} ratio={ms / base_ms:.2f} '
          f'mean_abs_diff={diff:.4f}')


if __name__ == '__main__':
    main()
