"""Image -> model tensor preprocessing (ROS-free; shared by the runtime and training).

Resize with OpenCV (INTER_AREA when shrinking), normalize with per-channel mean/std in one
fused affine step, and lay out as CHW float32 -- the layout every exported policy expects.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

from vla_ros.errors import ConversionError

IMAGENET_MEAN = (0.485, 0.456, 0.406)
IMAGENET_STD = (0.229, 0.224, 0.225)


def image_to_tensor(image: np.ndarray, *, size: tuple[int, int] = (224, 224),
                    mean: Sequence[float] = IMAGENET_MEAN,
                    std: Sequence[float] = IMAGENET_STD,
                    bgr: bool = False) -> np.ndarray:
    """Convert an RGB image to a normalized model tensor.

    Args:
        image: HxWx3 uint8 RGB (or HxW / HxWx1 mono, replicated to 3 channels).
        size: output (height, width) [px].
        mean, std: per-channel statistics in [0, 1] units, in RGB order.
        bgr: emit channels in BGR order (for models trained on OpenCV images).

    Returns:
        3 x height x width float32 array: ``(pixel / 255 - mean) / std``.
    """
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[..., 0]
    if image.ndim == 2:
        image = np.repeat(image[..., None], 3, axis=2)
    if image.ndim != 3 or image.shape[2] != 3:
        raise ConversionError(f'expected an HxWx3 image, got shape {image.shape}')
    h, w = size
    interp = cv2.INTER_AREA if image.shape[0] > h or image.shape[1] > w else cv2.INTER_LINEAR
    resized = cv2.resize(image, (w, h), interpolation=interp)
    if bgr:
        resized = resized[..., ::-1]
        mean, std = tuple(mean)[::-1], tuple(std)[::-1]
    scale = 1.0 / (255.0 * np.asarray(std, np.float32))
    offset = -np.asarray(mean, np.float32) / np.asarray(std, np.float32)
    out = resized.astype(np.float32) * scale + offset  # HxWx3, fused normalize
    return np.ascontiguousarray(out.transpose(2, 0, 1))
