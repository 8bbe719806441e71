"""
Node ``vla_inference``: runs a policy bundle for robots elsewhere (docs/distributed.md).

The other half of ``vla_policy`` with ``inference: remote``: takes ``RemoteFrame`` requests on
``<robot>/vla/remote/frame`` and answers each with an ``ActionChunk`` on
``<robot>/vla/remote/chunk`` whose ``frame_stamp`` is the request's stamp. It keeps no robot
state and decides nothing about safety: the robot schedules, filters and holds. A request's
action prefix (``prefix_*``: what the robot commits while the chunk is computed, bundles with an
``action_prefix`` input) goes to the runtime with its frame; a request without one (an older
robot) is inferred with d = 0, as the robot's first chunk is.

One server, many robots: ``robots`` lists the namespaces served (``['']`` = this node's own).
Requests that arrive within ``batch_window_ms`` of each other run as one batch through the
graph's dynamic batch axis (:class:`~vla_ros.core.remote.batching.BatchQueue`); ``max_batch: 1``
serves one frame at a time. A bad request (undecodable, another bundle, a frame the bundle
cannot use) is dropped with a throttled log and counted on ``/diagnostics``; the robot's
chunk timeout makes it hold.

``backend: ray`` makes the node a gateway (docs/distributed.md, "Ray Serve"): the DDS side is
the same, but each decoded frame goes to the Ray Serve deployment of the bundle
(:class:`~vla_ros.serving.gateway.ServeGateway`; replicas on the cluster's hosts, Serve's
batching instead of ours, replicas restarted by Ray). A request that fails or times out is
answered with nothing, so the robot holds as on a lost link. Ray is imported only then. The
Ray path does not carry the action prefix yet: its chunks are d = 0 (a warning says so).
"""

from __future__ import annotations

from dataclasses import dataclass
import functools
import threading

from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.node import Node
from vla_ros import constants as C
from vla_ros.core.bundle.contract import Manifest
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.control.counters import RateMeter
from vla_ros.core.frame import Frame
from vla_ros.core.policy import open_runtime, RuntimeOptions
from vla_ros.core.remote.batching import BatchQueue
from vla_ros.core.remote.served import FrameService, ServedChunk
from vla_ros.core.remote.wire import REMOTE_CHUNK_TOPIC, REMOTE_FRAME_TOPIC
from vla_ros.core.runtime.policy_runtime import PolicyOutput
from vla_ros.core.runtime.prefix import ActionPrefix
from vla_ros.core.runtime.session import SessionSettings
from vla_ros.errors import ConfigError, VlaRosError
from vla_ros.harness.locate import find_default_bundle
from vla_ros.params.inference import BACKENDS
from vla_ros.qos import REMOTE_CHUNK_QOS, REMOTE_FRAME_QOS
from vla_ros.ros.controller_outputs import action_chunk_msg
from vla_ros.ros.frame_msgs import frame_from_remote, prefix_from_remote
from vla_ros.ros.params import declare_node_parameters, warn_unknown_parameters
from vla_ros_msgs.msg import ActionChunk, RemoteFrame

LOG_THROTTLE_S = 2.0
GIL_SWITCH_INTERVAL_S = 0.0005


def topic(robot: str, name: str) -> str:
    """Return ``name`` in the robot's namespace ('' = relative to this node's)."""
    robot = robot.strip().rstrip('/')
    return f'{robot}/{name}' if robot else name


@dataclass
class ServerCounters:
    """What the server did, for /diagnostics."""

    chunks: int = 0
    rejected: int = 0
    failed: int = 0
    last_reject: str = ''
    run_ms: float = 0.0   # last batch: policy run [ms]


