"""
Property-based message generators (hypothesis) for the fuzz bench.

They cover every topic that ``vla_policy`` and ``multimodal_sync`` subscribe to.

Each strategy draws the *shape* of a message (encoding, sizes, steps, stamp kind, special
values, a payload seed) and builds the ROS message from it; bulk payloads (image bytes, audio,
taxels, long joint lists) come from numpy seeded by the drawn seed, so arrays up to the size
cap stay cheap to generate. Stamps are resolved at publish time against the sender's clock
(:meth:`FuzzMsg.stamp`), so "now", "1 h ago" and "in 1 s" mean what they say.
"""

from __future__ import annotations

import array
from dataclasses import dataclass

from hypothesis import strategies as st
import numpy as np
from sensor_msgs.msg import Image, JointState
from std_msgs.msg import Bool, String
from vla_ros import constants as C
from vla_ros_msgs.msg import AudioChunk, TactileArray, TactilePad

NS = 1_000_000_000
ENCODINGS = ('rgb8', 'bgr8', 'rgba8', 'bgra8', 'rgb16', 'bgr16', 'rgba16', 'mono8', 'mono16',
             '8UC1', '8UC3', '8UC4', '16UC1', '16SC1', '32FC1', '64FC1', 'bayer_rggb8',
             'bayer_bggr16', 'yuv422', 'yuv422_yuy2', 'nv21', 'nv24', 'jpeg', '')
AUDIO_ENCODINGS = ('S16LE', 'S32LE', 'F32LE', 'U8', 'S16BE', 'f32le', '')
# (kind, offset [s]); 'now' offsets are small jitter, the others are the outliers of issue 9
STAMP_KINDS = ('now', 'now', 'now', 'zero', 'past', 'future', 'int32_max', 'int32_min',
               'bad_nanosec')
SPECIAL_F64 = (float('nan'), float('inf'), -float('inf'), 1e39, -1e39, 1.7e308, -1.7e308,
               5e-324, 0.0, -0.0)
SPECIAL_F32 = (float('nan'), float('inf'), -float('inf'), 3e38, -3e38, 3.4028235e38, 1e-45)
CONTROL_CHARS = ''.join(chr(c) for c in (*range(0, 32), 127))


@dataclass
class FuzzMsg:
    """One generated message, its topic, and how to stamp it when it is sent."""

    topic: str
    msg: object
    kind: str          # short label for counting: image / audio / tactile / joints / ...
    stamp_kind: str = 'now'
    stamp_offset_s: float = 0.0

    def stamp(self, now_ns: int) -> None:
        """Set ``msg.header.stamp`` from ``now_ns`` (the sender's clock) and the stamp kind."""
        header = getattr(self.msg, 'header', None)
        if header is None:
            return
        k, off = self.stamp_kind, self.stamp_offset_s
        if k == 'zero':
            sec, nsec = 0, 0
        elif k == 'int32_max':
            sec, nsec = 2 ** 31 - 1, 999_999_999
        elif k == 'int32_min':
            sec, nsec = -2 ** 31, 0
        elif k == 'bad_nanosec':  # nanosec beyond one second: a malformed Time
            sec, nsec = now_ns // NS, 2 ** 32 - 1
        else:
            t = max(0, now_ns + int(off * NS))
            sec, nsec = divmod(t, NS)
            sec = min(sec, 2 ** 31 - 1)
        header.stamp.sec, header.stamp.nanosec = int(sec), int(nsec)


@st.composite
def stamps(draw) -> tuple[str, float]:
    kind = draw(st.sampled_from(STAMP_KINDS))
    if kind == 'past':
        off = -draw(st.sampled_from((0.3, 1.1, 1.5, 5.0, 60.0, 3600.0, 1e6)))
    elif kind == 'future':
        off = draw(st.sampled_from((0.3, 1.1, 1.5, 5.0, 60.0, 3600.0, 1e6)))
    else:
        off = draw(st.floats(-0.05, 0.0))
    return kind, off


def hostile_text(max_size: int = 40) -> st.SearchStrategy[str]:
    """Unicode (any plane, no lone surrogates), control characters, empty."""
    return st.one_of(st.text(max_size=max_size),
                     st.text(alphabet=st.sampled_from(CONTROL_CHARS), max_size=8),
                     st.sampled_from(('', 'front', 'rgb8', '\x00', 'ä' * 3, '😀', ' ' * 5)))


def _payload(n_bytes: int, fill: str, seed: int) -> bytes:
    if n_bytes <= 0:
        return b''
    if fill == 'zeros':
        return bytes(n_bytes)
    if fill == 'ones':
        return b'\xff' * n_bytes
    return np.random.default_rng(seed).integers(0, 256, n_bytes, dtype=np.uint8).tobytes()


