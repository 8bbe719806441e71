"""
Frames as messages and back: ``MultimodalFrame`` (recorders) and ``RemoteFrame`` (the split).

:func:`frame_to_msg` / :func:`msg_to_frame` round-trip a :class:`~vla_ros.core.frame.Frame`
(images rgb8, audio F32LE or S16LE, tactile with its layout, joints, presence, source stamps,
command). :func:`remote_frame_msg` builds what ``vla_policy`` (``inference: remote``) sends:
the frame shrunk to the bundle's input sizes (:mod:`vla_ros.core.remote.wire`), images
optionally JPEG, plus its history; :func:`frame_from_remote` is the server's inverse. Bad
input raises a :class:`~vla_ros.errors.ConversionError` subclass.
"""

from __future__ import annotations

from builtin_interfaces.msg import Time
import numpy as np
from sensor_msgs.msg import CompressedImage, Image, JointState
from vla_ros.core.convert import (compressed_to_rgb8, image_to_rgb8, joint_state_to_arrays,
                                  pcm_to_float, stamp_to_ns, tactile_to_array)
from vla_ros.core.frame import Frame
from vla_ros.core.remote.wire import (audio_bytes, AudioWire, CameraWire, encode_jpeg,
                                      prefix_from_wire, prefix_to_wire, PrefixWire,
                                      RemoteConfig, shrink_frame)
from vla_ros.core.runtime.prefix import ActionPrefix
from vla_ros.errors import LayoutError
from vla_ros_msgs.msg import MultimodalFrame, RemoteFrame, TactilePad

NS = 1_000_000_000


def _time(ns: int) -> Time:
    sec, nanosec = divmod(int(ns), NS)
    return Time(sec=sec, nanosec=nanosec)


def frame_to_msg(frame: Frame, *, publish_images: bool = True,
                 audio: AudioWire = AudioWire.F32LE) -> MultimodalFrame:
    """Serialize a :class:`Frame` into a ``MultimodalFrame`` (images copied: rgb8)."""
    msg = MultimodalFrame()
    msg.header.stamp = _time(frame.stamp_ns)
    msg.modalities = list(frame.present)
    msg.present = [bool(v) for v in frame.present.values()]
    msg.source_stamps = [_time(frame.source_stamps.get(k, 0)) for k in frame.present]
    for key in frame.present:
        if not key.startswith('image/'):
            continue
        cam = key.split('/', 1)[1]
        img = Image()
        arr = frame.images.get(cam)
        if publish_images and arr is not None:
            img.header.stamp = _time(frame.source_stamps.get(key, 0))
            img.height, img.width = int(arr.shape[0]), int(arr.shape[1])
            img.encoding, img.step = 'rgb8', int(arr.shape[1]) * 3
            img.data = np.ascontiguousarray(arr).tobytes()
        msg.camera_names.append(cam)
        msg.images.append(img)
    if frame.audio is not None:
        msg.audio.header.stamp = msg.header.stamp
        msg.audio.sample_rate, msg.audio.channels = int(frame.audio_rate), 1
        msg.audio.encoding = audio.value
        msg.audio.data = audio_bytes(frame.audio, audio)
    msg.audio_gap_fraction = float(frame.audio_gap_fraction)
    if frame.tactile is not None and frame.tactile_layout is not None:
        lay = frame.tactile_layout
        msg.tactile.header.stamp = _time(frame.source_stamps.get('tactile', 0))
        msg.tactile.unit = lay.unit
        msg.tactile.pads = [TactilePad(name=n, rows=r, cols=c, channels=ch)
                            for n, (r, c, ch) in zip(lay.names, lay.shapes)]
        msg.tactile.values = frame.tactile.astype(np.float32).tolist()
    if frame.joint_positions is not None:
        vel = frame.joint_velocities
        msg.joint_state = JointState(
            name=list(frame.joint_names), position=frame.joint_positions.tolist(),
            velocity=[] if vel is None else vel.tolist())
        msg.joint_state.header.stamp = msg.header.stamp
    msg.command = frame.command
    msg.command_stamp = _time(frame.command_stamp_ns)
    return msg


