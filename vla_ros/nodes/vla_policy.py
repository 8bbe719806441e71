"""Node ``vla_policy`` (lifecycle): sensors -> policy -> chunk scheduler -> safety -> controllers.

Concurrency (three threads; docs/policy.md has the measurements behind it):
- ROS callbacks on one executor (``executor``: ``single`` = SingleThreadedExecutor by default;
  ``multi`` = MultiThreadedExecutor with one callback group per role, see ``_groups``):
  SensorInputs subscriptions, the language command, the e-stop, status and diagnostics.
  ``_on_frame`` stores the frame and, when the scheduler wants a chunk and no inference runs,
  wakes the inference worker at once (no waiting for a tick).
- inference: a :class:`~vla_ros.nodes.rt_loop.Worker` thread runs ``PolicyRuntime.infer``
  (onnxruntime releases the GIL), converts and hands the chunk to the scheduler.
- control: a :class:`~vla_ros.nodes.rt_loop.ControlLoop` thread on absolute deadlines
  (monotonic clock, or the ROS clock with use_sim_time) publishes one action per tick through
  the safety filter, whatever the sensor load. The state lock is held only for bookkeeping.
"""

from __future__ import annotations

import dataclasses
import sys
import threading

import rclpy
import rclpy.logging
from diagnostic_msgs.msg import DiagnosticArray
from rclpy.callback_groups import MutuallyExclusiveCallbackGroup
from rclpy.executors import ExternalShutdownException
from rclpy.lifecycle import LifecycleNode, LifecycleState, TransitionCallbackReturn
from rclpy.qos import QoSDurabilityPolicy, QoSProfile, QoSReliabilityPolicy
from std_msgs.msg import Bool, String
from vla_ros_msgs.msg import ActionChunk, PolicyStatus

from vla_ros import constants as C
from vla_ros.core.adapters import ActionMapping, make_command, positions_for, to_command_space
from vla_ros.core.masking import check_mask, mask_frame
from vla_ros.core.policy_config import PolicyConfig, check_bundle, fit_tactile
from vla_ros.core.safety import ControlMode, SafetyConfig, SafetyFilter, SafetyState
from vla_ros.core.scheduler import ChunkScheduler, SchedulerMode
from vla_ros.errors import InputMismatchError, VlaRosError
from vla_ros.nodes.controller_outputs import ControllerOutputs, action_chunk_msg
from vla_ros.nodes.policy_commands import PolicyCommands
from vla_ros.nodes.policy_monitor import PolicyCounters, PolicyReporting
from vla_ros.nodes.param_table import warn_unknown_parameters
from vla_ros.nodes.policy_params import (declare_policy_parameters, policy_values,
                                         read_policy_config)
from vla_ros.nodes.policy_watch import PolicyWatch
from vla_ros.nodes.rt_loop import ControlLoop, Worker, make_executor

# Commands and the e-stop are latched: a late-joining node still gets the last one.
LATCHED_QOS = QoSProfile(depth=1, reliability=QoSReliabilityPolicy.RELIABLE,
                         durability=QoSDurabilityPolicy.TRANSIENT_LOCAL)


