"""
Simulated robots for a ``vla_inference`` server: :class:`FleetProbe` (benchmarks, tests).

Robot k publishes one ``RemoteFrame`` -- built once by the robot-side encoder
(:func:`probe_request`: a 640x480 camera frame with every modality present, shrunk to the
bundle's inputs), serialized once, only its two stamps patched per send (:func:`stamped`) --
on ``<robot>/vla/remote/frame`` and takes the chunks on ``<robot>/vla/remote/chunk``.
Closed loop (``period_s`` 0): the next request goes out when the chunk is back, one in
flight per robot as ``vla_policy`` keeps it, so the server is saturated. Periodic
(``period_s`` > 0): a request every period whatever came back, as a robot's frame rate.
Every chunk is recorded (:class:`ChunkRecord`) with its frame -> chunk latency.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import struct
import threading
import time

from builtin_interfaces.msg import Time
import numpy as np
from rclpy.node import Node
from rclpy.serialization import serialize_message
from vla_ros import constants as C
from vla_ros.core.bundle.contract import Manifest
from vla_ros.core.convert import stamp_to_ns
from vla_ros.core.frame import Frame, TactileLayout
from vla_ros.core.remote.wire import (camera_wires, REMOTE_CHUNK_TOPIC, REMOTE_FRAME_TOPIC,
                                      RemoteConfig)
from vla_ros.qos import REMOTE_CHUNK_QOS, REMOTE_FRAME_QOS
from vla_ros.ros.frame_msgs import remote_frame_msg
from vla_ros_msgs.msg import ActionChunk, RemoteFrame

_MARK_SEC, _MARK_NSEC = 0x7A7A7A7A, 0x5B5B5B5B  # placeholder stamp, patched per send
COMMAND = 'pick up the red cube'


@dataclass(frozen=True)
class ChunkRecord:
    """One chunk a simulated robot received."""

    robot: str
    received_s: float      # wall clock [s]
    latency_ms: float      # frame stamp -> chunk received [ms]
    frame_stamp_ns: int
    actions: np.ndarray    # [H, A]


def probe_frame(manifest: Manifest, *, seed: int = 0) -> Frame:
    """Return a frame every modality of a sim-robot bundle can read (640x480 cameras)."""
    names = (*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT)
    rng = np.random.default_rng(seed)
    image = rng.integers(0, 255, (480, 640, 3), dtype=np.uint8)
    return Frame(
        stamp_ns=1, images={c: image for c in manifest.cameras},
        audio=np.zeros(16000, np.float32), tactile=np.zeros(32, np.float32),
        tactile_layout=TactileLayout(('left_finger', 'right_finger'), ((4, 4, 1), (4, 4, 1))),
        joint_names=names, joint_positions=np.zeros(len(names)),
        joint_velocities=np.zeros(len(names)), command=COMMAND,
        present={**{f'image/{c}': True for c in manifest.cameras}, 'audio': True,
                 'tactile': True, 'joints': True, 'language': True})


def probe_request(manifest: Manifest, *, seed: int = 0) -> RemoteFrame:
    """Return the RemoteFrame a robot sends for :func:`probe_frame` (robot-side encoder)."""
    return remote_frame_msg(probe_frame(manifest, seed=seed), model_id=manifest.model_id,
                            wires=camera_wires(manifest), config=RemoteConfig(),
                            modalities=manifest.modalities)


def stamped(msg: RemoteFrame) -> tuple[bytes, list[int]]:
    """Serialize a request once (its stamps overwritten); return it and the stamps' offsets."""
    msg.header.stamp = msg.frame.header.stamp = Time(sec=_MARK_SEC, nanosec=_MARK_NSEC)
    data = serialize_message(msg)
    key = struct.pack('<iI', _MARK_SEC, _MARK_NSEC)
    offsets, i = [], data.find(key)
    while i >= 0:
        offsets.append(i)
        i = data.find(key, i + 1)
    if len(offsets) != 2:
        raise ValueError(f'expected the stamp twice in the serialized request, found '
                         f'{len(offsets)}')
    return data, offsets


class FleetProbe:
    """
    N simulated robots on one rclpy node (spin it elsewhere).

    :param robots: namespaces, e.g. ``['/robot1', '/robot2']``.
    :param request: the request every robot sends (:func:`probe_request`).
    :param period_s: seconds between a robot's requests (0 = closed loop).
    """

    def __init__(self, node: Node, robots: Sequence[str], request: RemoteFrame, *,
                 period_s: float = 0.0) -> None:
        self.robots, self.period_s = tuple(robots), period_s
        self.records: list[ChunkRecord] = []
        self._data, self._offsets = stamped(request)
        self._lock = threading.Lock()
        self._running = False
        self._pubs = {r: node.create_publisher(RemoteFrame, f'{r}/{REMOTE_FRAME_TOPIC}',
                                               REMOTE_FRAME_QOS) for r in self.robots}
        self._subs = [node.create_subscription(
            ActionChunk, f'{r}/{REMOTE_CHUNK_TOPIC}', lambda m, r=r: self._on_chunk(r, m),
            REMOTE_CHUNK_QOS) for r in self.robots]
        self._timer: threading.Thread | None = None

    def connected(self) -> bool:
        """Return True once a server subscribes to every robot's frames."""
        return all(p.get_subscription_count() for p in self._pubs.values())

    def send(self, robot: str) -> None:
        """Publish ``robot``'s request stamped now (wall clock)."""
        sec, nsec = divmod(time.time_ns(), 1_000_000_000)
        buf = bytearray(self._data)
        for off in self._offsets:
            struct.pack_into('<iI', buf, off, sec, nsec)
        self._pubs[robot].publish(bytes(buf))

    def start(self) -> None:
        """Start sending: one request per robot now, then closed loop or every period."""
        self._running = True
        if self.period_s > 0:
            self._timer = threading.Thread(target=self._tick, daemon=True)
            self._timer.start()
        else:
            self.kick()

    def kick(self) -> None:
        """Send one request per robot now (a closed loop whose request was lost restarts)."""
        for r in self.robots:
            self.send(r)

    def stop(self) -> None:
        """Stop sending (chunks still arriving are recorded)."""
        self._running = False
        if self._timer is not None:
            self._timer.join(timeout=2.0)

    def _tick(self) -> None:
        next_t = time.monotonic()
        while self._running:
            self.kick()
            next_t += self.period_s
            time.sleep(max(0.0, next_t - time.monotonic()))

    def _on_chunk(self, robot: str, msg: ActionChunk) -> None:
        now = time.time_ns()
        stamp = stamp_to_ns(msg.frame_stamp)
        actions = np.asarray(msg.values, np.float64).reshape(max(1, msg.horizon), -1)
        with self._lock:
            self.records.append(ChunkRecord(robot, now * 1e-9, (now - stamp) * 1e-6, stamp,
                                            actions))
        if self._running and self.period_s <= 0:
            self.send(robot)

    def window(self, t0: float, t1: float) -> list[ChunkRecord]:
        """Return the chunks received in [t0, t1) (wall clock [s])."""
        with self._lock:
            return [r for r in self.records if t0 <= r.received_s < t1]
