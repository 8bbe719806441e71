"""
Replay a recorded bag through the sync core, as ``multimodal_sync`` / ``vla_policy`` run it.

Sensor messages go through :mod:`vla_ros.core.convert` into a
:class:`~vla_ros.core.sync.MultimodalSynchronizer` in log-time order; every primary-camera
image triggers ``assemble`` once the other cameras are in (as ``SensorInputs`` does online).
The controller commands (arm trajectory / forward commands, gripper opening and max effort
commands) are collected as piecewise-constant timelines. Used by ``vla-ros train`` and
``vla-ros dataset export``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from rosbags.rosbag2 import Reader
from vla_ros import constants as C
from vla_ros.core import convert
from vla_ros.core.frame import Frame
from vla_ros.core.sync import SyncConfig
from vla_ros.core.sync.synchronizer import MultimodalSynchronizer
from vla_ros.data import bagio
from vla_ros.errors import SyncError, VlaRosError

ARM = C.DEFAULT_ARM_JOINTS


class Timeline:
    """Piecewise-constant command targets: value in force at time t (last one at or before)."""

    def __init__(self) -> None:
        self.t: list[int] = []
        self.v: list[np.ndarray] = []

    def add(self, t_ns: int, value) -> None:
        self.t.append(int(t_ns))
        self.v.append(np.asarray(value, np.float64))

    def at(self, t_ns: np.ndarray, default: np.ndarray) -> np.ndarray:
        """[len(t_ns), D] values in force at each time (``default`` before the first)."""
        if not self.t:
            return np.repeat(default[None], len(t_ns), 0)
        order = np.argsort(self.t, kind='stable')
        ts = np.asarray(self.t)[order]
        vs = np.stack(self.v)[order]
        i = np.searchsorted(ts, t_ns, side='right') - 1
        out = vs[np.clip(i, 0, None)]
        out[i < 0] = default
        return out

    def onset(self, q0: np.ndarray, tol: float) -> int | None:
        """Time [ns] of the first command that moves more than ``tol`` away from ``q0``."""
        for t, v in sorted(zip(self.t, self.v), key=lambda tv: tv[0]):
            if np.max(np.abs(v - q0)) > tol:
                return t
        return None


@dataclass
class Replay:
    """Assembled frames (stamp order) and the controller command timelines of one bag."""

    frames: list[Frame] = field(default_factory=list)
    arm: Timeline = field(default_factory=Timeline)
    gripper: Timeline = field(default_factory=Timeline)
    effort: Timeline = field(default_factory=Timeline)   # gripper max effort [N]; may be empty
    topics: set[str] = field(default_factory=set)


def bag_topics(bag: str | Path) -> dict[str, str]:
    """Topic -> message type of a bag (from its metadata; no message is read)."""
    with Reader(Path(bag)) as reader:
        return {c.topic: c.msgtype for c in reader.connections}


def replay(bag: str | Path, sync_config: SyncConfig, primary: str) -> Replay:
    """Replay one bag; one frame per ``primary`` camera image (malformed input skipped)."""
    log_ns = [0]  # the replay's node clock: the log time of the message being replayed
    sync = MultimodalSynchronizer(sync_config, clock=lambda: log_ns[0])
    out = Replay()
    pending: list[int] = []
    cam_topics = {bagio.bag_topic(C.camera_topic(c.name)): c.name for c in sync_config.cameras}
    audio, tactile, joints, command = (bagio.bag_topic(t) for t in (
        C.AUDIO_TOPIC, C.TACTILE_TOPIC, C.JOINT_STATES_TOPIC, C.COMMAND_TOPIC))
    for topic, _, t_ns, msg in bagio.read_messages(bag):
        log_ns[0] = t_ns
        out.topics.add(topic)
        try:
            if topic in cam_topics:
                cam = cam_topics[topic]
                stamp = convert.stamp_to_ns(msg.header.stamp)
                sync.add_image(cam, stamp, convert.image_to_rgb8(msg))
                if cam == primary:
                    pending.append(stamp)
            elif topic == audio:
                samples, rate = convert.audio_chunk_to_array(msg)
                sync.add_audio(convert.stamp_to_ns(msg.header.stamp), samples, rate)
            elif topic == tactile:
                values, layout = convert.tactile_to_array(msg)
                sync.add_tactile(convert.stamp_to_ns(msg.header.stamp), values, layout)
            elif topic == joints:
                names, pos, vel = convert.joint_state_to_arrays(msg)
                sync.add_joints(convert.stamp_to_ns(msg.header.stamp), names, pos, vel)
            elif topic == command:
                sync.set_command(msg.data, max(1, t_ns))
            elif topic == bagio.ARM_TRAJECTORY_TOPIC and len(msg.points):
                idx = [list(msg.joint_names).index(j) for j in ARM]
                out.arm.add(t_ns, np.asarray(msg.points[0].positions)[idx])
            elif topic == bagio.ARM_COMMANDS_TOPIC:
                out.arm.add(t_ns, msg.data)
            elif topic == bagio.GRIPPER_COMMANDS_TOPIC:
                out.gripper.add(t_ns, msg.data[:1])
            elif topic == bagio.GRIPPER_EFFORT_COMMANDS_TOPIC and len(msg.data):
                out.effort.add(t_ns, msg.data[:1])
        except (VlaRosError, ValueError):
            continue  # counted in sync.stats, like the node does
        while pending and sync.cameras_ready(pending[0]):
            stamp = pending.pop(0)
            try:
                out.frames.append(sync.assemble(stamp))
            except SyncError:
                pass
    return out
