"""What :class:`~vla_ros.core.control.loop.PolicyLoop` hands back to its host (ROS-free)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from vla_ros.core.control.adapters import ControllerCommand
from vla_ros.core.control.config import CommandAction
from vla_ros.core.control.safety import SafetyState
from vla_ros.core.frame import Frame
from vla_ros.core.runtime.attribution import ModalityWeights
from vla_ros.core.runtime.policy_runtime import PolicyOutput


@dataclass(frozen=True)
class CommandOutcome:
    """
    What became of a language command.

    ``action`` run / stop / reject, ``detail`` the normalized command or the reason, ``shown`` the
    command as it may be logged; ``ignored`` when it came faster than ``max_command_rate_hz``
    (nothing changed).
    """

    action: CommandAction
    detail: str
    shown: str
    ignored: bool = False


@dataclass(frozen=True)
class InferenceResult:
    """
    A chunk that entered the scheduler.

    Command-space ``actions`` [H, A] and the runtime's output (stamps, timings, gate weights), plus
    the frame and command it came from.
    """

    actions: np.ndarray
    output: PolicyOutput
    frame: Frame
    command: str
    weights: ModalityWeights | None = None  # per-modality reliance, when it was computed


@dataclass(frozen=True)
class TickOutput:
    """
    One control tick: the command to send, the state and reason after it, and what changed.

    ``command`` is None when there is nothing to send (e.g. idle before any motion); ``changed``
    says whether state or reason changed (publish a status).
    """

    command: ControllerCommand | None
    state: SafetyState
    reason: str
    status_changed: bool
