"""
Node ``vla_policy`` (lifecycle): sensors -> policy -> chunk scheduler -> safety -> controllers.

Every decision (when to infer, commands and their generation, holds, e-stop, faults, clock
jumps, masking) is made by :class:`~vla_ros.core.control.loop.PolicyLoop` (ROS-free, tested
without DDS). This node converts messages, declares parameters, owns the lifecycle and the
threads (docs/policy.md has the measurements behind them):
- ROS callbacks on one executor (``executor``: ``single`` = SingleThreadedExecutor by default;
  ``multi`` = MultiThreadedExecutor with one callback group per role, see ``_groups``):
  sensor subscriptions (SensorInputs), the language command, the e-stop, status, diagnostics
  and the sim-clock watchdog (the last three on the steady clock). Status and diagnostics are
  published in every lifecycle state (:class:`~vla_ros.ros.policy_monitor.PolicyReporter`).
- inference: a :class:`~vla_ros.ros.rt_loop.Worker` thread runs ``PolicyLoop.infer``
  (onnxruntime releases the GIL), woken by the frame that wants a chunk, never by a tick.
  With ``inference_worker: process`` the graph and its preprocessing run in a child process
  (:class:`~vla_ros.core.runtime.worker_process.RuntimeProcess`) and this thread only waits for
  it; a dead child faults the loop (the robot holds).
- control: a :class:`~vla_ros.ros.rt_loop.ControlLoop` thread on absolute deadlines
  (monotonic clock, or the ROS clock with use_sim_time) calls ``PolicyLoop.tick`` and
  publishes its command.
"""

from __future__ import annotations

import time

from diagnostic_msgs.msg import DiagnosticArray
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.clock import Clock, ClockType
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from std_msgs.msg import Bool, String
from vla_ros import constants as C
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.control.adapters import ControllerCommand
from vla_ros.core.control.config import PolicyConfig
from vla_ros.core.control.from_params import policy_config_from_values
from vla_ros.core.control.loop import PolicyLoop
from vla_ros.core.control.watchdog import ClockWatchdog
from vla_ros.core.policy import build_policy, RemoteLink, RuntimeOptions
from vla_ros.core.remote.wire import RemoteConfig
from vla_ros.core.runtime.session import release_free_memory, SessionSettings
from vla_ros.errors import InputMismatchError, VlaRosError
from vla_ros.qos import LATCHED_QOS
from vla_ros.ros.controller_outputs import action_chunk_msg, ControllerOutputs, to_time
from vla_ros.ros.params import declare_policy_parameters, policy_values, warn_unknown_parameters
from vla_ros.ros.policy_debug import DebugImage
from vla_ros.ros.policy_monitor import PolicyReporter, weights_msg
from vla_ros.ros.remote_client import RemoteClient
from vla_ros.ros.rt_loop import (ControlLoop, thread_ids, thread_scheduling, ThreadScheduling,
                                 Worker)
from vla_ros.ros.sensor_inputs import declare_sync_parameters, SensorInputs
from vla_ros_msgs.msg import ActionChunk, ModalityWeights, PolicyStatus

WATCH_PERIOD_MAX_S = 0.1
AUTOSTART_POLL_S = 0.05  # [s] steady: autostart waits for the first /clock with use_sim_time
AUTOSTART_CLOCK = 'autostart configures it once /clock runs'
# Message info (source timestamps) in subscription callbacks: rclpy Iron and later.
try:
    from rclpy.subscription import MessageInfo  # noqa: F401
    HAS_MESSAGE_INFO = True
except ImportError:  # Humble
    HAS_MESSAGE_INFO = False


