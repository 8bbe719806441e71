"""
Policy node configuration (ROS-free).

Validated settings and language command checks (the bundle-vs-robot checks:
:mod:`~vla_ros.core.control.bundle_fit`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
import unicodedata

from vla_ros.core.control.adapters import AdapterConfig
from vla_ros.core.control.scheduler import SchedulerConfig
from vla_ros.errors import ConfigError
from vla_ros.params.policy import LIMIT_KEYS, POLICY_PARAMETERS

_P = POLICY_PARAMETERS
MS = 1e-3  # [s] per [ms]
STOP_WORDS = ('stop', 'halt')
# Texts longer than this many times max_command_chars are rejected unscanned (whitespace
# collapsing could at most shrink them by this factor in any plausible command).
COMMAND_SCAN_FACTOR = 4
# PolicyConfig field -> (its parameter, field value per parameter unit): default and range
FIELD_PARAMETERS = {
    'bundle': ('bundle', 1), 'control_rate_hz': ('control_rate_hz', 1),
    'dry_run': ('dry_run', 1), 'max_command_chars': ('max_command_chars', 1),
    'max_command_rate_hz': ('max_command_rate_hz', 1),
    'max_frame_age_s': ('max_frame_age_s', 1), 'hold_latch_s': ('hold_latch_s', 1),
    'clock_timeout_s': ('clock_timeout_s', 1), 'max_motion_time_s': ('max_motion_time_s', 1),
    'status_rate_hz': ('status_rate_hz', 1), 'gripper_joint_state': ('gripper.joint_state', 1),
    'debug_image': ('debug_image', 1), 'eval_added_latency_s': ('eval_added_latency_ms', MS),
    'attribution_rate_hz': ('attribution_rate_hz', 1), 'command_tasks': ('command_tasks', 1),
    'command_instruction': ('command_instruction', 1),
    'command_lexicon': ('command_lexicon', 1), 'command_min_score': ('command_min_score', 1),
    'command_margin': ('command_margin', 1)}


@dataclass(frozen=True)
class PolicyConfig:
    """
    Settings of the ``vla_policy`` node (one ROS parameter each, see docs/policy.md).

    Defaults and range checks come from :data:`~vla_ros.params.policy.POLICY_PARAMETERS`
    (:data:`FIELD_PARAMETERS` maps the fields to parameters).

    :ivar bundle: policy bundle directory.
    :ivar control_rate_hz: control tick rate [Hz]; 0 = the bundle's 1/dt.
    :ivar scheduler: chunk scheduling.
    :ivar adapter: controller interface.
    :ivar dry_run: publish only the ``~/action_chunk`` preview, never command controllers.
    :ivar max_command_chars: longer language commands are rejected.
    :ivar max_command_rate_hz: commands arriving faster are rejected (0 = no limit) [Hz].
    :ivar max_frame_age_s: hold when the newest frame is older [s].
    :ivar hold_latch_s: a hold for lost/bad sensor data longer than this needs a new command
        (0 = resume when data is back) [s].
    :ivar clock_timeout_s: with sim time, a ROS clock that has not advanced for this long in
        wall time stops the robot until a new command [s].
    :ivar max_motion_time_s: hold after moving this long without a new command (0 = off) [s].
    :ivar status_rate_hz: PolicyStatus rate (also published on every change) [Hz].
    :ivar joint_limits: ``{name: {lower, upper, max_velocity, max_acceleration}}`` [rad, rad/s..].
    :ivar gripper_joint_state: joint_states name of the gripper (position hold) ('' = same
        as the gripper action name).
    :ivar debug_image: publish ``~/debug_image`` with the command and predicted motion.
    :ivar attribution_rate_hz: per-modality weights (:mod:`~vla_ros.core.runtime.attribution`)
        at most this often [Hz]; 0 = off.
    :ivar command_tasks: task table file: identify the task a command asks for ('' = off).
    :ivar command_instruction: canonical | raw: what the policy gets for an identified command.
    :ivar command_lexicon: WordNet directory ('' = none); command_min_score / command_margin:
        the identifier's thresholds (:class:`~vla_ros.core.language.IntentIdentifier`).
    :ivar eval_added_latency_s: EVALUATION ONLY: each chunk reaches the scheduler this much
        later than its inference finished, as if the policy were that much slower [s].
    """

    bundle: str = _P['bundle'].default
    control_rate_hz: float = _P['control_rate_hz'].default
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    adapter: AdapterConfig = field(default_factory=lambda: AdapterConfig(
        joints=tuple(_P['controller.joints'].default)))
    dry_run: bool = _P['dry_run'].default
    max_command_chars: int = _P['max_command_chars'].default
    max_command_rate_hz: float = _P['max_command_rate_hz'].default
    max_frame_age_s: float = _P['max_frame_age_s'].default
    hold_latch_s: float = _P['hold_latch_s'].default
    clock_timeout_s: float = _P['clock_timeout_s'].default
    max_motion_time_s: float = _P['max_motion_time_s'].default
    status_rate_hz: float = _P['status_rate_hz'].default
    joint_limits: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    gripper_joint_state: str = _P['gripper.joint_state'].default
    debug_image: bool = _P['debug_image'].default
    eval_added_latency_s: float = _P['eval_added_latency_ms'].default * MS
    attribution_rate_hz: float = _P['attribution_rate_hz'].default
    command_tasks: str = _P['command_tasks'].default
    command_instruction: str = _P['command_instruction'].default
    command_lexicon: str = _P['command_lexicon'].default
    command_min_score: float = _P['command_min_score'].default
    command_margin: float = _P['command_margin'].default

    def __post_init__(self) -> None:
        for name, (param, scale) in FIELD_PARAMETERS.items():  # type, range: from the spec
            _P[param].check(getattr(self, name), label=name, scale=scale)
        for name, lim in self.joint_limits.items():
            bad = set(lim) - set(LIMIT_KEYS)
            if bad:
                raise ConfigError(f'joint_limits.{name}: unknown keys {sorted(bad)}; '
                                  f'expected {LIMIT_KEYS}')

    def period_s(self, bundle_dt: float) -> float:
        """Control period [s]: 1/control_rate_hz or the bundle's dt."""
        return 1.0 / self.control_rate_hz if self.control_rate_hz > 0 else float(bundle_dt)


