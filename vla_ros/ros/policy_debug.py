"""
Optional ``~/debug_image`` of ``vla_policy``, for RViz/Foxglove.

The first camera image with the command, the predicted motion (per-action trajectories of the
chunk) and, when the node computes them, the per-modality weights (bars, top right) drawn on it.
"""

from __future__ import annotations

import cv2
import numpy as np
from rclpy.node import Node
from sensor_msgs.msg import Image
from vla_ros.qos import SENSOR_QOS
from vla_ros.ros.controller_outputs import to_time

SIZE = (320, 240)  # width, height [px]
COLORS = [(255, 80, 80), (80, 255, 80), (80, 80, 255), (255, 255, 80), (255, 80, 255),
          (80, 255, 255), (255, 255, 255)]


def render(image: np.ndarray | None, actions: np.ndarray, command: str,
           names, weights=None) -> np.ndarray:
    """
    Draw the debug image: RGB uint8 HxWx3.

    The image (or grey) with one polyline per action over the horizon, each normalized to the plot
    band, and the command text.
    """
    w, h = SIZE
    canvas = (cv2.resize(image, SIZE, interpolation=cv2.INTER_AREA) if image is not None
              else np.full((h, w, 3), 64, np.uint8)).copy()
    band_top, band_h = h // 2, h // 2 - 10
    H = actions.shape[0]
    xs = np.linspace(10, w - 10, max(H, 2))[:H]
    for j in range(actions.shape[1]):
        col = actions[:, j]
        span = float(np.ptp(col)) or 1.0
        ys = band_top + band_h * (1.0 - (col - col.min()) / span)
        pts = np.stack([xs, ys], axis=1).astype(np.int32)
        cv2.polylines(canvas, [pts], False, COLORS[j % len(COLORS)], 1, cv2.LINE_AA)
    cv2.putText(canvas, (command or '(no command)')[:40], (5, 15), cv2.FONT_HERSHEY_SIMPLEX,
                0.45, (255, 255, 255), 1, cv2.LINE_AA)
    if weights is not None:
        draw_weights(canvas, weights)
    return canvas


def draw_weights(canvas: np.ndarray, weights) -> None:
    """Bars of a :class:`~vla_ros.core.runtime.ModalityWeights`, top right (in place)."""
    w = canvas.shape[1]
    x0, bar = w - 110, 60
    for i, (name, v) in enumerate(zip(weights.modalities, weights.weights)):
        y = 28 + 12 * i
        cv2.putText(canvas, name.split('/')[-1][:7], (x0, y + 8), cv2.FONT_HERSHEY_SIMPLEX,
                    0.33, (255, 255, 255), 1, cv2.LINE_AA)
        cv2.rectangle(canvas, (x0 + 45, y), (x0 + 45 + int(bar * float(v)), y + 8),
                      COLORS[i % len(COLORS)], -1)


class DebugImage:
    """Publisher of ``~/debug_image`` (rgb8)."""

    def __init__(self, node: Node) -> None:
        self._pub = node.create_publisher(Image, '~/debug_image', SENSOR_QOS)

    def publish(self, frame, actions: np.ndarray, command: str, names, weights=None) -> None:
        cam = next(iter(frame.images), None)
        img = render(frame.image(cam) if cam else None, actions, command, names, weights)
        msg = Image()
        msg.header.stamp = to_time(frame.stamp_ns)
        msg.header.frame_id = 'vla_debug'
        msg.height, msg.width = img.shape[:2]
        msg.encoding, msg.step = 'rgb8', img.shape[1] * 3
        msg.data = img.tobytes()
        self._pub.publish(msg)
