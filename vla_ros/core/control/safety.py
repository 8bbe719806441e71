"""
Safety filter between the policy and the controllers (ROS-free, fails closed).

Every control tick the node passes the scheduled action (or None) and the newest frame's
stamp; the filter returns the command to send: the action clipped to joint position limits
and rate limited (velocity, acceleration) relative to the previous command, or a *hold*
(current position in position control, zero in velocity control) when anything is wrong:
non-finite values (fault, latched until a new command), e-stop (latched until cleared AND
re-commanded), no command, a stale frame or missing modality, motion time cap exceeded.
A hold for lost or bad sensor data that lasts longer than ``hold_latch_s`` becomes a stop:
when the data comes back the robot stays still until someone commands it again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import Enum
import math

import numpy as np
from vla_ros.errors import ConfigError


# Measured positions further outside the limits than this share of the joint's range are
# implausible (a bad joint_states message, not the robot).
PLAUSIBLE_MARGIN = 0.1


class ControlMode(str, Enum):
    """What the command vector means: positions [rad, m] or velocities [rad/s, m/s]."""

    POSITION = 'position'
    VELOCITY = 'velocity'


class SafetyState(str, Enum):
    """Names match ``vla_ros_msgs/PolicyStatus.state_name``."""

    IDLE = 'idle'
    RUNNING = 'running'
    HOLDING = 'holding'
    ESTOPPED = 'estopped'
    FAULT = 'fault'


def _vec(values: Sequence[float] | None, n: int, default: float, name: str) -> np.ndarray:
    if values is None or len(values) == 0:
        return np.full(n, default, dtype=np.float64)
    arr = np.asarray(values, dtype=np.float64)
    if arr.shape != (n,):
        raise ConfigError(f'{name} needs {n} values (one per action), got {list(values)!r}')
    return arr


@dataclass(frozen=True)
class SafetyConfig:
    """
    Limits per command element (in ``names`` order) and timing.

    :ivar names: command element names (action names in bundle order).
    :ivar mode: position or velocity control.
    :ivar lower, upper: position limits [rad, m] (position mode; empty = unlimited).
    :ivar max_velocity: |velocity| limit per element [unit/s] (empty = unlimited).
    :ivar max_acceleration: |acceleration| limit per element [unit/s^2] (empty = unlimited).
    :ivar period_s: control period [s].
    :ivar max_frame_age_s: a frame older than this means hold [s].
    :ivar max_motion_time_s: hold after moving this long without a fresh command (0 = off) [s].
    :ivar hold_latch_s: a data hold (stale frame, frame problem) longer than this stops until
        a new command (0 = resume as soon as the data is back) [s].
    """

    names: tuple[str, ...]
    mode: ControlMode = ControlMode.POSITION
    lower: tuple[float, ...] = ()
    upper: tuple[float, ...] = ()
    max_velocity: tuple[float, ...] = ()
    max_acceleration: tuple[float, ...] = ()
    period_s: float = 0.02
    max_frame_age_s: float = 0.2
    max_motion_time_s: float = 0.0
    hold_latch_s: float = 0.0
    arrays: dict = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, 'mode', ControlMode(self.mode))
        except ValueError as e:
            raise ConfigError(f'mode must be position|velocity, got {self.mode!r}') from e
        n = len(self.names)
        if n == 0:
            raise ConfigError('names must not be empty')
        for key in ('period_s', 'max_frame_age_s'):
            v = getattr(self, key)
            if not (math.isfinite(v) and v > 0):
                raise ConfigError(f'{key} must be > 0, got {v!r}')
        for key in ('max_motion_time_s', 'hold_latch_s'):
            v = getattr(self, key)
            if not (math.isfinite(v) and v >= 0):
                raise ConfigError(f'{key} must be >= 0, got {v!r}')
        arrays = {
            'lower': _vec(self.lower, n, -np.inf, 'lower'),
            'upper': _vec(self.upper, n, np.inf, 'upper'),
            'vmax': _vec(self.max_velocity, n, np.inf, 'max_velocity'),
            'amax': _vec(self.max_acceleration, n, np.inf, 'max_acceleration'),
        }
        if np.any(arrays['lower'] > arrays['upper']):
            raise ConfigError(f'lower > upper for some element: {self.lower!r} > {self.upper!r}')
        for key in ('vmax', 'amax'):
            if np.any(~(arrays[key] > 0)):
                raise ConfigError(f'velocity/acceleration limits must be > 0, got '
                                  f'{self.max_velocity!r} / {self.max_acceleration!r}')
        object.__setattr__(self, 'arrays', arrays)

    @classmethod
    def from_named(cls, names: Sequence[str], limits: Mapping[str, Mapping[str, float]],
                   **kwargs) -> SafetyConfig:
        """
        Build from per-name limits ``{joint: {lower, upper, max_velocity, max_acceleration}}``.

        Names without an entry are unlimited.
        """
        def col(key: str, default: float) -> tuple[float, ...]:
            return tuple(float(limits.get(n, {}).get(key, default)) for n in names)
        return cls(names=tuple(names), lower=col('lower', -math.inf), upper=col('upper', math.inf),
                   max_velocity=col('max_velocity', math.inf),
                   max_acceleration=col('max_acceleration', math.inf), **kwargs)


@dataclass(frozen=True)
class SafetyDecision:
    """
    What to send this tick.

    ``command`` [A] is None when nothing can be sent safely (a position hold with no known
    position).
    """

    command: np.ndarray | None
    hold: bool
    state: SafetyState
    reason: str


def limit_step(prev: np.ndarray, prev_v: np.ndarray, target: np.ndarray, period_s: float,
               vmax: np.ndarray, amax: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """
    One rate-limited position step prev -> target; returns (position, velocity).

    The velocity is capped by vmax, by the speed from which amax can still stop at the
    target (no overshoot), and changes at most amax * period per step.
    """
    dist = target - prev
    v = dist / period_s
    with np.errstate(invalid='ignore'):
        v_stop = np.where(np.isinf(amax), np.inf,
                          amax * (np.sqrt(period_s ** 2 / 4 + 2 * np.abs(dist) / amax)
                                  - period_s / 2))
    v = np.clip(v, -np.minimum(vmax, v_stop), np.minimum(vmax, v_stop))
    dv = np.clip(v - prev_v, -amax * period_s, amax * period_s)
    v = prev_v + dv
    v = np.clip(v, -vmax, vmax)
    pos = prev + v * period_s
    # do not step past the target because of the acceleration floor
    overshoot = np.sign(target - pos) != np.sign(dist)
    pos = np.where(overshoot & (dist != 0), target, pos)
    return pos, (pos - prev) / period_s


class SafetyFilter:
    """Stateful filter; call :meth:`step` once per control tick. Not thread-safe."""

    def __init__(self, config: SafetyConfig) -> None:
        self.config = config
        self._a = config.arrays
        self.estopped = False
        self._estop_cleared = False
        self.fault_reason = ''
        self.command_active = False
        self.stop_reason = 'no command'
        self.command_stamp_ns = 0
        self.last_command: np.ndarray | None = None
        self.last_velocity = np.zeros(len(config.names))
        self.holding = False  # the last decision was a hold (its position stays latched)
        self._data_hold_since_ns: int | None = None  # start of the current data hold

    # -- events ---------------------------------------------------------------------------

    def estop(self) -> None:
        """Latch the e-stop: hold until :meth:`clear_estop` AND a new command."""
        self.estopped = True
        self._estop_cleared = False
        self.command_active = False

    def clear_estop(self) -> None:
        """Allow the next command to release the e-stop (motion needs a new command)."""
        if self.estopped:
            self._estop_cleared = True

    def on_command(self, now_ns: int) -> None:
        """
        Accept a fresh non-empty command: clear faults and release a cleared e-stop.

        Motion restarts from the measured position.
        """
        self.holding = False
        self.last_command = None
        if self.estopped and self._estop_cleared:
            self.estopped = False
        self.fault_reason = ''
        self.command_active = True
        self._data_hold_since_ns = None
        self.command_stamp_ns = now_ns
        self.last_velocity[:] = 0.0

    def on_time_jump(self) -> None:
        """
        Forget the latched hold and the last command: time went backwards (a simulator reset).

        The robot may be somewhere else now, so the next hold latches at the measured position and
        no rate limit continues from a pose of the old timeline.
        """
        self.holding = False
        self.last_command = None
        self.last_velocity[:] = 0.0
        self._data_hold_since_ns = None

    def stop(self, reason: str = 'stop requested') -> None:
        """Hold until the next command (empty command, "stop")."""
        self.command_active = False
        self.stop_reason = reason

    def fault(self, reason: str) -> None:
        """Latch a fault until the next command; the robot holds."""
        self.fault_reason = reason or 'fault'

    def _data_hold(self, now_ns: int, problem: str) -> tuple[SafetyState, str]:
        """Hold for a data problem; past ``hold_latch_s`` it becomes a stop (new command)."""
        since = self._data_hold_since_ns
        if since is None or now_ns < since:
            self._data_hold_since_ns = now_ns
        elif self.config.hold_latch_s > 0 and now_ns - since > self.config.hold_latch_s * 1e9:
            self.stop(f'sensor data lost for over {self.config.hold_latch_s:g} s ({problem}): '
                      'send a new command')
            self._data_hold_since_ns = None
            return SafetyState.IDLE, self.stop_reason
        return SafetyState.HOLDING, problem

    def plausible_bounds(self) -> tuple[np.ndarray, np.ndarray]:
        """
        Return (low, high) [A] outside which a measured position is implausible.

        The limits widened by ``PLAUSIBLE_MARGIN`` of each joint's range (a real joint may sit
        a little past a soft limit); unlimited joints and velocity control: +-inf.
        """
        n = len(self.config.names)
        if self.config.mode is ControlMode.VELOCITY:
            return np.full(n, -np.inf), np.full(n, np.inf)
        lo, hi = self._a['lower'], self._a['upper']
        with np.errstate(invalid='ignore'):
            margin = np.where(np.isfinite(hi - lo), PLAUSIBLE_MARGIN * (hi - lo), np.inf)
        return lo - margin, hi + margin

    def plausible(self, measured: np.ndarray) -> bool:
        """
        Tell whether measured positions [A] lie within :meth:`plausible_bounds`.

        A measurement far outside is a bad message; latching a hold there (even clipped)
        would move the robot.
        """
        lo, hi = self.plausible_bounds()
        return bool(np.all(measured >= lo) and np.all(measured <= hi))

    # -- per tick -------------------------------------------------------------------------

    def hold_command(self, current: np.ndarray | None) -> np.ndarray | None:
        """
        Return the safe command: current position (position mode) or zeros (velocity mode).

        A position hold is clipped to the position limits: no command outside them is ever
        sent, not even a hold at a measured position that lies outside (the policy ignores
        measurements far outside, see ``plausible``).
        """
        if self.config.mode is ControlMode.VELOCITY:
            return np.zeros(len(self.config.names))
        if current is not None and np.all(np.isfinite(current)):
            return self._clip(np.asarray(current, dtype=np.float64))
        if self.last_command is not None:
            return self.last_command.copy()
        return None

    def check(self, now_ns: int, frame_stamp_ns: int | None, frame_problem: str = '',
              ) -> tuple[SafetyState, str]:
        """State and reason without an action: why a tick would hold (or RUNNING, '')."""
        cfg = self.config
        if self.fault_reason:
            return SafetyState.FAULT, self.fault_reason
        if self.estopped:
            return SafetyState.ESTOPPED, ('e-stop cleared: send a new command' if
                                          self._estop_cleared else 'e-stop active')
        if not self.command_active:
            return SafetyState.IDLE, self.stop_reason
        if frame_stamp_ns is None and not frame_problem:
            return SafetyState.HOLDING, 'no frame yet'
        problem = frame_problem
        if not problem:
            age = (now_ns - frame_stamp_ns) * 1e-9
            if age > cfg.max_frame_age_s:
                problem = (f'stale frame: age {age * 1e3:.0f} ms > '
                           f'{cfg.max_frame_age_s * 1e3:.0f} ms')
        if problem:
            return self._data_hold(now_ns, problem)
        self._data_hold_since_ns = None
        if cfg.max_motion_time_s > 0:
            moving = (now_ns - self.command_stamp_ns) * 1e-9
            if moving > cfg.max_motion_time_s:
                return SafetyState.HOLDING, (f'command older than max_motion_time_s '
                                             f'{cfg.max_motion_time_s:g} s: re-command')
        return SafetyState.RUNNING, ''

    def step(self, action: np.ndarray | None, *, now_ns: int,
             current: np.ndarray | None, frame_stamp_ns: int | None,
             frame_problem: str = '') -> SafetyDecision:
        """
        Filter one action [A] (command space, bundle order) for the tick at ``now_ns``.

        :param action: scheduled action or None (no chunk covers this tick).
        :param current: measured positions [A] (position mode hold), or None.
        :param frame_stamp_ns: stamp of the newest good frame, None if none.
        :param frame_problem: non-empty when the sync front end rejected the latest frame.
        """
        if action is not None and not np.all(np.isfinite(action)):
            self.fault('non-finite action (NaN/Inf)')
        state, reason = self.check(now_ns, frame_stamp_ns, frame_problem)
        if state is SafetyState.RUNNING and action is None:
            state, reason = SafetyState.HOLDING, 'waiting for a chunk'
        if state is not SafetyState.RUNNING:
            return self._hold(current, state, reason)
        cmd = self._limit(np.asarray(action, dtype=np.float64), current)
        self.holding = False
        return SafetyDecision(cmd, False, SafetyState.RUNNING, '')

    def limit_future(self, actions: np.ndarray, dt_s: float) -> np.ndarray:
        """
        Rate- and position-limit future points [K, A] continuing from the last command.

        The filter state does not change (for trajectory previews sent to the controller).
        """
        if self.last_command is None or self.config.mode is ControlMode.VELOCITY:
            return self._clip(np.asarray(actions, dtype=np.float64))
        out = np.empty_like(actions, dtype=np.float64)
        prev, v = self.last_command.copy(), self.last_velocity.copy()
        for k, target in enumerate(np.asarray(actions, dtype=np.float64)):
            prev, v = limit_step(prev, v, self._clip(target), dt_s, self._a['vmax'],
                                 self._a['amax'])
            out[k] = prev
        return out

    # -- internals ------------------------------------------------------------------------

    def _clip(self, x: np.ndarray) -> np.ndarray:
        if self.config.mode is ControlMode.VELOCITY:
            return np.clip(x, -self._a['vmax'], self._a['vmax'])
        return np.clip(x, self._a['lower'], self._a['upper'])

    def _limit(self, target: np.ndarray, current: np.ndarray | None) -> np.ndarray:
        a, period = self._a, self.config.period_s
        if self.config.mode is ControlMode.VELOCITY:
            v = self._clip(target)
            dv = np.clip(v - self.last_velocity, -a['amax'] * period, a['amax'] * period)
            cmd = self.last_velocity + dv
            self.last_velocity = cmd
            self.last_command = cmd
            return cmd.copy()
        prev = self.last_command
        if prev is None:
            prev = current if current is not None else target
            prev = np.asarray(prev, dtype=np.float64)
        pos, v = limit_step(prev, self.last_velocity, self._clip(target), period,
                            a['vmax'], a['amax'])
        pos = self._clip(pos)
        self.last_velocity = (pos - prev) / period
        self.last_command = pos
        return pos.copy()

    def _hold(self, current: np.ndarray | None, state: SafetyState,
              reason: str) -> SafetyDecision:
        # A position hold is latched where it started: re-reading the measured position every
        # tick would let the arm sag under gravity, one tick at a time.
        if (self.holding and self.last_command is not None
                and self.config.mode is ControlMode.POSITION):
            cmd = self.last_command.copy()
        else:
            cmd = self.hold_command(current)
        self.holding = cmd is not None
        self.last_velocity[:] = 0.0
        if cmd is not None and self.config.mode is ControlMode.POSITION:
            self.last_command = cmd.copy()
        return SafetyDecision(cmd, True, state, reason)