class VlaPolicy(PolicyCommands, PolicyReporting, PolicyWatch, LifecycleNode):
    """Runs a VLA policy bundle on synchronized frames and commands ros2_control controllers."""

    def __init__(self, **kwargs) -> None:
        super().__init__('vla_policy', **kwargs)
        from vla_ros.nodes.sync_params import declare_sync_parameters
        declare_policy_parameters(self)
        self.sync_config = declare_sync_parameters(self)
        self._groups = {k: MutuallyExclusiveCallbackGroup()
                        for k in ('sensors', 'control', 'command')}
        self._lock = threading.Lock()      # scheduler, safety, latest frame, counters
        self._runtime_lock = threading.Lock()  # PolicyRuntime is one-caller-at-a-time
        self.cfg: PolicyConfig | None = None
        self.masked: tuple[str, ...] = ()  # mask_modalities (ablations)
        self.runtime = self.scheduler = self.safety = self.mapping = None
        self.outputs: ControllerOutputs | None = None
        self.sensors = None
        self.counters = PolicyCounters()
        self._reset_state()
        self.status_pub = self.create_publisher(PolicyStatus, '~/status', LATCHED_QOS)
        self.chunk_pub = self.create_publisher(ActionChunk, '~/action_chunk', 10)
        self.diag_pub = self.create_publisher(DiagnosticArray, '/diagnostics', 10)
        self.debug_pub = None
        self._timers: list = []
        self._subs: list = []
        self._worker: Worker | None = None
        self._loop: ControlLoop | None = None
        self._last_status_key = None
        self._autostart_timer = None
        if self.get_parameter('autostart').value:
            self._autostart_timer = self.create_timer(
                0.01, self._autostart_once, callback_group=self._groups['command'])
        warn_unknown_parameters(self)

    def _reset_state(self) -> None:
        self.active = False
        self.latest_frame = None
        self.frame_problem = ''
        self.command = ''
        self.command_gen = 0
        self.inflight = False
        self.reject_reason = ''
        self.moved = False
        self.last_inferred_stamp = -1
        self.state, self.reason = SafetyState.IDLE, 'not active'

    def _autostart_once(self) -> None:
        """``autostart``: configure + activate once (what a lifecycle manager would do)."""
        self.destroy_timer(self._autostart_timer)
        if self.trigger_configure() == TransitionCallbackReturn.SUCCESS:
            self.trigger_activate()
        else:
            self.get_logger().error('autostart: configure failed; staying unconfigured')

    # -- lifecycle ------------------------------------------------------------------------

    def on_configure(self, state: LifecycleState) -> TransitionCallbackReturn:
        from vla_ros.core.runtime import PolicyRuntime
        from vla_ros.nodes.sensor_inputs import SensorInputs
        try:
            cfg = self.cfg = read_policy_config(self)
            if not cfg.bundle:
                raise VlaRosError('parameter bundle is empty: point it at a policy bundle')
            self.runtime = PolicyRuntime.from_bundle(
                cfg.bundle, intra_op_threads=cfg.intra_op_threads,
                providers=tuple(self.get_parameter('providers').value))
            m = self.runtime.manifest
            problems = check_bundle(m, cfg, cameras=[c.name for c in self.sync_config.cameras],
                                    joint_names=self.sync_config.joint_names)
            if problems:
                raise VlaRosError('bundle does not fit the robot config:\n  ' +
                                  '\n  '.join(problems))
            self.period_s = cfg.period_s(m.dt)
            self.mode = cfg.adapter.control_mode(m.action_kind)
            self.mapping = ActionMapping(m.action_names, cfg.adapter)
            self.safety = SafetyFilter(SafetyConfig.from_named(
                m.action_names, cfg.joint_limits, mode=self.mode, period_s=self.period_s,
                max_frame_age_s=cfg.max_frame_age_s, max_motion_time_s=cfg.max_motion_time_s,
                hold_latch_s=cfg.hold_latch_s))
            self.scheduler = ChunkScheduler(cfg.scheduler)
            grip = cfg.adapter.gripper_action
            self.aliases = {grip: cfg.gripper_joint_state or grip}
            self.masked = check_mask(policy_values(self)['mask_modalities'])
            self.sync_config = fit_tactile(self.sync_config, m)
        except VlaRosError as e:
            self.get_logger().error(f'configure failed: {e}')
            self._publish_configure_fault(f'configure failed: {e}')
            return TransitionCallbackReturn.FAILURE
        if not cfg.dry_run:
            self.outputs = ControllerOutputs(self, cfg.adapter)
        if cfg.debug_image:
            from vla_ros.nodes.policy_debug import DebugImage
            self.debug_pub = DebugImage(self)
        self.sensors = SensorInputs(self, self.sync_config, callback_group=self._groups[
            'sensors'], on_frame=self._on_frame, on_reject=self._on_reject,
            on_clock_jump=self._on_clock_jump)
        self._subs = [
            self.create_subscription(String, C.COMMAND_TOPIC, self._on_command, LATCHED_QOS,
                                     callback_group=self._groups['command']),
            self.create_subscription(Bool, C.ESTOP_TOPIC, self._on_estop, LATCHED_QOS,
                                     callback_group=self._groups['control'])]
        self.get_logger().info(
            f'configured: bundle {m.model_id} ({m.action_kind}, H={m.horizon}, dt={m.dt}s) -> '
            f'{cfg.adapter.kind.value} {cfg.adapter.topic} at {1 / self.period_s:.1f} Hz, '
            f'{"DRY RUN (preview only)" if cfg.dry_run else "COMMANDING CONTROLLERS"}')
        return TransitionCallbackReturn.SUCCESS

    def on_activate(self, state: LifecycleState) -> TransitionCallbackReturn:
        with self._lock:
            self.active = True
            self.scheduler.reset()
        log = self.get_logger()
        self._worker = Worker(self._infer_once, logger=log, name='vla_inference').start()
        sim = bool(self.get_parameter('use_sim_time').value)
        self._loop = ControlLoop(
            self.period_s, self._control_tick, logger=log, clock=self.get_clock() if sim
            else None, priority=int(self.get_parameter('realtime_priority').value)).start()
        # Status, diagnostics and the clock watchdog run on the steady clock: they must keep
        # reporting when a simulator's /clock stops.
        steady, group = self.steady_clock, self._groups['command']
        self._timers = [
            self.create_timer(1.0 / self.cfg.status_rate_hz, self._publish_status,
                              callback_group=group, clock=steady),
            self.create_timer(1.0, self._publish_diagnostics, callback_group=group,
                              clock=steady),
            *self._watch_timers(sim, group)]
        self._publish_status(force=True)
        return super().on_activate(state)

    def on_deactivate(self, state: LifecycleState) -> TransitionCallbackReturn:
        self._stop_threads()
        with self._lock:
            self.active = False
            self.safety.stop('deactivated')
            self.scheduler.reset()
            if self.moved:
                self._send_hold_locked(self.get_clock().now().nanoseconds)
        for t in self._timers:
            self.destroy_timer(t)
        self._timers = []
        self._publish_status(force=True)
        return super().on_deactivate(state)

    def _stop_threads(self) -> None:
        """Stop the control loop, then the worker (each finishes its current step first)."""
        for t in (self._loop, self._worker):
            if t is not None:
                t.stop()
        self._loop = self._worker = None

    def destroy_node(self) -> None:
        self._stop_threads()  # no publishing from our threads into destroyed publishers
        super().destroy_node()

    def on_cleanup(self, state: LifecycleState) -> TransitionCallbackReturn:
        for s in self._subs:
            self.destroy_subscription(s)
        self._subs = []
        if self.outputs:
            self.outputs.destroy()
            self.outputs = None
        self.runtime = None
        self._reset_state()
        return TransitionCallbackReturn.SUCCESS

    def on_shutdown(self, state: LifecycleState) -> TransitionCallbackReturn:
        if self.active:
            self.on_deactivate(state)
        return TransitionCallbackReturn.SUCCESS

    # -- sensors and inference ------------------------------------------------------------

    def _on_frame(self, frame) -> None:
        """SensorInputs callback (sensor thread): keep the frame; start inference now if a
        chunk is wanted, so inference never waits for a control tick."""
        with self._lock:  # a sim reset was handled in _on_clock_jump before this frame
            self.latest_frame = frame
            self.frame_problem = ''
            self.counters.frames.tick()
            start = self._want_inference_locked(frame.stamp_ns)
        if start and self._worker is not None:
            self._worker.wake()

    def _on_clock_jump(self) -> None:
        """Sensor time went back (sim reset): the arm may have been moved; a hold latched in
        the old timeline would drag it back, so the next hold latches where it is now."""
        with self._lock:
            self.safety.on_time_jump()
            self.scheduler.reset()
            self.last_inferred_stamp = -1
            self.latest_frame = None  # its joints are the old pose: hold nothing until a new one

    def _on_reject(self, key: str, reason: str) -> None:
        """A rejected message is counted (diagnostics) and costs nothing else: the frame it
        would have joined is built from the other data or fails on its own. Only a frame that
        cannot be built (a required modality missing) holds the robot."""
        with self._lock:
            if key == 'frame':
                self.frame_problem = f'no frame: {reason}'
                self.counters.rejected_frames += 1
            else:
                self.counters.rejected_messages += 1
            self.counters.last_reject = reason

    def _want_inference_locked(self, now_ns: int) -> bool:
        if (not self.active or self.inflight or self.latest_frame is None
                or self.latest_frame.stamp_ns <= self.last_inferred_stamp
                or self.cfg.scheduler.mode is SchedulerMode.SYNC
                or self.safety.check(now_ns, self.latest_frame.stamp_ns,
                                     self.frame_problem)[0] is not SafetyState.RUNNING
                or not self.scheduler.needs_inference(now_ns)):
            return False
        self.inflight = True
        self.last_inferred_stamp = self.latest_frame.stamp_ns
        return True

    def _infer_once(self) -> None:
        """Inference worker (own thread): newest frame -> chunk -> scheduler."""
        try:
            with self._lock:
                frame, gen = self.latest_frame, self.command_gen
            if frame is not None:
                self._run_policy(frame, gen)
        finally:
            with self._lock:
                self.inflight = False

    def _run_policy(self, frame, gen: int) -> None:
        m = self.runtime.manifest
        try:
            with self._runtime_lock:
                out = self.runtime.infer(mask_frame(frame, self.masked))
            actions = to_command_space(out.actions, out.kind, out.action_names,
                                       frame.joint_names, frame.joint_positions)
        except InputMismatchError as e:  # the frame, not the policy: hold, do not latch
            with self._lock:
                if frame is self.latest_frame:
                    self.frame_problem = f'frame unusable: {e}'[:300]
                self.counters.rejected_frames += 1
            self.get_logger().warning(f'frame unusable: {e}', throttle_duration_sec=5.0)
            return
        except VlaRosError as e:
            with self._lock:
                if gen == self.command_gen:
                    self.safety.fault(f'inference failed: {e}'[:300])
                    self.scheduler.reset()
            self.get_logger().error(f'inference failed: {e}', throttle_duration_sec=2.0)
            self._publish_status()
            return
        now = self.get_clock().now().nanoseconds
        with self._lock:
            if gen != self.command_gen or not self.active:
                return  # the command changed while this chunk was computed
            self.scheduler.add_chunk(actions, out.frame_stamp_ns, out.dt, now_ns=now)
            c = self.counters
            c.e2e_ms = (now - out.frame_stamp_ns) * 1e-6
            c.latencies_ms.append(out.timings_ms.get('run', 0.0))
            c.chunks += 1
            c.chunks_rate.tick()
        self.chunk_pub.publish(action_chunk_msg(
            actions, names=m.action_names, units=m.action_units, kind=out.kind, dt=out.dt,
            model_id=m.model_id, due_ns=out.frame_stamp_ns, frame_stamp_ns=out.frame_stamp_ns,
            latency_s=out.timings_ms.get('total', 0.0) * 1e-3))
        if self.debug_pub is not None:
            self.debug_pub.publish(frame, actions, self.command, m.action_names)

    # -- control --------------------------------------------------------------------------

    def _control_tick(self) -> None:
        now = self.get_clock().now().nanoseconds
        if self.cfg.scheduler.mode is SchedulerMode.SYNC:
            self._sync_inference(now)
        with self._lock:
            if not self.active:
                return
            self.counters.control.tick()
            frame = self.latest_frame
            sched = self.scheduler.next_action(now) if self.safety.command_active else None
            current = self._current_locked()
            decision = self.safety.step(
                None if sched is None else sched.values, now_ns=now, current=current,
                frame_stamp_ns=None if frame is None else frame.stamp_ns,
                frame_problem=self.frame_problem)
            if not decision.hold:
                self.moved = True
                self._publish_command_locked(decision.command, now, hold=False)
            elif self.moved and decision.command is not None:
                self.counters.holds += 1
                self._publish_command_locked(decision.command, now, hold=True)
            if decision.state in (SafetyState.FAULT, SafetyState.ESTOPPED, SafetyState.IDLE):
                self.scheduler.reset()
            self.state, self.reason = decision.state, self.reject_reason or decision.reason
        # No inference is started here: the next fresh frame starts it (``_on_frame``), so a
        # chunk is always computed from the newest observation, never from a frame that
        # waited for a tick.
        if (self.state, self.reason.split(':')[0], self.command) != self._last_status_key:
            self._publish_status(force=True)

    def _sync_inference(self, now: int) -> None:
        """Debug mode: infer inside the tick when the chunk is used up (blocks the tick)."""
        with self._lock:
            frame, gen = self.latest_frame, self.command_gen
            want = (self.active and frame is not None and self.scheduler.needs_inference(now)
                    and self.safety.check(now, frame.stamp_ns, self.frame_problem)[0]
                    is SafetyState.RUNNING)
        if want:
            self._run_policy(frame, gen)

    def _current_locked(self):
        f = self.latest_frame
        if f is None:
            return None
        return positions_for(self.mapping.action_names, f.joint_names, f.joint_positions,
                             self.aliases)

    def _publish_command_locked(self, command, now: int, *, hold: bool) -> None:
        if self.outputs is None:
            return  # dry run: previews only
        future = None
        if not hold and self.cfg.adapter.trajectory_mode.value == 'chunk':
            future = self._future_locked(now)
        cmd = make_command(self.mapping, command, period_s=self.period_s, future=future,
                           dt_s=self.runtime.manifest.dt, hold=hold)
        if hold and self.mode is ControlMode.VELOCITY:
            cmd = dataclasses.replace(cmd, gripper=None)  # zero "velocity" would close it
        self.outputs.publish(cmd, now)

    def _future_locked(self, now: int):
        ahead = self.scheduler.upcoming()
        return self.safety.limit_future(ahead, self.runtime.manifest.dt) if len(ahead) else None

    def _send_hold_locked(self, now: int) -> None:
        d = self.safety.step(None, now_ns=now, current=self._current_locked(),
                             frame_stamp_ns=None)
        if d.command is not None:
            self._publish_command_locked(d.command, now, hold=True)


def main(args: list[str] | None = None) -> None:
    rclpy.init(args=args)
    try:
        node = VlaPolicy()
    except VlaRosError as e:  # bad sync parameters: one line, no traceback
        rclpy.logging.get_logger('vla_policy').fatal(str(e))
        rclpy.try_shutdown()
        sys.exit(1)
    # A thread woken from sleep needs the GIL; the holder drops it only every switch
    # interval (default 5 ms): the classic cause of multi-ms wake-up latency of the control
    # thread beside busy sensor/inference threads.
    switch_ms = float(node.get_parameter('gil_switch_interval_ms').value)
    if switch_ms > 0:
        sys.setswitchinterval(switch_ms * 1e-3)
    executor = make_executor(str(node.get_parameter('executor').value))
    executor.add_node(node)
    try:
        executor.spin()
    except (KeyboardInterrupt, ExternalShutdownException):
        pass
    finally:
        executor.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()

if __name__ == '__main__':
    main()
