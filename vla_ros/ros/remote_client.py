"""
``vla_policy``'s side of the split (``inference: remote``): requests out, chunks in.

Publishes each frame the loop wants a chunk for as a ``RemoteFrame`` on ``vla/remote/frame``
(relative: a robot launched in namespace ``/robot1`` uses ``/robot1/vla/remote/frame``) and
hands every ``ActionChunk`` from ``vla/remote/chunk`` to
:meth:`~vla_ros.core.remote.source.RemoteChunkSource.on_chunk`, which matches it to its request
(the policy loop decides whether it is used).
"""

from __future__ import annotations

from collections.abc import Callable
import threading

from diagnostic_msgs.msg import KeyValue
import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from rclpy.node import Node
from vla_ros.core.bundle.contract import Manifest
from vla_ros.core.control.chunk_source import ChunkSource
from vla_ros.core.control.outcomes import InferenceResult
from vla_ros.core.convert import stamp_to_ns
from vla_ros.core.frame import Frame
from vla_ros.core.remote.source import RemoteChunkSource
from vla_ros.core.remote.wire import (camera_wires, REMOTE_CHUNK_TOPIC, REMOTE_FRAME_TOPIC,
                                      RemoteConfig)
from vla_ros.core.runtime.prefix import ActionPrefix
from vla_ros.errors import ConfigError
from vla_ros.qos import REMOTE_CHUNK_QOS, REMOTE_FRAME_QOS
from vla_ros.ros.frame_msgs import remote_frame_msg
from vla_ros.ros.spin import SHUTDOWN_POLL_S
from vla_ros_msgs.msg import ActionChunk, RemoteFrame


def payload_bytes(msg: RemoteFrame) -> int:
    """Return the bulk bytes of a request: images, audio, tactile, joints (not headers)."""
    frames = [msg.frame, *msg.history]
    n = sum(len(i.data) for f in frames for i in f.images)
    n += sum(len(c.data) for c in msg.compressed_images)
    n += sum(len(f.audio.data) + 4 * len(f.tactile.values)
             + 8 * (len(f.joint_state.position) + len(f.joint_state.velocity)) for f in frames)
    return n


def remote_client_name(policy_node: str) -> str:
    """Name of the chunk node beside ``policy_node`` (one name per node in the process)."""
    return f'{policy_node}_remote_client'


class RemoteClient:
    """
    Publisher of requests and subscriber of chunks for one :class:`RemoteChunkSource`.

    ``send`` is the source's way out (:class:`~vla_ros.core.policy.RemoteLink`); :meth:`bind`
    names the source that takes the chunks and ``on_result``, called with every chunk that
    entered the scheduler (the preview).
    """

    def __init__(self, node: Node, manifest: Manifest, config: RemoteConfig) -> None:
        self.node, self.config = node, config
        self.model_id, self.wires = manifest.model_id, camera_wires(manifest)
        self.modalities = manifest.modalities
        self.source: RemoteChunkSource | None = None
        self.on_result: Callable[[InferenceResult], None] | None = None
        self.last_bytes = 0
        self.pub = node.create_publisher(RemoteFrame, REMOTE_FRAME_TOPIC, REMOTE_FRAME_QOS)
        # Chunks are taken by a node of their own, spun by its own thread: behind the sensor
        # callbacks of the policy's executor (60 camera images/s) a chunk waited ~2 ms. Its
        # name is its own: launch's `name=` is a process-wide `__node:=` remap that would name
        # both nodes `vla_policy`; a node's own `__node:=` beats it (the namespace remap and
        # topic remaps still apply).
        self._node = rclpy.create_node(
            remote_client_name(node.get_name()), context=node.context,
            namespace=node.get_namespace(), start_parameter_services=False,
            cli_args=['--ros-args', '-r', f'__node:={remote_client_name(node.get_name())}'])
        self.sub = self._node.create_subscription(ActionChunk, REMOTE_CHUNK_TOPIC,
                                                  self._on_chunk, REMOTE_CHUNK_QOS)
        self._executor = SingleThreadedExecutor(context=node.context)
        self._executor.add_node(self._node)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._spin, name='vla_remote_chunks',
                                        daemon=True)
        self._thread.start()

    def _spin(self) -> None:
        # stopped by destroy() before the node and the context go (vla_ros.ros.spin)
        while not self._stop.is_set() and self._node.context.ok():
            self._executor.spin_once(timeout_sec=SHUTDOWN_POLL_S)

    def bind(self, source: ChunkSource,
             on_result: Callable[[InferenceResult], None] | None = None) -> None:
        """Hand the chunks to ``source`` (the one that sends through :meth:`send`)."""
        if not isinstance(source, RemoteChunkSource):
            raise ConfigError(f'the remote client feeds a RemoteChunkSource, not {source!r}')
        self.source, self.on_result = source, on_result

    def send(self, frame: Frame, prefix: ActionPrefix | None = None) -> None:
        """Encode and publish one request (the loop's inference worker calls this)."""
        msg = remote_frame_msg(frame, model_id=self.model_id, wires=self.wires,
                               config=self.config, modalities=self.modalities, prefix=prefix)
        self.last_bytes = payload_bytes(msg)
        self.pub.publish(msg)

    def _on_chunk(self, msg: ActionChunk) -> None:
        source = self.source
        if source is None:
            return
        names = list(msg.action_names)
        try:
            values = np.asarray(msg.values, np.float64).reshape(int(msg.horizon), len(names))
        except ValueError:
            source.reject()
            self.node.get_logger().warning(
                f'remote chunk rejected: {len(msg.values)} values for horizon {msg.horizon} x '
                f'{len(names)} actions', throttle_duration_sec=2.0)
            return
        res = source.on_chunk(stamp_to_ns(msg.frame_stamp), values, kind=msg.kind,
                              names=names, dt=float(msg.dt), model_id=msg.model_id,
                              latency_ms=float(msg.inference_latency) * 1e3)
        if res is not None and self.on_result is not None:
            self.on_result(res)

    def diagnostics(self) -> list[KeyValue]:
        """Key-values of the split for the policy's diagnostic status."""
        c = self.source.counters if self.source is not None else None
        if c is None:
            return []
        values = {'remote_requests': c.requests, 'remote_chunks': c.chunks,
                  'remote_stale_chunks': c.stale, 'remote_superseded_chunks': c.superseded,
                  'remote_unknown_chunks': c.unknown, 'remote_rejected_chunks': c.rejected,
                  'remote_lost_requests': c.lost, 'remote_rtt_ms': f'{c.rtt_ms:.1f}',
                  'remote_bytes_per_frame': self.last_bytes}
        return [KeyValue(key=k, value=str(v)) for k, v in values.items()]

    def destroy(self) -> None:
        """Stop the chunk thread (it finishes its callback), then remove the node and publisher."""
        self._stop.set()
        self._thread.join(timeout=2.0)
        self._executor.shutdown()
        self._node.destroy_node()
        self.node.destroy_publisher(self.pub)