def _floats(n: int, dtype, special: tuple, fill: str, seed: int) -> np.ndarray:
    """
    Draw ``n`` values.

    Normal draws, all one special value, or normal values with specials sprinkled in.
    """
    rng = np.random.default_rng(seed)
    x = rng.normal(0.0, 1.0, n).astype(dtype)
    if n and fill == 'special_all':
        x[:] = special[seed % len(special)]
    elif n and fill == 'special_some':
        idx = rng.integers(0, n, max(1, n // 8))
        x[idx] = np.array(special, dtype)[rng.integers(0, len(special), len(idx))]
    elif n and fill == 'large':
        x *= dtype(1e6)
    return x


@st.composite
def images(draw, topics: tuple[str, ...], cap: int) -> FuzzMsg:
    """
    Draw an image message.

    Images: legal and illegal encodings, sizes up to the byte cap, steps and data lengths
    that fit or not, big-endian flag, unicode frame ids.
    """
    msg = Image()
    enc = draw(st.one_of(st.sampled_from(ENCODINGS), hostile_text(12)))
    dims = st.one_of(st.sampled_from((0, 1, 2, 3, 63, 64, 480, 640, 2 ** 16, 2 ** 32 - 1)),
                     st.integers(0, 4096))
    h, w = draw(dims), draw(dims)
    bpp = draw(st.sampled_from((1, 2, 3, 4, 6, 8)))
    step = draw(st.one_of(st.just(w * bpp), st.just(w * bpp + 64), st.just(0),
                          st.integers(0, 2 ** 32 - 1)))
    msg.height, msg.width, msg.encoding = h, w, enc
    msg.step = min(step, 2 ** 32 - 1)
    msg.is_bigendian = draw(st.integers(0, 255))
    exact = h * msg.step
    size_kind = draw(st.sampled_from(('exact',) * 6 + ('short', 'long', 'empty', 'random') * 2
                                     + ('cap', 'over_cap')))
    n = {'exact': exact, 'short': exact - 1, 'long': exact + 7, 'empty': 0, 'cap': cap,
         'over_cap': cap + 1, 'random': draw(st.integers(0, 65536))}[size_kind]
    n = max(0, min(n, int(cap * 1.1)))  # anything larger than this is only slower to send
    fill = draw(st.sampled_from(('random', 'zeros', 'ones')))
    msg.data = _payload(n, fill, draw(st.integers(0, 2 ** 32 - 1)))
    msg.header.frame_id = draw(hostile_text())
    kind, off = draw(stamps())
    return FuzzMsg(draw(st.sampled_from(topics)), msg, 'image', kind, off)


@st.composite
def audio_chunks(draw, cap: int) -> FuzzMsg:
    """
    Draw an audio chunk.

    Audio: sample rates from 0 and 1 Hz up, channel counts, encodings, odd byte counts,
    float payloads with NaN/Inf/3e38.
    """
    msg = AudioChunk()
    msg.sample_rate = draw(st.one_of(st.sampled_from((0, 1, 2, 7, 8000, 16000, 44100, 192000,
                                                      2 ** 32 - 1)), st.integers(0, 2 ** 20)))
    msg.channels = draw(st.one_of(st.sampled_from((0, 1, 2, 3, 65535)), st.integers(0, 64)))
    msg.encoding = draw(st.one_of(st.sampled_from(AUDIO_ENCODINGS), hostile_text(8)))
    n_samples = draw(st.one_of(st.sampled_from((0, 1, 320, 2000, 6000, 16000)),
                               st.integers(0, cap // 4 + 16)))
    n_samples = min(n_samples, cap // 4 + 16)
    fill = draw(st.sampled_from(('random', 'special_all', 'special_some', 'large', 'bytes')))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    if fill == 'bytes':
        data = _payload(n_samples * 2 + draw(st.integers(0, 3)), 'random', seed)
    else:
        data = _floats(n_samples, np.float32, SPECIAL_F32, fill, seed).astype('<f4').tobytes()
    msg.data = data
    msg.header.frame_id = draw(hostile_text())
    kind, off = draw(stamps())
    return FuzzMsg(C.AUDIO_TOPIC, msg, 'audio', kind, off)


@st.composite
def tactile_arrays(draw, cap: int) -> FuzzMsg:
    """
    Draw a tactile array.

    Tactile: layouts other than the configured one (pad names, counts, shapes), values that
    do not fit the layout, NaN/Inf/3e38.
    """
    msg = TactileArray()
    same = draw(st.booleans())
    if same:  # the configured layout, so only the values are hostile
        pads = [(n, r, c, 1) for n, r, c in C.DEFAULT_TACTILE_PADS]
    else:
        dim = st.one_of(st.sampled_from((0, 1, 3, 4, 5, 16, 2 ** 32 - 1)), st.integers(0, 64))
        pads = draw(st.lists(st.tuples(hostile_text(16), dim, dim,
                                       st.sampled_from((0, 1, 3, 2 ** 32 - 1))), max_size=4))
    msg.pads = [TactilePad(name=n, frame_id='pad', rows=r, cols=c, channels=ch)
                for n, r, c, ch in pads]
    want = sum(r * c * ch for _, r, c, ch in pads)
    count = draw(st.sampled_from(('match', 'match', 'short', 'long', 'empty', 'big')))
    n = {'match': want, 'short': want - 1, 'long': want + 1, 'empty': 0,
         'big': draw(st.integers(0, cap // 4))}[count]
    n = max(0, min(n, cap // 4))
    fill = draw(st.sampled_from(('random', 'special_all', 'special_some', 'large')))
    vals = _floats(n, np.float32, SPECIAL_F32, fill, draw(st.integers(0, 2 ** 32 - 1)))
    msg.values = array.array('f', vals.astype(np.float32).tobytes())
    msg.unit = draw(hostile_text(8))
    kind, off = draw(stamps())
    return FuzzMsg(C.TACTILE_TOPIC, msg, 'tactile', kind, off)


@st.composite
def joint_states(draw, joint_names: tuple[str, ...], max_joints: int) -> FuzzMsg:
    """
    Draw a joint state message.

    Joint states: names duplicated, missing, extra, reordered, unicode; arrays of other
    lengths; 1e39 / 1.7e308 / NaN / Inf positions; up to ``max_joints`` names.
    """
    names = list(joint_names)
    layout = draw(st.sampled_from(('valid', 'shuffled', 'duplicate', 'missing', 'extra',
                                   'unicode', 'empty', 'many')))
    rng = np.random.default_rng(draw(st.integers(0, 2 ** 32 - 1)))
    if layout == 'shuffled':
        rng.shuffle(names)
    elif layout == 'duplicate':
        names.append(names[int(rng.integers(0, len(names)))])
    elif layout == 'missing':
        names.pop(int(rng.integers(0, len(names))))
    elif layout == 'extra':
        names += [f'extra_{i}' for i in range(int(rng.integers(1, 5)))]
    elif layout == 'unicode':
        names = draw(st.lists(hostile_text(20), max_size=10))
    elif layout == 'empty':
        names = []
    elif layout == 'many':
        names = names + [f'j{i}' for i in range(draw(st.integers(0, max_joints)))]
    n = len(names)
    lengths = draw(st.sampled_from(('match', 'match', 'short', 'long', 'no_velocity')))
    m = {'match': n, 'short': max(0, n - 1), 'long': n + 1, 'no_velocity': n}[lengths]
    fill = draw(st.sampled_from(('random', 'special_all', 'special_some', 'large')))
    seed = draw(st.integers(0, 2 ** 32 - 1))
    msg = JointState()
    msg.name = names
    msg.position = array.array('d', _floats(m, np.float64, SPECIAL_F64, fill, seed).tobytes())
    if lengths != 'no_velocity':
        vel = _floats(m, np.float64, SPECIAL_F64, fill, seed + 1)
        msg.velocity = array.array('d', vel.tobytes())
    msg.header.frame_id = draw(hostile_text())
    kind, off = draw(stamps())
    return FuzzMsg(C.JOINT_STATES_TOPIC, msg, 'joints', kind, off)


@st.composite
def commands(draw, max_chars: int) -> FuzzMsg:
    """
    Draw a language command.

    Language commands: empty, stop words, unicode, control characters, just over the
    length limit, 1 MB.
    """
    text = draw(st.one_of(
        st.sampled_from(('', 'stop', 'STOP!', ' ', 'pick up the red cube\n')),
        hostile_text(80),
        st.builds(lambda c, n: c * n, st.sampled_from(('a', 'ä', '😀', ' ')),
                  st.sampled_from((max_chars, max_chars + 1, 4 * max_chars, 1 << 20)))))
    return FuzzMsg(C.COMMAND_TOPIC, String(data=text), 'command')


def messages(*, cameras: tuple[str, ...], joint_names: tuple[str, ...], cap: int,
             max_joints: int = 20000, max_command_chars: int = 200,
             command_weight: int = 1) -> st.SearchStrategy[FuzzMsg]:
    """
    One fuzz message on any subscribed topic (sensor topics weighted over commands).

    ``cap``: the nodes' ``max_message_bytes``; payloads go up to 1.1x of it.
    """
    topics = tuple(C.camera_topic(c) for c in cameras)
    sensors = [images(topics, cap), audio_chunks(cap), tactile_arrays(cap),
               joint_states(joint_names, max_joints)]
    weighted = sensors * 8 + [commands(max_command_chars)] * command_weight
    weighted.append(st.just(None).map(lambda _: FuzzMsg(C.ESTOP_TOPIC, Bool(data=False),
                                                        'estop_clear')))
    return st.one_of(*weighted)