def msg_to_frame(msg: MultimodalFrame, compressed: list | None = None) -> Frame:
    """
    Rebuild a :class:`Frame` from a ``MultimodalFrame`` (images as views where possible).

    :param compressed: ``CompressedImage`` per camera (parallel to ``camera_names``), used
        instead of the (then empty) images.
    """
    if len(msg.present) != len(msg.modalities) or len(msg.source_stamps) != len(msg.present):
        raise LayoutError(f'frame: {len(msg.modalities)} modalities, {len(msg.present)} '
                          f'presence flags, {len(msg.source_stamps)} source stamps')
    present = {str(k): bool(p) for k, p in zip(msg.modalities, msg.present)}
    stamps = {str(k): stamp_to_ns(t) for k, t in zip(msg.modalities, msg.source_stamps)}
    if compressed and len(compressed) != len(msg.camera_names):
        raise LayoutError(f'frame: {len(compressed)} compressed images for '
                          f'{len(msg.camera_names)} cameras')
    images = {}
    for i, (cam, img) in enumerate(zip(msg.camera_names, msg.images)):
        if not present.get(f'image/{cam}', False):
            continue
        if compressed:
            if len(compressed[i].data):
                images[str(cam)] = compressed_to_rgb8(compressed[i])
        elif img.encoding or len(img.data):
            images[str(cam)] = image_to_rgb8(img)
        # else: present at the sender, not carried (a camera the bundle does not read,
        # a frame published without images): the presence flag stays, the image is absent
    frame = Frame(stamp_ns=stamp_to_ns(msg.header.stamp), images=images, present=present,
                  source_stamps=stamps, command=str(msg.command),
                  command_stamp_ns=stamp_to_ns(msg.command_stamp),
                  audio_gap_fraction=float(msg.audio_gap_fraction))
    a = msg.audio
    if len(a.data):
        frame.audio = pcm_to_float(a.data, encoding=a.encoding, channels=int(a.channels),
                                   sample_rate=int(a.sample_rate))[:, 0]
        frame.audio_rate = int(a.sample_rate)
    if len(msg.tactile.pads):
        frame.tactile, frame.tactile_layout = tactile_to_array(msg.tactile)
    if len(msg.joint_state.name):
        names, pos, vel = joint_state_to_arrays(msg.joint_state)
        frame.joint_names, frame.joint_positions = tuple(names), pos
        frame.joint_velocities = np.zeros_like(pos) if vel is None else vel
    return frame


def remote_frame_msg(frame: Frame, *, model_id: str, wires: dict[str, CameraWire],
                     config: RemoteConfig, modalities: tuple[str, ...] | None = None,
                     prefix: ActionPrefix | None = None) -> RemoteFrame:
    """
    Build the request for ``frame``: shrunk to the input sizes, JPEG when configured.

    ``modalities``: the bundle's (what it does not read is left out, see ``shrink_frame``);
    ``prefix``: the actions committed while the chunk is computed (None: d = 0).
    """
    small = shrink_frame(frame, wires, modalities)
    jpeg = config.jpeg_quality > 0
    msg = RemoteFrame(model_id=model_id)
    msg.header.stamp = _time(frame.stamp_ns)
    msg.frame = frame_to_msg(small, publish_images=not jpeg, audio=config.audio)
    if jpeg:
        for cam, img in zip(msg.frame.camera_names, msg.frame.images):
            arr = small.image(cam)
            c = CompressedImage(format='jpeg')
            c.header.stamp = img.header.stamp
            if arr is not None:
                c.data = encode_jpeg(arr, config.jpeg_quality)
            msg.compressed_images.append(c)
    msg.history = [frame_to_msg(h, audio=config.audio) for h in small.history]
    w = prefix_to_wire(prefix)
    msg.prefix_steps, msg.prefix_delay_steps = w.steps, w.delay_steps
    msg.prefix_actions, msg.prefix_tail = list(w.actions), list(w.tail)
    return msg


def frame_from_remote(msg: RemoteFrame) -> Frame:
    """Invert :func:`remote_frame_msg` on the server (history included)."""
    frame = msg_to_frame(msg.frame, list(msg.compressed_images) or None)
    frame.history = tuple(msg_to_frame(h) for h in msg.history)
    return frame


def prefix_from_remote(msg: RemoteFrame, n_actions: int) -> ActionPrefix | None:
    """
    Return the request's action prefix for a bundle of ``n_actions`` actions (None: d = 0).

    A request of an older robot has no ``prefix_*`` values: d = 0. ConversionError when the
    counts do not match.
    """
    return prefix_from_wire(PrefixWire(
        int(msg.prefix_steps), int(msg.prefix_delay_steps), tuple(msg.prefix_actions),
        tuple(msg.prefix_tail)), n_actions)


__all__ = ['frame_from_remote', 'frame_to_msg', 'msg_to_frame', 'prefix_from_remote',
           'remote_frame_msg']
