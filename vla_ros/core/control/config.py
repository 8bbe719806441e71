"""
Policy node configuration (ROS-free).

Validated settings and language command checks (the bundle-vs-robot checks:
:mod:`~vla_ros.core.control.bundle_fit`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
import math
import unicodedata

from vla_ros.core.control.adapters import AdapterConfig
from vla_ros.core.control.scheduler import SchedulerConfig
from vla_ros.errors import ConfigError

STOP_WORDS = ('stop', 'halt')
# Texts longer than this many times max_command_chars are rejected unscanned (whitespace
# collapsing could at most shrink them by this factor in any plausible command).
COMMAND_SCAN_FACTOR = 4
LIMIT_KEYS = ('lower', 'upper', 'max_velocity', 'max_acceleration')


@dataclass(frozen=True)
class PolicyConfig:
    """
    Settings of the ``vla_policy`` node (one ROS parameter each, see docs/policy.md).

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
    :ivar intra_op_threads: onnxruntime intra-op threads (1 keeps the control timer on time).
    :ivar joint_limits: ``{name: {lower, upper, max_velocity, max_acceleration}}`` [rad, rad/s..].
    :ivar gripper_joint_state: joint_states name of the gripper (position hold) ('' = same
        as the gripper action name).
    :ivar debug_image: publish ``~/debug_image`` with the command and predicted motion.
    :ivar attribution_rate_hz: per-modality weights (:mod:`~vla_ros.core.runtime.attribution`)
        at most this often [Hz]; 0 = off.
    :ivar eval_added_latency_s: EVALUATION ONLY: each chunk reaches the scheduler this much
        later than its inference finished, as if the policy were that much slower [s].
    """

    bundle: str = ''
    control_rate_hz: float = 0.0
    scheduler: SchedulerConfig = field(default_factory=SchedulerConfig)
    adapter: AdapterConfig = field(default_factory=lambda: AdapterConfig(joints=('j',)))
    dry_run: bool = True
    max_command_chars: int = 200
    max_command_rate_hz: float = 20.0
    max_frame_age_s: float = 0.2
    hold_latch_s: float = 1.0
    clock_timeout_s: float = 0.5
    max_motion_time_s: float = 0.0
    status_rate_hz: float = 2.0
    intra_op_threads: int = 1
    joint_limits: Mapping[str, Mapping[str, float]] = field(default_factory=dict)
    gripper_joint_state: str = ''
    debug_image: bool = False
    eval_added_latency_s: float = 0.0
    attribution_rate_hz: float = 0.0

    def __post_init__(self) -> None:
        if not (math.isfinite(self.control_rate_hz) and 0 <= self.control_rate_hz <= 1000):
            raise ConfigError(f'control_rate_hz must be in [0, 1000] (0 = bundle rate), got '
                              f'{self.control_rate_hz!r}')
        if self.max_command_chars < 1:
            raise ConfigError(f'max_command_chars must be >= 1, got {self.max_command_chars!r}')
        if not (self.max_frame_age_s > 0):
            raise ConfigError(f'max_frame_age_s must be > 0, got {self.max_frame_age_s!r}')
        for key in ('max_command_rate_hz', 'hold_latch_s', 'eval_added_latency_s',
                    'attribution_rate_hz'):
            v = getattr(self, key)
            if not (math.isfinite(v) and v >= 0):
                raise ConfigError(f'{key} must be >= 0, got {v!r}')
        if not (math.isfinite(self.clock_timeout_s) and self.clock_timeout_s > 0):
            raise ConfigError(f'clock_timeout_s must be > 0, got {self.clock_timeout_s!r}')
        if not (self.max_motion_time_s >= 0):
            raise ConfigError(f'max_motion_time_s must be >= 0, got {self.max_motion_time_s!r}')
        if not (self.status_rate_hz > 0):
            raise ConfigError(f'status_rate_hz must be > 0, got {self.status_rate_hz!r}')
        if self.intra_op_threads < 0:
            raise ConfigError(f'intra_op_threads must be >= 0, got {self.intra_op_threads!r}')
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
