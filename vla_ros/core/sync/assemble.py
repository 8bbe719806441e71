"""
Per-modality parts of frame assembly (ROS-free; used by the synchronizer).

Each fills its modality of ``frame`` (value, ``present``, ``source_stamps``) or says why it is
absent.
"""

from __future__ import annotations

import numpy as np
from vla_ros.constants import Modality
from vla_ros.core.frame import Frame
from vla_ros.core.sync.audio_ring import AudioRing
from vla_ros.core.sync.buffers import StampedBuffer
from vla_ros.core.sync.config import TactileMode
from vla_ros.core.sync.joint_interp import interpolate_joints

AUDIO, TACTILE, JOINTS = (m.value for m in (Modality.AUDIO, Modality.TACTILE, Modality.JOINTS))


def assemble_images(frame: Frame, why: dict, cams: dict, slop_ns: int) -> None:
    """Per camera the image nearest the frame time, present when within the slop and fresh."""
    stamp_ns, present, stamps = frame.stamp_ns, frame.present, frame.source_stamps
    for cam, s in cams.items():
        key = s.key
        hit = s.buf.nearest(stamp_ns)
        ok = False
        if hit is None:
            why[key] = 'no data'
        else:
            t = hit[0]
            if t - stamp_ns > slop_ns or stamp_ns - t > slop_ns:
                why[key] = f'nearest image {(t - stamp_ns) / 1e6:+.1f} ms off'
            elif s.max_age and stamp_ns - t > s.max_age:
                why[key] = 'stale'
            else:
                ok = True
                frame.images[cam] = hit[1]
                stamps[key] = t
        present[key] = ok


def assemble_audio(frame: Frame, why: dict, ring: AudioRing, n: int, max_age: int) -> None:
    """Take the ``n``-sample window ending at the frame time; present unless empty or stale."""
    t = frame.stamp_ns
    frame.audio, gap = ring.window(t, n)
    frame.audio_gap_fraction = gap
    end = ring.last_end_ns
    if end is not None and gap < 1.0 and (not max_age or t - end <= max_age):
        frame.present[AUDIO] = True
        frame.source_stamps[AUDIO] = end if end < t else t
    else:
        frame.present[AUDIO] = False
        why[AUDIO] = 'no data' if end is None else 'stale or empty window'


def assemble_tactile(frame: Frame, why: dict, buf: StampedBuffer, max_age: int,
                     mode: TactileMode, window_ns: int) -> None:
    """Take the latest reading at the frame time (or max / mean over ``window_ns``)."""
    t = frame.stamp_ns
    hit = buf.latest_at(t)
    if hit is None:
        hit = buf.nearest(t)
    if hit is None or (max_age and abs(t - hit[0]) > max_age):
        frame.present[TACTILE] = False
        why[TACTILE] = 'no data' if hit is None else 'stale'
        return
    values, layout = hit[1]
    if mode is not TactileMode.LATEST:
        _, items = buf.window(t - window_ns, t)
        same = [v for v, lay in items if lay.size == layout.size]
        if len(same) > 1:
            stack = np.stack(same)
            values = (stack.max(axis=0) if mode == TactileMode.MAX
                      else stack.mean(axis=0, dtype=np.float32))
    frame.tactile, frame.tactile_layout = values, layout
    frame.present[TACTILE] = True
    frame.source_stamps[TACTILE] = hit[0]


def assemble_joints(frame: Frame, why: dict, buf: StampedBuffer, names: tuple[str, ...],
                    max_age: int) -> None:
    """Joints interpolated to the frame time, or absent when none are fresh."""
    t = frame.stamp_ns
    frame.joint_names = names
    hit = interpolate_joints(*buf.bracket(t), t)
    if hit is None:
        frame.present[JOINTS] = False
        why[JOINTS] = 'no data'
        return
    pos, vel, src, age = hit  # bounded: the samples were (sync_checks.joints_error)
    if max_age and age > max_age:
        frame.present[JOINTS] = False
        why[JOINTS] = f'stale ({age / 1e6:.0f} ms)'
        return
    frame.joint_positions, frame.joint_velocities = pos, vel
    frame.present[JOINTS] = True
    frame.source_stamps[JOINTS] = src
