"""
rosbag2 (MCAP) I/O with pip ``rosbags`` (no rosbag2_py needed).

The typestore with the vla_ros_msgs definitions, message builders, and a writer keyed by topic.

Message classes are rosbags' own (plain dataclasses); their fields match the ROS messages, so
the duck-typed converters in :mod:`vla_ros.core.convert` accept them unchanged.
"""

from __future__ import annotations

from collections.abc import Sequence
import functools
from pathlib import Path

import numpy as np
from rosbags.rosbag2 import Reader, StoragePlugin, Writer
from rosbags.typesys import get_types_from_msg, get_typestore, Stores
from vla_ros import constants as C
from vla_ros.errors import ConfigError

# Bags hold absolute, root-namespace names (``/vla/command``), whatever namespace the robot
# ran in (the nodes' names are relative: vla_ros/constants.py). The writer and the reader
# below take either form; the names they hand back are the bag's.
bag_topic = C.bag_topic
ARM_TRAJECTORY_TOPIC = bag_topic(C.ARM_TRAJECTORY_TOPIC)
ARM_COMMANDS_TOPIC = bag_topic(C.ARM_COMMANDS_TOPIC)
GRIPPER_COMMANDS_TOPIC = bag_topic(C.GRIPPER_COMMANDS_TOPIC)
GRIPPER_EFFORT_COMMANDS_TOPIC = bag_topic(C.GRIPPER_EFFORT_COMMANDS_TOPIC)
SOUND_TOPIC = bag_topic(C.SIM_SOUND_TOPIC)

# The topics a demonstration bag holds: what a user records during teleop on a real robot.
DEFAULT_TOPICS: dict[str, str] = {bag_topic(t): msgtype for t, msgtype in {
    **{C.camera_topic(c): 'sensor_msgs/msg/Image' for c in C.DEFAULT_CAMERAS},
    C.AUDIO_TOPIC: 'vla_ros_msgs/msg/AudioChunk',
    C.TACTILE_TOPIC: 'vla_ros_msgs/msg/TactileArray',
    C.JOINT_STATES_TOPIC: 'sensor_msgs/msg/JointState',
    C.COMMAND_TOPIC: 'std_msgs/msg/String',
    C.ARM_TRAJECTORY_TOPIC: 'trajectory_msgs/msg/JointTrajectory',
    C.ARM_COMMANDS_TOPIC: 'std_msgs/msg/Float64MultiArray',
    C.GRIPPER_COMMANDS_TOPIC: 'std_msgs/msg/Float64MultiArray',
    C.GRIPPER_EFFORT_COMMANDS_TOPIC: 'std_msgs/msg/Float64MultiArray',
    C.SIM_SOUND_TOPIC: 'std_msgs/msg/String',
}.items()}
MSG_DIR = Path(__file__).resolve().parents[2] / 'msg' / 'msg'


@functools.cache
def typestore():
    """ROS 2 Kilted types + vla_ros_msgs (from msg/msg/*.msg)."""
    ts = get_typestore(Stores.ROS2_KILTED)
    types = {}
    for name in ('TactilePad', 'AudioChunk', 'TactileArray'):
        text = (MSG_DIR / f'{name}.msg').read_text()
        types.update(get_types_from_msg(text, f'vla_ros_msgs/msg/{name}'))
    ts.register(types)
    return ts


def _header(t_ns: int, frame_id: str = ''):
    T = typestore().types
    sec, nsec = divmod(int(t_ns), 1_000_000_000)
    return T['std_msgs/msg/Header'](stamp=T['builtin_interfaces/msg/Time'](sec=sec,
                                                                           nanosec=nsec),
                                    frame_id=frame_id)


def image_msg(t_ns: int, rgb: np.ndarray, frame_id: str):
    h, w = rgb.shape[:2]
    return typestore().types['sensor_msgs/msg/Image'](
        header=_header(t_ns, frame_id), height=h, width=w, encoding='rgb8', is_bigendian=0,
        step=w * 3, data=np.ascontiguousarray(rgb, np.uint8).reshape(-1))


def audio_msg(t_ns: int, samples: np.ndarray, rate: int):
    pcm = (np.clip(samples, -1, 1) * 32767).astype('<i2')
    return typestore().types['vla_ros_msgs/msg/AudioChunk'](
        header=_header(t_ns, 'microphone'), sample_rate=int(rate), channels=1,
        encoding='S16LE', data=np.frombuffer(pcm.tobytes(), np.uint8))


