"""
What a language command becomes before it reaches the policy loop (ROS-free).

:class:`CommandGate` classifies a command (run / stop / reject), applies the rate limit
(``max_command_rate_hz``; a stop is never limited) and, for a run command, asks the bundle's
competence check (an embedding computed once and cached). With an identifier
(``command_tasks``) a run command is first identified as one task + colour, or refused with the
reason; an identified command reaches the policy as its task's canonical training phrasing
(``canonical``) or as sent. It holds no lock: the loop applies the outcome under its own.
"""

from __future__ import annotations

import time
from typing import Protocol

from vla_ros.core.bundle.competence import CommandNotUnderstood
from vla_ros.core.control.config import classify_command, CommandAction
from vla_ros.core.control.outcomes import CommandOutcome
from vla_ros.core.language.intent import IntentIdentifier
from vla_ros.errors import InferenceError

LOG_COMMAND_CHARS = 80  # commands are shown truncated (a 1 MB command is not a log line)


class CommandTarget(Protocol):
    """What takes a run command: ``set_command`` raises CommandNotUnderstood to refuse it."""

    def set_command(self, text: str) -> None: ...


def shown(text: str) -> str:
    """Return the command as it may be logged (truncated, with its length)."""
    if len(text) <= LOG_COMMAND_CHARS:
        return text
    return f'{text[:LOG_COMMAND_CHARS]}... ({len(text)} chars)'


class CommandGate:
    """
    Judges language commands for one bundle.

    :param target: the runtime (its competence check and command embedding).
    :param max_chars: longer commands are rejected.
    :param max_rate_hz: run commands arriving faster are ignored (0 = no limit) [Hz].
    :param language_masked: the policy does not see language (``mask_modalities``): the
        command is not embedded or judged.
    :param intent: identifies the task a run command asks for (None: not identified).
    :param canonical: hand the policy an identified command's canonical training phrasing
        (else the text as sent).
    """

    def __init__(self, target: CommandTarget, *, max_chars: int, max_rate_hz: float,
                 language_masked: bool = False, intent: IntentIdentifier | None = None,
                 canonical: bool = True) -> None:
        self.target, self.max_chars, self.max_rate_hz = target, max_chars, max_rate_hz
        self.language_masked = language_masked
        self.intent, self.canonical = intent, canonical
        self._last_run_s = -1e9

    def judge(self, text: str, wall_s: float | None = None) -> CommandOutcome:
        """Classify ``text``; ``ignored`` when a run command came over the rate limit."""
        action, detail = classify_command(text, self.max_chars)
        if action is CommandAction.RUN and self._over_rate(
                time.monotonic() if wall_s is None else wall_s):
            return CommandOutcome(action, detail, shown(text), ignored=True)
        if action is CommandAction.RUN and not self.language_masked:
            try:  # the embedding is computed once, cached
                if self.intent is not None:
                    intent = self.intent.identify(detail)
                    if not intent.understood:
                        raise CommandNotUnderstood(intent.reason)
                    detail = intent.canonical if self.canonical else detail
                self.target.set_command(detail)
            except CommandNotUnderstood as e:  # outside the bundle's competence: hold
                action, detail = CommandAction.REJECT, str(e)
            except InferenceError as e:
                action, detail = CommandAction.REJECT, f'command rejected: {e}'
        return CommandOutcome(action, detail, shown(text))

    def _over_rate(self, wall_s: float) -> bool:
        rate = self.max_rate_hz
        if rate > 0 and wall_s - self._last_run_s < 1.0 / rate:
            return True
        self._last_run_s = wall_s
        return False