class VlaInference(Node):
    """Serves policy chunks to one or many robots over DDS, batching their frames."""

    def __init__(self, **kwargs) -> None:
        super().__init__('vla_inference', **kwargs)
        v = declare_node_parameters(self, 'vla_inference')
        warn_unknown_parameters(self)
        path = str(v['bundle'])
        if not path:
            path = str(find_default_bundle())
        robots = list(dict.fromkeys(str(r) for r in v['robots'])) or ['']
        if len({topic(r, '') for r in robots}) != len(robots):
            raise ConfigError(f'robots {robots}: two entries name the same namespace')
        self.backend = str(v['backend'])
        if self.backend not in BACKENDS:
            raise ConfigError(f'backend {self.backend!r}: expected one of {list(BACKENDS)}')
        bundle = load_bundle(path)
        self.manifest: Manifest = bundle.manifest
        self.model_id, max_batch = self.manifest.model_id, int(v['max_batch'])
        self.gateway: FrameService | None = None
        if self.backend == 'ray':
            self.gateway = self._open_gateway(v)
            max_batch = 1  # nothing batches here: Serve does, in the replicas
        else:
            self.runtime = open_runtime(bundle, RuntimeOptions(
                providers=tuple(v['providers']), text_encoder_resident=True,
                session=SessionSettings.from_values(v)))
            m = self.manifest
            fixed = [s.name for s in (*m.inputs, *m.outputs) if s.shape[:1] != (-1,)]
            if fixed and max_batch > 1:
                self.get_logger().warning(f'{fixed} have a fixed batch size: serving one '
                                          'frame at a time (max_batch 1)')
                max_batch = 1
        self.queue: BatchQueue[tuple[Frame, ActionPrefix | None]] = BatchQueue(
            robots, window_s=float(v['batch_window_ms']) * 1e-3, max_batch=max_batch)
        self.counters = ServerCounters()
        self.rate = RateMeter()
        group = MutuallyExclusiveCallbackGroup()
        self._pubs = {r: self.create_publisher(ActionChunk, topic(r, REMOTE_CHUNK_TOPIC),
                                               REMOTE_CHUNK_QOS) for r in robots}
        self._subs = [self.create_subscription(
            RemoteFrame, topic(r, REMOTE_FRAME_TOPIC), functools.partial(self._on_frame, r),
            REMOTE_FRAME_QOS, callback_group=group) for r in robots]
        self.diag_pub = self.create_publisher(DiagnosticArray, C.DIAGNOSTICS_TOPIC, 10)
        self.create_timer(float(v['diagnostics_period_s']), self._publish_diagnostics,
                          callback_group=MutuallyExclusiveCallbackGroup())
        self._running = True
        self._run_lock = threading.Lock()  # one batch at a time through the session
        self._thread = threading.Thread(target=self._serve, name='vla_inference_batches',
                                        daemon=True)
        if self.gateway is None:
            self._thread.start()
        where = (f'Ray Serve app {v["ray.app"]!r} (replica {self.gateway.info.replica}, '
                 f'batches of <= {self.gateway.info.max_batch})' if self.gateway else
                 f'{list(self.runtime.active_providers)}, batches of <= {self.queue.max_batch} '
                 f'within {self.queue.window_s * 1e3:g} ms')
        self.get_logger().info(
            f'serving {self.model_id} to '
            f'{[self.resolve_topic_name(topic(r, REMOTE_FRAME_TOPIC)) for r in robots]} '
            f'with {where}')

    def _open_gateway(self, v: dict) -> FrameService:
        """Connect to the Serve deployment; it must serve this bundle."""
        # optional heavy dependency: ray (only backend ray imports it)
        from vla_ros.serving.gateway import ServeGateway

        gateway = ServeGateway(str(v['ray.address']) or 'auto', self._on_served,
                               app=str(v['ray.app']),
                               timeout_s=float(v['ray.request_timeout_s']))
        if gateway.info.model_id != self.model_id:
            gateway.close()
            raise ConfigError(f'the Ray Serve app {v["ray.app"]!r} serves '
                              f'{gateway.info.model_id!r}, the bundle here is {self.model_id!r}')
        return gateway

    def _reject(self, robot: str, why: str) -> None:
        self.counters.rejected += 1
        self.counters.last_reject = f'{robot or "/"}: {why}'[:300]
        self.get_logger().warning(f'request dropped: {self.counters.last_reject}',
                                  throttle_duration_sec=LOG_THROTTLE_S)

    def _on_frame(self, robot: str, msg: RemoteFrame) -> None:
        if msg.model_id and msg.model_id != self.model_id:
            self._reject(robot, f'for bundle {msg.model_id!r}, this server runs '
                                f'{self.model_id!r}')
            return
        try:
            frame = frame_from_remote(msg)
            prefix = prefix_from_remote(msg, len(self.manifest.action_names))
        except VlaRosError as e:
            self._reject(robot, f'undecodable frame: {e}')
            return
        if self.gateway is not None:
            if prefix is not None:
                self.get_logger().warning(
                    'backend ray does not carry the action prefix yet: chunks are d = 0',
                    once=True)
            self.gateway.submit(robot, frame)
            return
        batch = self.queue.put(robot, (frame, prefix))
        if batch:  # complete: run it here (a hand-off to the batch thread costs ~1 ms)
            with self._run_lock:
                self._answer(batch)

    # -- the inference thread -------------------------------------------------------------

    def _serve(self) -> None:
        while self._running:
            batch = self.queue.take(timeout_s=0.5)
            if batch:
                with self._run_lock:
                    self._answer(batch)

    def _answer(self, batch: list[tuple[str, tuple[Frame, ActionPrefix | None]]]) -> None:
        try:
            outs: list[PolicyOutput | None] = list(self.runtime.infer_batch(
                [f for _, (f, _) in batch], [p for _, (_, p) in batch]))
        except VlaRosError:
            outs = [self._one(robot, *req) for robot, req in batch]  # find the bad frame(s)
        for (robot, _), out in zip(batch, outs):
            if out is not None:
                self.counters.run_ms = out.timings_ms.get('run', 0.0)
                self._publish(robot, out.actions, kind=out.kind, dt=out.dt,
                              stamp_ns=out.frame_stamp_ns,
                              latency_s=out.timings_ms.get('total', 0.0) * 1e-3)

    def _publish(self, robot: str, actions: object, *, kind: str, dt: float, stamp_ns: int,
                 latency_s: float) -> None:
        m = self.manifest
        self._pubs[robot].publish(action_chunk_msg(
            actions, names=m.action_names, units=m.action_units, kind=kind, dt=dt,
            model_id=self.model_id, due_ns=stamp_ns, frame_stamp_ns=stamp_ns,
            latency_s=latency_s))
        self.counters.chunks += 1
        self.rate.tick()

    def _on_served(self, robot: str, frame: Frame, out: ServedChunk | None, why: str) -> None:
        """Publish a chunk from Ray Serve (on the gateway's thread); count a failure."""
        if out is None or why or out.actions is None:
            self.counters.failed += 1
            self._reject(robot, why or 'no chunk')
            return
        self.counters.run_ms = out.run_ms
        self._publish(robot, out.actions, kind=out.kind, dt=out.dt, stamp_ns=out.frame_stamp_ns,
                      latency_s=out.run_ms * 1e-3)

    def _one(self, robot: str, frame: Frame,
             prefix: ActionPrefix | None) -> PolicyOutput | None:
        try:
            return self.runtime.infer(frame, prefix)
        except VlaRosError as e:
            self.counters.failed += 1
            self._reject(robot, f'frame unusable: {e}')
            return None

    # -- reporting ------------------------------------------------------------------------

    def _publish_diagnostics(self) -> None:
        c, s = self.counters, self.queue.stats
        values = {'model_id': self.model_id, 'backend': self.backend, 'robots': len(self._pubs),
                  'requests': s.requests, 'superseded': s.superseded, 'chunks': c.chunks,
                  'chunk_rate_hz': f'{self.rate.rate():.1f}', 'batches': s.batches,
                  'mean_batch': f'{s.mean_batch:.2f}', 'largest_batch': s.largest,
                  'run_ms': f'{c.run_ms:.1f}', 'rejected': c.rejected, 'failed': c.failed,
                  'last_reject': c.last_reject}
        if self.gateway is not None:
            values.update(self.gateway.diagnostics())
        msg = DiagnosticArray()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.status = [DiagnosticStatus(
            level=DiagnosticStatus.WARN if c.rejected else DiagnosticStatus.OK,
            name=f"{self.get_fully_qualified_name().lstrip('/')}: inference server",
            hardware_id=self.get_fully_qualified_name(),
            message=f'{c.chunks} chunks, mean batch {s.mean_batch:.2f}',
            values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])]
        self.diag_pub.publish(msg)

    def destroy_node(self) -> None:
        self._running = False
        self.queue.close()
        if self.gateway is not None:
            self.gateway.close()
        elif self._thread.is_alive():
            self._thread.join(timeout=5.0)
        super().destroy_node()
