"""
ROS message -> numpy conversions (ROS-free: messages are duck-typed).

Images become views of ``msg.data`` where the encoding allows (``np.frombuffer`` on the
message buffer, like cv_bridge's ``np.ndarray(..., buffer=msg.data)``): rgb8, rgba8 (channel
slice), bgr8/bgra8 (reversed-channel view), any ``step`` padding (strided view). Every bad
input raises a :class:`~vla_ros.errors.ConversionError` subclass saying what was expected.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np
from vla_ros.core.frame import TactileLayout
from vla_ros.errors import (ChannelMismatchError, ImageSizeError, LayoutError,
                            MessageTooLargeError, NonFiniteError, SampleRateError,
                            UnsupportedEncodingError)

MAX_IMAGE_SIDE = 16384
DEFAULT_MAX_BYTES = 64 * 1024 * 1024
NS_PER_S = 1_000_000_000

# encoding -> (numpy dtype, channels)
IMAGE_ENCODINGS: dict[str, tuple[str, int]] = {
    'rgb8': ('u1', 3), 'bgr8': ('u1', 3), 'rgba8': ('u1', 4), 'bgra8': ('u1', 4),
    'mono8': ('u1', 1), '8UC1': ('u1', 1), '8UC3': ('u1', 3),
    'mono16': ('u2', 1), '16UC1': ('u2', 1), '32FC1': ('f4', 1),
    'yuv422': ('u1', 2), 'uyvy': ('u1', 2), 'UYVY': ('u1', 2),
    'yuv422_yuy2': ('u1', 2), 'yuyv': ('u1', 2), 'YUYV': ('u1', 2),
}
_UYVY = {'yuv422', 'uyvy', 'UYVY'}
_YUYV = {'yuv422_yuy2', 'yuyv', 'YUYV'}


def stamp_to_ns(stamp) -> int:
    """builtin_interfaces/Time-like (sec, nanosec) -> integer ns."""
    sec, nanosec = stamp.sec, stamp.nanosec
    if sec.__class__ is int and nanosec.__class__ is int:  # ROS messages: skip int()
        return sec * NS_PER_S + nanosec
    return int(sec) * NS_PER_S + int(nanosec)


def check_size(msg, max_bytes: int = DEFAULT_MAX_BYTES, what: str = 'message') -> int:
    """Reject a message whose ``data`` exceeds ``max_bytes`` (cheap: before any conversion)."""
    n = len(msg.data)
    if n > max_bytes:
        raise MessageTooLargeError(f'{what}: {n} bytes exceeds the limit of {max_bytes} bytes')
    return n


def image_to_array(msg, *, max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """
    sensor_msgs/Image -> native array view: HxW (1 channel) or HxWxC, dtype of encoding.

    Honors ``step`` padding and ``is_bigendian``; zero-copy except for byte-swapping.
    """
    n = check_size(msg, max_bytes, 'image')
    enc = msg.encoding
    spec = IMAGE_ENCODINGS.get(enc)
    if spec is None:
        raise UnsupportedEncodingError(
            f'image encoding {enc!r} not supported; supported: {sorted(IMAGE_ENCODINGS)}')
    h, w, step = int(msg.height), int(msg.width), int(msg.step)
    if not (0 < h <= MAX_IMAGE_SIDE and 0 < w <= MAX_IMAGE_SIDE):
        raise ImageSizeError(f'image size {w}x{h} out of range (1..{MAX_IMAGE_SIDE})')
    dtype = np.dtype(spec[0])
    if dtype.itemsize > 1:
        dtype = dtype.newbyteorder('>' if msg.is_bigendian else '<')
    ch = spec[1]
    row = w * ch * dtype.itemsize
    if step < row:
        raise ImageSizeError(f'image step {step} < width*channels*bytes {row} ({enc}, {w}x{h})')
    if n < h * step:
        raise ImageSizeError(f'image data has {n} bytes, expected height*step = {h * step}')
    buf = np.frombuffer(msg.data, np.uint8, count=h * step)
    # rows of `step` bytes, the first `row` bytes of each are pixels: a strided view
    arr = buf.reshape(h, step)[:, :row].view(dtype).reshape(h, w, ch)
    if dtype.itemsize > 1 and not dtype.isnative:
        arr = arr.astype(dtype.newbyteorder('='))
    return arr[..., 0] if ch == 1 else arr


def image_to_rgb8(msg, *, max_bytes: int = DEFAULT_MAX_BYTES,
                  float_max: float = 1.0) -> np.ndarray:
    """
    Convert sensor_msgs/Image -> HxWx3 uint8 RGB.

    Views for rgb8/rgba8/bgr8/bgra8 (possibly negative channel stride); mono and YUV are converted
    (copy). 16-bit images are scaled by 1/256, float images by 255/``float_max`` (NaN -> 0).
    """
    arr = image_to_array(msg, max_bytes=max_bytes)
    enc = msg.encoding
    if enc in ('rgb8', '8UC3'):
        return arr
    if enc == 'bgr8':
        return arr[..., ::-1]
    if enc == 'rgba8':
        return arr[..., :3]
    if enc == 'bgra8':
        return arr[..., 2::-1]
    if enc in _UYVY or enc in _YUYV:
        if arr.shape[1] % 2:
            raise ImageSizeError(f'{enc} needs an even width, got {arr.shape[1]}')
        code = cv2.COLOR_YUV2RGB_UYVY if enc in _UYVY else cv2.COLOR_YUV2RGB_YUYV
        return cv2.cvtColor(np.ascontiguousarray(arr), code)
    if arr.dtype == np.uint16 or arr.dtype.kind == 'u' and arr.dtype.itemsize == 2:
        arr = (arr >> 8).astype(np.uint8)
    elif arr.dtype.kind == 'f':
        arr = np.nan_to_num(arr * (255.0 / float_max), nan=0.0, posinf=255.0, neginf=0.0)
        arr = np.clip(arr, 0, 255).astype(np.uint8)
    return cv2.cvtColor(np.ascontiguousarray(arr), cv2.COLOR_GRAY2RGB)


def compressed_to_rgb8(msg, *, max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """sensor_msgs/CompressedImage (jpeg/png) -> HxWx3 uint8 RGB."""
    n = check_size(msg, max_bytes, 'compressed image')
    fmt = str(msg.format).lower()
    if not any(f in fmt for f in ('jpeg', 'jpg', 'png')):
        raise UnsupportedEncodingError(f'compressed format {msg.format!r}: expected jpeg or png')
    if n == 0:
        raise ImageSizeError('compressed image has no data')
    bgr = cv2.imdecode(np.frombuffer(msg.data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise UnsupportedEncodingError(f'cannot decode {n}-byte {msg.format!r} image')
    h, w = bgr.shape[:2]
    if not (0 < h <= MAX_IMAGE_SIDE and 0 < w <= MAX_IMAGE_SIDE):
        raise ImageSizeError(f'decoded image size {w}x{h} out of range')
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)


# ----------------------------------------------------------------------------- audio
AUDIO_ENCODINGS = {'S16LE': ('<i2', 1.0 / 32768.0), 'S32LE': ('<i4', 1.0 / 2147483648.0),
                   'F32LE': ('<f4', None), 'U8': ('u1', None)}


def pcm_to_float(data, *, encoding: str, channels: int, sample_rate: int,
                 max_bytes: int = DEFAULT_MAX_BYTES) -> np.ndarray:
    """Interleaved PCM bytes -> [n, channels] float32 in [-1, 1] (F32LE: a view)."""
    if not sample_rate or sample_rate <= 0 or sample_rate > 1_000_000:
        raise SampleRateError(f'audio sample_rate must be in (0, 1e6] Hz, got {sample_rate}')
    spec = AUDIO_ENCODINGS.get(encoding)
    if spec is None:
        raise UnsupportedEncodingError(
            f'audio encoding {encoding!r} not supported; supported: {sorted(AUDIO_ENCODINGS)}')
    if len(data) > max_bytes:
        raise MessageTooLargeError(f'audio: {len(data)} bytes exceeds {max_bytes}')
    dtype, scale = np.dtype(spec[0]), spec[1]
    if channels <= 0:
        raise ChannelMismatchError(f'audio channels must be > 0, got {channels}')
    frame_bytes = channels * dtype.itemsize
    if len(data) % frame_bytes:
        raise ChannelMismatchError(
            f'audio data of {len(data)} bytes is not a multiple of channels*bytes = '
            f'{channels}*{dtype.itemsize} ({encoding})')
    raw = np.frombuffer(data, dtype).reshape(-1, channels)
    if encoding == 'U8':
        out = (raw.astype(np.float32) - 128.0) * (1.0 / 128.0)
    elif scale is None:
        out = raw.astype(np.float32, copy=False)
        if not np.isfinite(out).all():
            raise NonFiniteError('audio chunk contains NaN or Inf samples')
    else:
        out = raw.astype(np.float32) * np.float32(scale)
    return out


def audio_chunk_to_array(msg, *, max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[np.ndarray, int]:
    """vla_ros_msgs/AudioChunk -> ([n, channels] float32, sample_rate [Hz])."""
    return pcm_to_float(msg.data, encoding=msg.encoding, channels=int(msg.channels),
                        sample_rate=int(msg.sample_rate), max_bytes=max_bytes), \
        int(msg.sample_rate)


def audio_data_to_array(msg, *, sample_rate: int, channels: int, encoding: str = 'S16LE',
                        max_bytes: int = DEFAULT_MAX_BYTES) -> tuple[np.ndarray, int]:
    """
    Convert an audio_common_msgs/AudioData-style message -> ([n, channels] float32, sample_rate).

    Only ``data`` bytes are read, the format comes from parameters. Newer AudioData variants with
    typed arrays (``int16_data``, ``float32_data``) are read when ``data`` is absent.
    """
    data = getattr(msg, 'data', None)
    if data is None:
        for attr, enc in (('int16_data', 'S16LE'), ('float32_data', 'F32LE'),
                          ('int32_data', 'S32LE')):
            values = getattr(msg, attr, None)
            if values is not None and len(values):
                data, encoding = memoryview(np.asarray(values, AUDIO_ENCODINGS[enc][0])), enc
                break
        else:
            data = b''
    return pcm_to_float(data, encoding=encoding, channels=channels, sample_rate=sample_rate,
                        max_bytes=max_bytes), int(sample_rate)


# ----------------------------------------------------------------------------- tactile
def tactile_to_array(msg, *, max_values: int = 1 << 20) -> tuple[np.ndarray, TactileLayout]:
    """vla_ros_msgs/TactileArray -> (float32 values view, TactileLayout)."""
    names, shapes = [], []
    for pad in msg.pads:
        r, c, ch = int(pad.rows), int(pad.cols), int(pad.channels)
        if r <= 0 or c <= 0 or ch <= 0:
            raise LayoutError(f'tactile pad {pad.name!r} has shape {r}x{c}x{ch}; all must be > 0')
        names.append(str(pad.name))
        shapes.append((r, c, ch))
    layout = TactileLayout(tuple(names), tuple(shapes), str(msg.unit) or 'N')
    return _tactile_values(msg.values, layout, max_values), layout


def multiarray_to_tactile(msg, layout: TactileLayout, *,
                          max_values: int = 1 << 20) -> tuple[np.ndarray, TactileLayout]:
    """std_msgs/Float32MultiArray with the layout from parameters -> (values, layout)."""
    offset = int(getattr(getattr(msg, 'layout', None), 'data_offset', 0) or 0)
    data = msg.data
    if offset:
        data = np.asarray(data, np.float32)[offset:]
    return _tactile_values(data, layout, max_values), layout


def _tactile_values(data, layout: TactileLayout, max_values: int) -> np.ndarray:
    if len(data) > max_values:
        raise MessageTooLargeError(f'tactile: {len(data)} values exceeds {max_values}')
    values = np.frombuffer(data, np.float32) if isinstance(data, (bytes, memoryview)) or (
        hasattr(data, 'typecode') and data.typecode == 'f') else np.asarray(data, np.float32)
    if values.size != layout.size:
        raise LayoutError(f'tactile: {values.size} values but the pads {list(layout.names)} '
                          f'{list(layout.shapes)} need {layout.size}')
    if not np.isfinite(values).all():
        raise NonFiniteError('tactile values contain NaN or Inf')
    return values


def layout_from_params(names: Sequence[str], rows: Sequence[int], cols: Sequence[int],
                       channels: Sequence[int] | None = None, unit: str = 'N') -> TactileLayout:
    """Build a :class:`TactileLayout` from parallel parameter lists."""
    channels = list(channels) if channels else [1] * len(names)
    if not (len(names) == len(rows) == len(cols) == len(channels)):
        raise LayoutError(f'tactile layout lists differ in length: names={len(names)} '
                          f'rows={len(rows)} cols={len(cols)} channels={len(channels)}')
    return TactileLayout(tuple(names), tuple((int(r), int(c), int(ch))
                                             for r, c, ch in zip(rows, cols, channels)))


# ----------------------------------------------------------------------------- joints
def joint_state_to_arrays(msg) -> tuple[list[str], np.ndarray, np.ndarray | None]:
    """sensor_msgs/JointState -> (names, positions [J] float64, velocities [J] or None)."""
    names = list(msg.name)
    pos = np.asarray(msg.position, np.float64)
    if pos.shape != (len(names),):
        raise LayoutError(f'joint state: {len(names)} names but {pos.size} positions')
    vel = np.asarray(msg.velocity, np.float64) if len(msg.velocity) else None
    if vel is not None and vel.shape != (len(names),):
        raise LayoutError(f'joint state: {len(names)} names but {vel.size} velocities')
    if not np.isfinite(pos).all() or (vel is not None and not np.isfinite(vel).all()):
        raise NonFiniteError('joint state contains NaN or Inf')
    return names, pos, vel
