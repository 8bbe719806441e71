"""Language command and e-stop handling of ``vla_policy`` (a mixin of ``VlaPolicy``; runs in
the executor thread, takes the node's state lock only for bookkeeping)."""

from __future__ import annotations

import time

from std_msgs.msg import Bool, String

from vla_ros.core.policy_config import CommandAction, classify_command
from vla_ros.errors import InferenceError

LOG_COMMAND_CHARS = 80  # commands are logged truncated (a 1 MB command is not a log line)


class PolicyCommands:
    """``_on_command`` (/vla/command) and ``_on_estop`` (/vla/estop); uses the node's ``cfg``,
    ``runtime``, ``masked``, ``scheduler``, ``safety``, ``_lock`` and ``_runtime_lock``."""

    _last_run_command_s = -1e9

    def _on_command(self, msg: String) -> None:
        action, detail = classify_command(msg.data, self.cfg.max_command_chars)
        shown = msg.data if len(msg.data) <= LOG_COMMAND_CHARS else (
            f'{msg.data[:LOG_COMMAND_CHARS]}... ({len(msg.data)} chars)')
        if action is CommandAction.RUN and self._over_rate():
            with self._lock:
                self.counters.rejected_commands += 1
                self.counters.last_reject = f'command over max_command_rate_hz: {shown!r}'
            self.get_logger().warning(
                f'command {shown!r} ignored: more than max_command_rate_hz '
                f'{self.cfg.max_command_rate_hz:g} ({self.counters.rejected_commands} so far)',
                throttle_duration_sec=2.0)
            return
        if action is CommandAction.RUN:
            try:
                with self._runtime_lock:
                    if 'language' not in self.masked:  # ablation: language absent
                        self.runtime.set_command(detail)  # embedding computed once, cached
            except InferenceError as e:
                action, detail = CommandAction.REJECT, f'command rejected: {e}'
        now = self.get_clock().now().nanoseconds
        with self._lock:
            self.command_gen += 1
            self.scheduler.reset()
            if action is CommandAction.RUN:
                self.command, self.reject_reason = detail, ''
                self.safety.on_command(now)
            else:
                self.command = ''
                self.reject_reason = detail if action is CommandAction.REJECT else ''
                self.safety.stop(detail if action is CommandAction.REJECT else
                                 f'stopped by command {msg.data!r}')
                self.state, self.reason = self.safety.check(now, None)
                self.reason = self.reject_reason or self.reason
        self.get_logger().info(f'command {shown!r}: {action.value} {detail[:200]!r}')
        self._publish_status(force=True)

    def _over_rate(self) -> bool:
        """True when a run command comes sooner than 1 / max_command_rate_hz after the last
        accepted one (stop and e-stop are never limited)."""
        rate = self.cfg.max_command_rate_hz
        now = time.monotonic()
        if rate > 0 and now - self._last_run_command_s < 1.0 / rate:
            return True
        self._last_run_command_s = now
        return False

    def _on_estop(self, msg: Bool) -> None:
        with self._lock:
            if msg.data:
                self.safety.estop()
                self.scheduler.reset()
                self.command_gen += 1
                self._send_hold_locked(self.get_clock().now().nanoseconds)
            else:
                self.safety.clear_estop()
        self.get_logger().warn(f'e-stop {"ENGAGED" if msg.data else "cleared"}')
