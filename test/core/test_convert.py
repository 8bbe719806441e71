"""Message -> numpy conversions on real message classes; one test per bad-input class."""

from __future__ import annotations

import cv2
import numpy as np
import pytest
from sensor_msgs.msg import CompressedImage, Image, JointState
from std_msgs.msg import Float32MultiArray
from vla_ros.core import convert
from vla_ros.core.features.image import image_to_tensor
from vla_ros.errors import (ChannelMismatchError, ImageSizeError, LayoutError,
                            MessageTooLargeError, NonFiniteError, SampleRateError,
                            UnsupportedEncodingError)
from vla_ros_msgs.msg import AudioChunk, TactileArray, TactilePad

RNG = np.random.default_rng(0)
RGB = RNG.integers(0, 256, (6, 8, 3), np.uint8)


def image_msg(arr: np.ndarray, encoding: str, *, pad: int = 0, bigendian: bool = False):
    msg = Image()
    h, w = arr.shape[:2]
    row = arr.reshape(h, -1).view(np.uint8)
    msg.height, msg.width, msg.encoding = h, w, encoding
    msg.is_bigendian = int(bigendian)
    msg.step = row.shape[1] + pad
    data = np.zeros((h, msg.step), np.uint8)
    data[:, :row.shape[1]] = row
    msg.data = data.tobytes()
    return msg


@pytest.mark.parametrize('encoding, make', [
    ('rgb8', lambda a: a),
    ('bgr8', lambda a: np.ascontiguousarray(a[..., ::-1])),
    ('rgba8', lambda a: np.dstack([a, np.full(a.shape[:2], 7, np.uint8)])),
    ('bgra8', lambda a: np.dstack([a[..., ::-1], np.full(a.shape[:2], 7, np.uint8)])),
])
@pytest.mark.parametrize('pad', [0, 5])
def test_color_encodings_are_views_and_rgb(encoding, make, pad):
    msg = image_msg(make(RGB), encoding, pad=pad)
    out = convert.image_to_rgb8(msg)
    np.testing.assert_array_equal(out, RGB)
    assert not out.flags['OWNDATA'], 'expected a view of msg.data'
    np.testing.assert_allclose(image_to_tensor(out, size=(4, 4)),
                               image_to_tensor(RGB.copy(), size=(4, 4)), atol=1e-6)


def test_mono_16bit_bigendian_and_float():
    mono = RNG.integers(0, 256, (6, 8), np.uint8)
    np.testing.assert_array_equal(convert.image_to_rgb8(image_msg(mono, 'mono8'))[..., 1], mono)
    depth = RNG.integers(0, 65535, (6, 8)).astype(np.uint16)
    for enc in ('mono16', '16UC1'):
        for big in (False, True):
            arr = depth.astype('>u2' if big else '<u2')
            msg = image_msg(arr, enc, bigendian=big, pad=3 if not big else 0)
            np.testing.assert_array_equal(convert.image_to_array(msg), depth)
            np.testing.assert_array_equal(convert.image_to_rgb8(msg)[..., 0], depth >> 8)
    f = np.linspace(0, 1, 48, dtype=np.float32).reshape(6, 8)
    f[0, 0] = np.nan
    out = convert.image_to_rgb8(image_msg(f, '32FC1'))
    assert out[0, 0, 0] == 0 and out[-1, -1, 0] == 255
    np.testing.assert_array_equal(convert.image_to_array(image_msg(f, '32FC1'))[1:], f[1:])


@pytest.mark.parametrize('encoding, code', [('yuv422', cv2.COLOR_RGB2YUV_UYVY),
                                            ('yuv422_yuy2', cv2.COLOR_RGB2YUV_YUY2)])
def test_yuv422(encoding, code):
    flat = np.full((6, 8, 3), (200, 40, 90), np.uint8)
    packed = cv2.cvtColor(flat, code)  # HxWx2 UYVY / YUY2 as a camera driver would send
    out = convert.image_to_rgb8(image_msg(packed, encoding))
    assert out.shape == (6, 8, 3)
    np.testing.assert_allclose(out.astype(int), flat.astype(int), atol=4)


def test_compressed_jpeg_png():
    big = np.kron(RGB, np.ones((4, 4, 1), np.uint8))
    for fmt, ext, tol in (('png', '.png', 0), ('jpeg', '.jpg', 40)):
        msg = CompressedImage()
        msg.format = f'rgb8; {fmt} compressed bgr8'
        msg.data = cv2.imencode(ext, cv2.cvtColor(big, cv2.COLOR_RGB2BGR))[1].tobytes()
        out = convert.compressed_to_rgb8(msg)
        assert out.shape == big.shape
        assert np.abs(out.astype(int) - big.astype(int)).mean() <= tol + 1e-9


def test_audio_chunk_encodings_and_adapter():
    x = np.array([[0.5, -0.5], [0.25, 0.0]], np.float32)
    for enc, dtype, scale in (('S16LE', '<i2', 32768), ('S32LE', '<i4', 2 ** 31),
                              ('F32LE', '<f4', 1)):
        msg = AudioChunk(sample_rate=16000, channels=2, encoding=enc)
        msg.data = (x * scale).astype(dtype).tobytes()
        samples, rate = convert.audio_chunk_to_array(msg)
        assert rate == 16000 and samples.shape == (2, 2) and samples.dtype == np.float32
        np.testing.assert_allclose(samples, x, atol=1e-4)

    class AudioData:  # audio_common_msgs/AudioData: bytes only, format from parameters
        data = (x[:, 0] * 32768).astype('<i2').tobytes()
    samples, rate = convert.audio_data_to_array(AudioData(), sample_rate=8000, channels=1)
    assert rate == 8000
    np.testing.assert_allclose(samples[:, 0], x[:, 0], atol=1e-4)