class CommandAction(str, Enum):
    RUN = 'run'
    STOP = 'stop'
    REJECT = 'reject'


def classify_command(text: str, max_chars: int) -> tuple[CommandAction, str]:
    """
    Language command -> (run | stop | reject, normalized text or the rejection reason).

    Cheap on hostile input: a text far over the limit is rejected on its length alone,
    before any per-character work (a 1 MB command costs microseconds, not 100 ms).
    """
    if len(text) > COMMAND_SCAN_FACTOR * max_chars:
        return CommandAction.REJECT, (f'command rejected: {len(text)} characters > '
                                      f'max_command_chars {max_chars}')
    if any(unicodedata.category(ch) == 'Cc' for ch in text):
        return CommandAction.REJECT, 'command rejected: contains control characters'
    stripped = ' '.join(text.split())
    if len(stripped) > max_chars:
        return CommandAction.REJECT, (f'command rejected: {len(stripped)} characters > '
                                      f'max_command_chars {max_chars}')
    if not stripped or stripped.lower().strip('.!') in STOP_WORDS:
        return CommandAction.STOP, stripped
    return CommandAction.RUN, stripped


def parse_joint_limits(names: Sequence[str], values: Mapping[str, Sequence[float]],
                       ) -> dict[str, dict[str, float]]:
    """
    Build per-joint limits from parallel arrays ``values[key][i]`` for ``names[i]``.

    This is the flat ROS-parameter form: ``limits.lower: [...]``.
    """
    out: dict[str, dict[str, float]] = {n: {} for n in names}
    for key, arr in values.items():
        if key not in LIMIT_KEYS:
            raise ConfigError(f'unknown limit {key!r}; expected {LIMIT_KEYS}')
        if len(arr) == 0:
            continue
        if len(arr) != len(names):
            raise ConfigError(f'limits.{key} needs {len(names)} values (limits.joints '
                              f'{list(names)}), got {list(arr)!r}')
        for n, v in zip(names, arr):
            out[n][key] = float(v)
    return out
