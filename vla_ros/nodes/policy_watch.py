"""Wall-clock supervision of ``vla_policy`` (a mixin of ``VlaPolicy``): the sim-clock watchdog
and the status a node publishes when it could not even be configured."""

from __future__ import annotations

import time

from rclpy.clock import Clock, ClockType
from vla_ros_msgs.msg import PolicyStatus

from vla_ros.core.safety import SafetyState
from vla_ros.core.watchdog import ClockWatchdog
from vla_ros.nodes.policy_monitor import STATE_CODES

WATCH_PERIOD_MAX_S = 0.1


class PolicyWatch:
    """Uses the node's ``cfg``, ``safety``, ``scheduler``, ``_lock``, ``moved`` and status
    publishing. Everything here runs on the steady clock, never on ``/clock``."""

    _steady: Clock | None = None
    _clock_watchdog: ClockWatchdog | None = None

    @property
    def steady_clock(self) -> Clock:
        if self._steady is None:
            self._steady = Clock(clock_type=ClockType.STEADY_TIME)
        return self._steady

    def _watch_timers(self, sim_time: bool, group) -> list:
        """With ``use_sim_time``: a steady timer that stops the robot when /clock stalls."""
        if not sim_time:
            self._clock_watchdog = None
            return []
        self._clock_watchdog = ClockWatchdog(self.cfg.clock_timeout_s)
        period = min(self.cfg.clock_timeout_s / 4, WATCH_PERIOD_MAX_S)
        return [self.create_timer(period, self._check_clock, callback_group=group,
                                  clock=self.steady_clock)]

    def _check_clock(self) -> None:
        """A stalled ROS clock stops the robot (a new command is needed once it runs again):
        the control loop, frame ages and the simulator all stand still with it."""
        dog = self._clock_watchdog
        if dog is None:
            return
        was = dog.stalled
        still = dog.update(self.get_clock().now().nanoseconds, time.monotonic())
        if still is None or was:
            return
        reason = (f'ROS clock stalled for {still:.1f} s (use_sim_time: is the simulator '
                  'running?): send a new command')
        with self._lock:
            if not self.active:
                return
            if self.safety.command_active:
                self.command_gen += 1  # a chunk computed before the stall is not used
                self.safety.stop(reason)
                self.scheduler.reset()
                if self.moved:
                    self._send_hold_locked(self.get_clock().now().nanoseconds)
            self.state, self.reason = self.safety.check(self.get_clock().now().nanoseconds,
                                                        None)
            if self.state is SafetyState.IDLE:
                self.reason = reason
        self.get_logger().error(reason)
        self._publish_status(force=True)

    def _publish_configure_fault(self, reason: str) -> None:
        """A node that failed ``configure`` still says why on ``~/status`` (state fault)."""
        msg = PolicyStatus()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.state = STATE_CODES[SafetyState.FAULT]
        msg.state_name = SafetyState.FAULT.value
        msg.reason = reason[:1000]
        msg.dry_run = bool(self.get_parameter('dry_run').value)
        with self._lock:
            self.state, self.reason = SafetyState.FAULT, msg.reason
        self.status_pub.publish(msg)
