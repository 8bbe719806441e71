"""Language command and e-stop handling of ``vla_policy`` (a mixin of ``VlaPolicy``; runs in
the executor thread, takes the node's state lock only for bookkeeping)."""

from __future__ import annotations

from std_msgs.msg import Bool, String

from vla_ros.core.policy_config import CommandAction, classify_command
from vla_ros.errors import InferenceError


class PolicyCommands:
    """``_on_command`` (/vla/command) and ``_on_estop`` (/vla/estop); uses the node's ``cfg``,
    ``runtime``, ``masked``, ``scheduler``, ``safety``, ``_lock`` and ``_runtime_lock``."""

    def _on_command(self, msg: String) -> None:
        action, detail = classify_command(msg.data, self.cfg.max_command_chars)
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
        self.get_logger().info(f'command {msg.data!r}: {action.value} {detail!r}')
        self._publish_status(force=True)

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