class VlaPolicy(LifecycleNode):
    """Runs a VLA policy bundle on synchronized frames and commands ros2_control controllers."""

    def __init__(self, **kwargs) -> None:
        super().__init__('vla_policy', **kwargs)
        declare_policy_parameters(self)
        self.sync_config = declare_sync_parameters(self)
        self._groups = {k: MutuallyExclusiveCallbackGroup()
                        for k in ('sensors', 'control', 'command')}
        self.steady_clock = Clock(clock_type=ClockType.STEADY_TIME)
        self.cfg: PolicyConfig | None = None
        self.loop: PolicyLoop | None = None
        self.outputs: ControllerOutputs | None = None
        self.sensors = None
        self.remote = None  # RemoteClient with inference: remote
        self.debug_pub = None
        self._weights = None  # the newest ModalityWeights, drawn on ~/debug_image
        self.status_pub = self.create_publisher(PolicyStatus, '~/status', LATCHED_QOS)
        self.chunk_pub = self.create_publisher(ActionChunk, '~/action_chunk', 10)
        self.weights_pub = self.create_publisher(ModalityWeights, '~/modality_weights', 10)
        self.diag_pub = self.create_publisher(DiagnosticArray, C.DIAGNOSTICS_TOPIC, 10)
        self._active_timers: list = []  # not `_timers`: rclpy.Node keeps its own list there
        self._subs: list = []
        self._worker: Worker | None = None
        self._ort_tids: set[int] = set()
        self._inference_sched = (ThreadScheduling.NORMAL, 0)
        self._in_process = False  # inference_worker: process (the graph in a child process)
        self._control: ControlLoop | None = None
        self._watchdog: ClockWatchdog | None = None
        self._active_since_ns = 0  # wall clock [ns] of the last activation
        self.report = PolicyReporter(self, self.status_pub, self.diag_pub)
        self._autostart_timer = None
        if self.get_parameter('autostart').value:
            self.report.note = 'autostart: configuring'
            self._autostart_timer = self.create_timer(
                AUTOSTART_POLL_S, self._autostart_once, callback_group=self._groups['command'],
                clock=self.steady_clock)
        # steady: status and diagnostics must keep coming when a simulator's /clock stops
        self.create_timer(1.0, self.report.tick, callback_group=self._groups['command'],
                          clock=self.steady_clock)
        warn_unknown_parameters(self)
        self.report.publish_status()  # unconfigured, latched: `vla-ros status` sees it at once

    def _now(self) -> int:
        return self.get_clock().now().nanoseconds

    def _autostart_once(self) -> None:
        """``autostart``: configure + activate once the node clock runs (a lifecycle manager)."""
        if self.report.waiting_for_clock():  # use_sim_time: the first /clock starts it
            self.report.log_clock_wait()
            if self.report.note != AUTOSTART_CLOCK:
                self.report.note = AUTOSTART_CLOCK
                self.report.publish_status()
            return
        self.destroy_timer(self._autostart_timer)
        if self.trigger_configure() == TransitionCallbackReturn.SUCCESS:
            self.trigger_activate()
        else:
            self.get_logger().error('autostart: configure failed; staying unconfigured')

    # -- lifecycle ------------------------------------------------------------------------

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        self.report.note = 'configuring: loading the bundle'
        self.report.publish_status()
        try:
            values = policy_values(self)
            cfg = self.cfg = policy_config_from_values(values)
            if not cfg.bundle:
                raise VlaRosError('parameter bundle is empty: point it at a policy bundle')
            remote = RemoteConfig.from_values(values)
            bundle = load_bundle(cfg.bundle)
            if remote is not None:  # the graph runs on vla_inference; everything else here
                self.remote = RemoteClient(self, bundle.manifest, remote)
            self._inference_sched = (thread_scheduling(values['inference_scheduling'],
                                                       values['inference_nice']),
                                     int(values['inference_nice']))
            self._in_process = values['inference_worker'] == 'process' and remote is None
            before = thread_ids()
            stack = build_policy(
                bundle, cfg, clock=self._now, sync_config=self.sync_config,
                mask=values['mask_modalities'],
                runtime=RuntimeOptions(
                    providers=tuple(values['providers']),
                    session=SessionSettings.from_values(values),
                    text_encoder_resident=bool(values['text_encoder_resident']),
                    worker=values['inference_worker'],
                    scheduling=values['inference_scheduling'],
                    nice=int(values['inference_nice'])),
                remote=None if remote is None else RemoteLink(remote, self.remote.send))
            self._ort_tids = thread_ids() - before  # onnxruntime's intra-op pool
            self.loop, self.sync_config, m = stack.loop, stack.sync_config, stack.loop.manifest
            if self.remote is not None:
                self.remote.bind(stack.source, self._publish_result)
        except VlaRosError as e:
            self.get_logger().error(f'configure failed: {e}')
            self.report.config_fault = f'configure failed: {e}'
            self.on_cleanup(state)  # drops what was built before the failure; status: fault
            return TransitionCallbackReturn.FAILURE
        self.report.config_fault = ''
        if cfg.eval_added_latency_s > 0:
            self.get_logger().warning(
                f'EVALUATION ONLY: every chunk is delayed by eval_added_latency_ms='
                f'{cfg.eval_added_latency_s * 1e3:g} after inference (a slower policy)')
        if not cfg.dry_run:
            self.outputs = ControllerOutputs(self, cfg.adapter)
        if cfg.debug_image:
            self.debug_pub = DebugImage(self)
        loop = self.loop
        self.sensors = SensorInputs(
            self, self.sync_config, callback_group=self._groups['sensors'],
            on_frame=self._on_frame, on_reject=loop.on_reject,
            on_clock_jump=loop.on_time_jump, on_joint_state=loop.on_joint_state,
            subscribe_command=False)  # one command path: _on_command -> loop -> sensors
        self._subs = [
            self.create_subscription(
                String, C.COMMAND_TOPIC,
                self._on_command_info if HAS_MESSAGE_INFO else self._on_command, LATCHED_QOS,
                callback_group=self._groups['command']),
            self.create_subscription(Bool, C.ESTOP_TOPIC, self._on_estop, LATCHED_QOS,
                                     callback_group=self._groups['control'])]
        release_free_memory()  # what loading the bundle parsed and freed (tens of MB)
        self.report.publish_status()  # inactive
        self.get_logger().info(
            f'configured: bundle {m.model_id} ({m.action_kind}, H={m.horizon}, dt={m.dt}s) -> '
            f'{cfg.adapter.kind.value} {cfg.adapter.topic} at {1 / loop.period_s:.1f} Hz, '
            f'{"DRY RUN (preview only)" if cfg.dry_run else "COMMANDING CONTROLLERS"}')
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._active_since_ns = time.time_ns()
        self.loop.activate()
        log = self.get_logger()
        scheduling, nice = self._inference_sched
        self._worker = Worker(self._infer_once, logger=log, name='vla_inference',
                              scheduling=scheduling, nice=nice,
                              helper_tids=self._ort_tids,
                              keep_realtime=self._in_process).start()
        sim = bool(self.get_parameter('use_sim_time').value)
        self._control = ControlLoop(
            self.loop.period_s, self._control_tick, logger=log,
            clock=self.get_clock() if sim else None,
            priority=int(self.get_parameter('realtime_priority').value)).start()
        # Status and the clock watchdog run on the steady clock: they must keep reporting
        # when a simulator's /clock stops.
        steady, group = self.steady_clock, self._groups['command']
        self._active_timers = [self.create_timer(
            1.0 / self.cfg.status_rate_hz, self.report.publish_status, callback_group=group,
            clock=steady)]
        if sim:
            self._watchdog = ClockWatchdog(self.cfg.clock_timeout_s)
            self._active_timers.append(self.create_timer(
                min(self.cfg.clock_timeout_s / 4, WATCH_PERIOD_MAX_S), self._check_clock,
                callback_group=group, clock=steady))
        self.report.publish_status()
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_threads()
        self._send(self.loop.deactivate(self._now()))
        for t in self._active_timers:
            self.destroy_timer(t)
        self._active_timers = []
        self._watchdog = None
        self.report.publish_status()
        return super().on_deactivate(state)

    def _stop_threads(self) -> None:
        """Stop the control loop, then the worker (each finishes its current step first)."""
        for t in (self._control, self._worker):
            if t is not None:
                t.stop()
        self._control = self._worker = None

    def destroy_node(self) -> None:
        # our threads stop before the publishers they use go (vla_ros.ros.spin)
        self._stop_threads()
        if self.remote is not None:
            self.remote.destroy()
            self.remote = None
        self._close_source()
        super().destroy_node()

    def _close_source(self) -> None:
        """Stop what computes the chunks (``inference_worker: process``: the child process)."""
        if self.loop is not None:
            self.loop.source.close()

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        for s in self._subs:
            self.destroy_subscription(s)
        self._subs = []
        for part in (self.outputs, self.remote):
            if part is not None:
                part.destroy()
        self._close_source()
        self.outputs = self.remote = self.loop = None
        self.report.note = ''
        self.report.publish_status()  # unconfigured
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self.loop is not None and self.loop.active:
            self.on_deactivate(state)
        return TransitionCallbackReturn.SUCCESS

    # -- events ---------------------------------------------------------------------------

    def _on_frame(self, frame) -> None:
        """
        Start inference now if a chunk is wanted (the SensorInputs callback).

        It never waits for a control tick, so a chunk is always computed from the newest
        observation.
        """
        if self.loop.on_frame(frame) and self._worker is not None:
            self._worker.wake()

    def _on_command_info(self, msg: String, info) -> None:
        """
        Take the command with its DDS source timestamp [ns, system clock].

        A command latched before this node was activated (a restarted policy) is not obeyed.
        """
        sent = int(info.get('source_timestamp') or 0)
        if 0 < sent < self._active_since_ns:
            age = (self._active_since_ns - sent) / 1e9
            self.loop.counters.rejected_commands += 1
            self.get_logger().warning(
                f'ignored command {msg.data[:80]!r}: published {age:.1f} s before this node '
                'was activated (a node that (re)starts waits for a new command)')
            return
        self._on_command(msg)

    def _on_command(self, msg: String) -> None:
        out = self.loop.on_command(msg.data, self._now())
        if out.ignored:
            self.get_logger().warning(
                f'command {out.shown!r} ignored: more than max_command_rate_hz '
                f'{self.cfg.max_command_rate_hz:g} ({self.loop.counters.rejected_commands} so '
                'far)', throttle_duration_sec=2.0)
            return
        self.sensors.set_command(self.loop.command)
        self.get_logger().info(f'command {out.shown!r}: {out.action.value} {out.detail[:200]!r}')
        self.report.publish_status()

    def _on_estop(self, msg: Bool) -> None:
        self._send(self.loop.on_estop(bool(msg.data), self._now()))
        self.get_logger().warn(f'e-stop {"ENGAGED" if msg.data else "cleared"}')
        self.report.publish_status()

    def _check_clock(self) -> None:
        """Steady timer (use_sim_time): a stalled /clock stops the robot."""
        dog = self._watchdog
        if dog is None or self.loop is None:
            return
        was = dog.stalled
        still = dog.update(self._now(), time.monotonic())
        if still is None or was:
            return
        self._send(self.loop.on_clock_stall(still, self._now()))
        self.get_logger().error(self.loop.reason)
        self.report.publish_status()

    # -- threads --------------------------------------------------------------------------

    def _infer_once(self) -> None:
        """Inference worker (own thread): newest frame -> chunk -> scheduler + preview."""
        try:
            res = self.loop.infer()
        except InputMismatchError as e:
            self.get_logger().warning(f'frame unusable: {e}', throttle_duration_sec=5.0)
            return
        except VlaRosError as e:
            self.get_logger().error(f'inference failed: {e}', throttle_duration_sec=2.0)
            self.report.publish_status()
            return
        if res is not None:
            self._publish_result(res)

    def _publish_result(self, res) -> None:
        """Preview a chunk that entered the scheduler (and its weights / debug image)."""
        m, out = self.loop.manifest, res.output
        self.chunk_pub.publish(action_chunk_msg(
            res.actions, names=m.action_names, units=m.action_units, kind=out.kind, dt=out.dt,
            model_id=m.model_id, due_ns=out.frame_stamp_ns, frame_stamp_ns=out.frame_stamp_ns,
            latency_s=out.timings_ms.get('total', 0.0) * 1e-3))
        if res.weights is not None:
            self.weights_pub.publish(weights_msg(res.weights, stamp=to_time(out.frame_stamp_ns),
                                                 model_id=m.model_id))
            self._weights = res.weights
        if self.debug_pub is not None:
            self.debug_pub.publish(res.frame, res.actions, res.command, m.action_names,
                                   self._weights)

    def _control_tick(self) -> None:
        now = self._now()
        out = self.loop.tick(now)
        self._send(out.command, now)
        if out.status_changed:
            self.report.publish_status()

    def _send(self, command: ControllerCommand | None, now: int | None = None) -> None:
        if command is not None and self.outputs is not None:  # dry run: previews only
            self.outputs.publish(command, self._now() if now is None else now)
