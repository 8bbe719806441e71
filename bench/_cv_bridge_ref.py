"""
Faithful copy of ROS 2 cv_bridge's Python ``imgmsg_to_cv2`` path: the ``bench_image`` baseline.

From vision_opencv ``cv_bridge/python/cv_bridge/core.py``.

ROS 2 cv_bridge cannot be installed here (and PyPI ``cv-bridge`` is an unofficial ROS 1 port),
so the bench uses this copy: same dtype/channel lookup, same ``np.ndarray(buffer=msg.data)``
over ``step``, the same ``np.ascontiguousarray`` crop copy and byte-swap check, and
``cvtColor2`` (C++ in cv_bridge) replaced by its cv2 equivalent for the encodings used.
"""

from __future__ import annotations

import sys

import cv2
import numpy as np

_CVTYPE = {'rgb8': ('uint8', 3), 'bgr8': ('uint8', 3), 'rgba8': ('uint8', 4),
           'bgra8': ('uint8', 4), 'mono8': ('uint8', 1), 'mono16': ('uint16', 1),
           '16UC1': ('uint16', 1), '32FC1': ('float32', 1)}
_CVT = {('bgr8', 'rgb8'): cv2.COLOR_BGR2RGB, ('rgb8', 'bgr8'): cv2.COLOR_RGB2BGR,
        ('rgba8', 'rgb8'): cv2.COLOR_RGBA2RGB, ('bgra8', 'rgb8'): cv2.COLOR_BGRA2RGB,
        ('mono8', 'rgb8'): cv2.COLOR_GRAY2RGB}


class CvBridgeError(TypeError):
    pass


def imgmsg_to_cv2(img_msg, desired_encoding: str = 'passthrough') -> np.ndarray:
    """Convert as ``cv_bridge.CvBridge().imgmsg_to_cv2`` does (ROS 2 rolling), step-aware."""
    try:
        dtype, n_channels = _CVTYPE[img_msg.encoding]
    except KeyError:
        raise CvBridgeError(f'Unrecognized image encoding [{img_msg.encoding}]') from None
    dtype = np.dtype(dtype)
    dtype = dtype.newbyteorder('>' if img_msg.is_bigendian else '<')
    img_buf = np.asarray(img_msg.data, dtype=dtype) if isinstance(img_msg.data, list) \
        else img_msg.data
    if n_channels == 1:
        im = np.ndarray(shape=(img_msg.height, int(img_msg.step / dtype.itemsize)),
                        dtype=dtype, buffer=img_buf)
        im = np.ascontiguousarray(im[:img_msg.height, :img_msg.width])
    else:
        im = np.ndarray(shape=(img_msg.height, int(img_msg.step / dtype.itemsize / n_channels),
                               n_channels), dtype=dtype, buffer=img_buf)
        im = np.ascontiguousarray(im[:img_msg.height, :img_msg.width, :])
    # If the byte order is different between the message and the system.
    if img_msg.is_bigendian == (sys.byteorder == 'little'):
        im = im.byteswap().view(im.dtype.newbyteorder())
    if desired_encoding == 'passthrough' or desired_encoding == img_msg.encoding:
        return im
    code = _CVT.get((img_msg.encoding, desired_encoding))
    if code is None:
        raise CvBridgeError(f'cannot convert {img_msg.encoding} to {desired_encoding}')
    return cv2.cvtColor(im, code)


def cv_bridge_to_tensor(img_msg, size=(224, 224), mean=(0.485, 0.456, 0.406),
                        std=(0.229, 0.224, 0.225)) -> np.ndarray:
    """Preprocess via cv_bridge + cv2: rgb8 -> resize -> /255 -> normalize -> CHW float32."""
    im = imgmsg_to_cv2(img_msg, desired_encoding='rgb8')
    im = cv2.resize(im, (size[1], size[0]), interpolation=cv2.INTER_AREA)
    x = im.astype(np.float32) / 255.0
    x = (x - np.asarray(mean, np.float32)) / np.asarray(std, np.float32)
    return np.ascontiguousarray(x.transpose(2, 0, 1))