def test_tactile_and_multiarray_adapter_and_joint_state():
    msg = TactileArray(unit='N')
    msg.pads = [TactilePad(name='l', rows=2, cols=2, channels=1),
                TactilePad(name='r', rows=1, cols=2, channels=3)]
    msg.values = np.arange(10, dtype=np.float32).tolist()
    values, layout = convert.tactile_to_array(msg)
    assert layout.names == ('l', 'r') and layout.shapes == ((2, 2, 1), (1, 2, 3))
    np.testing.assert_array_equal(values, np.arange(10))
    arr = Float32MultiArray()
    arr.data = np.arange(10, dtype=np.float32).tolist()
    lay = convert.layout_from_params(['l', 'r'], [2, 1], [2, 2], [1, 3])
    values2, _ = convert.multiarray_to_tactile(arr, lay)
    np.testing.assert_array_equal(values2, values)
    js = JointState(name=['a', 'b'], position=[1.0, 2.0])
    names, pos, vel = convert.joint_state_to_arrays(js)
    assert names == ['a', 'b'] and vel is None and pos.tolist() == [1.0, 2.0]


# ------------------------------------------------------------- one test per bad-input class
def test_bad_unknown_encoding():
    with pytest.raises(UnsupportedEncodingError, match='bayer_rggb8'):
        convert.image_to_rgb8(image_msg(RGB, 'bayer_rggb8'))
    msg = CompressedImage(format='webp')
    msg.data = b'1234'
    with pytest.raises(UnsupportedEncodingError, match='webp'):
        convert.compressed_to_rgb8(msg)
    msg.format, msg.data = 'jpeg', b'not a jpeg at all'
    with pytest.raises(UnsupportedEncodingError, match='decode'):
        convert.compressed_to_rgb8(msg)


def test_bad_data_shorter_than_height_times_step():
    msg = image_msg(RGB, 'rgb8')
    msg.data = bytes(msg.data)[:-1]
    with pytest.raises(ImageSizeError, match='height\\*step'):
        convert.image_to_rgb8(msg)
    msg = image_msg(RGB, 'rgb8')
    msg.step = 10  # < width * 3
    with pytest.raises(ImageSizeError, match='step'):
        convert.image_to_rgb8(msg)


@pytest.mark.parametrize('h, w', [(0, 8), (6, 0), (20000, 8), (6, 16385)])
def test_bad_zero_or_absurd_size(h, w):
    msg = image_msg(RGB, 'rgb8')
    msg.height, msg.width = h, w
    with pytest.raises(ImageSizeError, match='out of range'):
        convert.image_to_rgb8(msg)


def test_bad_nan_inf_in_audio_and_tactile():
    msg = AudioChunk(sample_rate=16000, channels=1, encoding='F32LE')
    msg.data = np.array([0.0, np.nan, np.inf], '<f4').tobytes()
    with pytest.raises(NonFiniteError):
        convert.audio_chunk_to_array(msg)
    tac = TactileArray(pads=[TactilePad(name='l', rows=1, cols=2, channels=1)])
    tac.values = [1.0, float('inf')]
    with pytest.raises(NonFiniteError):
        convert.tactile_to_array(tac)


def test_bad_sample_rate_zero():
    msg = AudioChunk(sample_rate=0, channels=1, encoding='S16LE')
    msg.data = b'\x00\x00'
    with pytest.raises(SampleRateError, match='got 0'):
        convert.audio_chunk_to_array(msg)


def test_bad_channel_count_mismatch():
    msg = AudioChunk(sample_rate=16000, channels=3, encoding='S16LE')
    msg.data = b'\x00' * 8  # 4 samples do not split into 3 channels
    with pytest.raises(ChannelMismatchError, match='multiple'):
        convert.audio_chunk_to_array(msg)
    msg.channels = 0
    with pytest.raises(ChannelMismatchError):
        convert.audio_chunk_to_array(msg)
    tac = TactileArray(pads=[TactilePad(name='l', rows=2, cols=2, channels=1)])
    tac.values = [1.0, 2.0, 3.0]
    with pytest.raises(LayoutError, match='need 4'):
        convert.tactile_to_array(tac)


def test_bad_joint_state_lengths():
    with pytest.raises(LayoutError, match='2 names but 1 positions'):
        convert.joint_state_to_arrays(JointState(name=['a', 'b'], position=[1.0]))
    with pytest.raises(NonFiniteError):
        convert.joint_state_to_arrays(JointState(name=['a'], position=[float('nan')]))


def test_bad_100mb_message_rejected_by_size_before_conversion():
    msg = Image(height=1, width=1, step=3, encoding='bayer_is_never_looked_at')
    msg.data = bytes(100 * 1024 * 1024)
    with pytest.raises(MessageTooLargeError, match='104857600 bytes'):
        convert.image_to_rgb8(msg, max_bytes=64 * 1024 * 1024)