def tactile_msg(t_ns: int, values: np.ndarray, pads: Sequence[tuple[str, int, int]]):
    T = typestore().types
    pad_msgs = [T['vla_ros_msgs/msg/TactilePad'](name=n, frame_id=f'{n}_pad', rows=r, cols=c,
                                                 channels=1) for n, r, c in pads]
    return T['vla_ros_msgs/msg/TactileArray'](header=_header(t_ns), pads=pad_msgs, unit='N',
                                              values=np.asarray(values, np.float32))


def joint_state_msg(t_ns: int, names: Sequence[str], q: np.ndarray, v: np.ndarray):
    return typestore().types['sensor_msgs/msg/JointState'](
        header=_header(t_ns), name=list(names), position=np.asarray(q, np.float64),
        velocity=np.asarray(v, np.float64), effort=np.zeros(0))


def string_msg(text: str):
    return typestore().types['std_msgs/msg/String'](data=text)


def float_array_msg(values: Sequence[float]):
    T = typestore().types
    layout = T['std_msgs/msg/MultiArrayLayout'](dim=[], data_offset=0)
    return T['std_msgs/msg/Float64MultiArray'](layout=layout,
                                               data=np.asarray(values, np.float64))


def trajectory_msg(t_ns: int, joints: Sequence[str], q: np.ndarray, time_from_start: float):
    T = typestore().types
    sec, nsec = divmod(int(round(time_from_start * 1e9)), 1_000_000_000)
    pt = T['trajectory_msgs/msg/JointTrajectoryPoint'](
        positions=np.asarray(q, np.float64), velocities=np.zeros(0), accelerations=np.zeros(0),
        effort=np.zeros(0), time_from_start=T['builtin_interfaces/msg/Duration'](
            sec=sec, nanosec=nsec))
    return T['trajectory_msgs/msg/JointTrajectory'](header=_header(t_ns),
                                                    joint_names=list(joints), points=[pt])


class BagWriter:
    """MCAP rosbag2 writer; connections made on first use of a topic. A context manager."""

    def __init__(self, path: str | Path, topics: dict[str, str] | None = None) -> None:
        self.path = Path(path)
        if self.path.exists():
            raise ConfigError(f'bag {self.path} already exists; choose a new --out')
        self.topics = {bag_topic(t): m for t, m in
                       (DEFAULT_TOPICS if topics is None else topics).items()}
        self._writer = Writer(self.path, version=9, storage_plugin=StoragePlugin.MCAP)
        self._conns: dict[str, object] = {}
        self.count = 0

    def __enter__(self) -> BagWriter:
        self._writer.open()
        return self

    def __exit__(self, *exc) -> None:
        self._writer.close()

    def _conn(self, topic: str, msgtype: str | None = None):
        topic = bag_topic(topic)
        c = self._conns.get(topic)
        if c is None:
            msgtype = msgtype or self.topics.get(topic)
            if msgtype is None:
                raise ConfigError(f'topic {topic!r} has no message type; known {self.topics}')
            c = self._conns[topic] = self._writer.add_connection(topic, msgtype,
                                                                 typestore=typestore())
        return c

    def write(self, topic: str, t_ns: int, msg) -> None:
        """Serialize a rosbags message (CDR) and write it at log time ``t_ns``."""
        c = self._conn(topic)
        self._writer.write(c, int(t_ns), typestore().serialize_cdr(msg, c.msgtype))
        self.count += 1

    def write_raw(self, topic: str, msgtype: str, t_ns: int, data: bytes) -> None:
        """Write already CDR-serialized bytes (from an rclpy ``raw=True`` subscription)."""
        self._writer.write(self._conn(topic, msgtype), int(t_ns), bytes(data))
        self.count += 1


def read_messages(path: str | Path, topics: Sequence[str] | None = None):
    """Yield (topic, msgtype, log_time_ns, message) in log-time order (bag topic names)."""
    ts = typestore()
    topics = None if topics is None else {bag_topic(t) for t in topics}
    with Reader(Path(path)) as reader:
        conns = [c for c in reader.connections if topics is None or c.topic in topics]
        for conn, t, raw in reader.messages(connections=conns):
            yield conn.topic, conn.msgtype, t, ts.deserialize_cdr(raw, conn.msgtype)
