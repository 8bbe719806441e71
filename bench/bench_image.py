"""
BENCH image: 640x480 rgb8 sensor_msgs/Image -> 3x224x224 normalized float32 tensor.

Ours: ``convert.image_to_rgb8`` (a view of msg.data) + ``image_to_tensor`` (integer box
filter + bilinear, planar fused normalize). Baseline: the best plain OpenCV path, measured in
the same run: a zero-copy view of msg.data, then the faster of two antialiased resizes --
``cv2.resize`` INTER_AREA straight to 224x224, or INTER_AREA by the integer factor 2
(320x240, OpenCV's fast area path) then INTER_LINEAR to 224x224 (the same filter as ours) --
then ``cv2.dnn.blobFromImageWithParams`` (per-channel mean and 1/std scale, CHW, float32, in
C++). INTER_LINEAR straight from 640x480 skips pixels (aliasing) and is not a candidate. Also
shown: the cv_bridge path (``imgmsg_to_cv2``, a faithful copy of ROS 2 cv_bridge's Python
code, bench/_cv_bridge_ref.py). Median of 300 runs each, interleaved; OpenCV keeps its
default thread count (shown).
"""

from __future__ import annotations

import pathlib
import sys
import time

import cv2
import numpy as np
from sensor_msgs.msg import Image

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
# I100: a module beside this script, importable once sys.path is set
from _cv_bridge_ref import cv_bridge_to_tensor  # noqa: E402, I100
import _smoke as S  # noqa: E402, I100

from vla_ros.core.convert import image_to_rgb8  # noqa: E402
from vla_ros.core.features.image import image_to_tensor  # noqa: E402

RUNS = S.pick(300, 5)
MEAN = np.array((0.485, 0.456, 0.406))
STD = np.array((0.229, 0.224, 0.225))


def opencv_paths(size=(224, 224)) -> dict:
    """Return the plain OpenCV candidates: msg -> 3 x H x W float32, normalized."""
    params = cv2.dnn.Image2BlobParams()
    params.scalefactor = (*(1.0 / (255.0 * STD)), 0.0)
    params.mean = (*(255.0 * MEAN), 0.0)
    params.size, params.ddepth, params.swapRB = size[::-1], cv2.CV_32F, False

    def view(msg) -> np.ndarray:
        return np.frombuffer(msg.data, np.uint8).reshape(msg.height, msg.width, 3)

    def area(msg) -> np.ndarray:
        small = cv2.resize(view(msg), size[::-1], interpolation=cv2.INTER_AREA)
        return cv2.dnn.blobFromImageWithParams(small, params)[0]

    def area2_linear(msg) -> np.ndarray:
        img = view(msg)
        half = cv2.resize(img, (img.shape[1] // 2, img.shape[0] // 2),
                          interpolation=cv2.INTER_AREA)
        small = cv2.resize(half, size[::-1], interpolation=cv2.INTER_LINEAR)
        return cv2.dnn.blobFromImageWithParams(small, params)[0]

    return {'area': area, 'area2_linear': area2_linear}


def main() -> None:
    msg = Image(height=480, width=640, encoding='rgb8', step=640 * 3)
    rng = np.random.default_rng(0)
    msg.data = rng.integers(0, 256, (480, 640, 3), np.uint8).tobytes()
    fns = {'ours': lambda: image_to_tensor(image_to_rgb8(msg)),
           'cv_bridge': lambda: cv_bridge_to_tensor(msg),
           **{k: (lambda f=f: f(msg)) for k, f in opencv_paths().items()}}
    outs = {k: f() for k, f in fns.items()}
    for k, x in outs.items():
        assert x.shape == (3, 224, 224) and x.dtype == np.float32, k
    times: dict[str, list[float]] = {k: [] for k in fns}
    for _ in range(RUNS):
        for k, f in fns.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    ms = {k: float(np.median(v)) * 1e3 for k, v in times.items()}
    best = min(opencv_paths(), key=ms.get)
    print(f"BENCH image ms={ms['ours']:.3f} opencv_ms={ms[best]:.3f} "
          f"ratio={ms['ours'] / ms[best]:.2f} opencv_path={best} "
          f"opencv_area_ms={ms['area']:.3f} opencv_area2_linear_ms={ms['area2_linear']:.3f} "
          f"cv_bridge_ms={ms['cv_bridge']:.3f} "
          f"mean_abs_diff={float(np.abs(outs['ours'] - outs[best]).mean()):.4f} "
          f'cv2_threads={cv2.getNumThreads()}{S.tag()}')


if __name__ == '__main__':
    main()
