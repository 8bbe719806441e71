"""
Controller adapters (ROS-free): map bundle actions to ros2_control controller commands.

The bundle's action vector is ordered by ``manifest.action_names``; controllers want their own
joint list. :class:`ActionMapping` maps by name; :func:`make_command` builds a
:class:`ControllerCommand` that the node turns into JointTrajectory, Float64MultiArray or Twist
messages (``vla_ros.ros.controller_outputs``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from enum import Enum

import numpy as np
from vla_ros.core.config_utils import coerce_enums
from vla_ros.core.control.safety import ControlMode
from vla_ros.errors import ConfigError
from vla_ros.params.policy import POLICY_PARAMETERS

_P = POLICY_PARAMETERS
# AdapterConfig field -> its parameter (default and checks from there); joints: see
# PolicyConfig (``controller.joints``, empty for twist)
ADAPTER_PARAMETERS = {
    'kind': 'controller.kind', 'controller': 'controller.name',
    'trajectory_mode': 'controller.trajectory_mode', 'point_time_s': 'controller.point_time_s',
    'gripper_controller': 'gripper.controller', 'gripper_action': 'gripper.action',
    'effort_controller': 'gripper.effort_controller', 'effort_action': 'gripper.effort_action',
    'max_effort': 'gripper.max_effort',
    'twist_topic': 'twist.topic', 'twist_stamped': 'twist.stamped'}


class AdapterKind(str, Enum):
    """Controller interface the arm (or base) commands go to."""

    JOINT_TRAJECTORY = 'joint_trajectory'  # trajectory_msgs/JointTrajectory
    FORWARD_COMMAND = 'forward_command'    # std_msgs/Float64MultiArray
    TWIST = 'twist'                        # geometry_msgs/Twist(Stamped)


class TrajectoryMode(str, Enum):
    """joint_trajectory: one point per tick, or the remaining chunk for JTC to interpolate."""

    POINT = 'point'
    CHUNK = 'chunk'


TWIST_FIELDS = ('linear.x', 'linear.y', 'linear.z', 'angular.x', 'angular.y', 'angular.z')
POSITION_KINDS = ('absolute_joint_position', 'delta_joint_position')
VELOCITY_KINDS = ('joint_velocity', 'ee_twist', 'base_twist')


@dataclass(frozen=True)
class AdapterConfig:
    """
    Where and how commands go.

    :ivar kind: controller interface.
    :ivar controller: controller name; topics ``<controller>/joint_trajectory|commands``
        (relative: in the node's namespace; a name starting with ``/`` gives absolute ones).
    :ivar joints: the controller's joint list (order of its command vector).
    :ivar trajectory_mode: point or chunk (joint_trajectory only).
    :ivar point_time_s: time_from_start of a single trajectory point [s] (0 = one period).
    :ivar gripper_controller: forward-command controller of the gripper ('' = none).
    :ivar gripper_action: action name of the gripper value in the bundle.
    :ivar effort_controller: forward-command controller of the gripper max effort [N]
        ('' = none: a bundle's effort action is not sent).
    :ivar effort_action: action name of the gripper max effort in the bundle (optional there).
    :ivar max_effort: the effort is clipped to [0, max_effort] [N].
    :ivar twist_topic: Twist topic (twist only).
    :ivar twist_stamped: publish TwistStamped instead of Twist.
    """

    kind: AdapterKind = AdapterKind(_P['controller.kind'].default)
    controller: str = _P['controller.name'].default
    joints: tuple[str, ...] = ()
    trajectory_mode: TrajectoryMode = TrajectoryMode(_P['controller.trajectory_mode'].default)
    point_time_s: float = _P['controller.point_time_s'].default
    gripper_controller: str = _P['gripper.controller'].default
    gripper_action: str = _P['gripper.action'].default
    effort_controller: str = _P['gripper.effort_controller'].default
    effort_action: str = _P['gripper.effort_action'].default
    max_effort: float = _P['gripper.max_effort'].default
    twist_topic: str = _P['twist.topic'].default
    twist_stamped: bool = _P['twist.stamped'].default

    def __post_init__(self) -> None:
        coerce_enums(self, {'kind': AdapterKind, 'trajectory_mode': TrajectoryMode})
        object.__setattr__(self, 'joints', tuple(self.joints))
        if self.kind is not AdapterKind.TWIST and not self.joints:
            raise ConfigError(f'adapter {self.kind.value!r} needs the controller joint list')
        if len(set(self.joints)) != len(self.joints):
            raise ConfigError(f'duplicate controller joints: {self.joints!r}')
        bad = [j for j in self.joints if j not in TWIST_FIELDS] if self.kind is \
            AdapterKind.TWIST and self.joints else []
        if bad:
            raise ConfigError(f'twist fields must be among {TWIST_FIELDS}, got {bad!r}')
        if self.point_time_s < 0:
            raise ConfigError(f'point_time_s must be >= 0, got {self.point_time_s!r}')
        for name, param in ADAPTER_PARAMETERS.items():  # type, range, choices: the spec
            _P[param].check(getattr(self, name), label=name)
        if not self.controller and self.kind is not AdapterKind.TWIST:
            raise ConfigError('controller name must not be empty')

    @property
    def topic(self) -> str:
        """Topic of the main command stream."""
        if self.kind is AdapterKind.TWIST:
            return self.twist_topic
        leaf = 'joint_trajectory' if self.kind is AdapterKind.JOINT_TRAJECTORY else 'commands'
        return f'{self.controller}/{leaf}'

    @property
    def gripper_topic(self) -> str:
        return f'{self.gripper_controller}/commands' if self.gripper_controller else ''

    @property
    def effort_topic(self) -> str:
        return f'{self.effort_controller}/commands' if self.effort_controller else ''

    def effort_limits(self, action_names: Sequence[str]) -> dict[str, dict[str, float]]:
        """Safety limits of the effort action: ``{name: {lower: 0, upper: max_effort}}`` or {}."""
        if self.effort_action not in action_names:
            return {}
        return {self.effort_action: {'lower': 0.0, 'upper': float(self.max_effort)}}

    def control_mode(self, action_kind: str) -> ControlMode:
        """Position or velocity control for a bundle ``action_kind``; raises on a mismatch."""
        if action_kind in POSITION_KINDS:
            if self.kind is AdapterKind.TWIST:
                raise ConfigError(f'twist adapter needs a velocity action kind, bundle has '
                                  f'{action_kind!r}')
            return ControlMode.POSITION
        if action_kind in VELOCITY_KINDS:
            if self.kind is AdapterKind.JOINT_TRAJECTORY:
                raise ConfigError(f'joint_trajectory adapter needs position actions, bundle '
                                  f'has {action_kind!r}; use forward_command or twist')
            return ControlMode.VELOCITY
        raise ConfigError(f'unsupported action kind {action_kind!r}; expected one of '
                          f'{POSITION_KINDS + VELOCITY_KINDS}')


class ActionMapping:
    """
    Index arrays from the bundle action vector to the controller vectors.

    Raises :class:`ConfigError` naming every controller joint the bundle does not produce. The
    gripper effort action is optional: ``effort_index`` is its place in the bundle (None when
    absent); it is sent only with an effort controller.
    """

    def __init__(self, action_names: Sequence[str], config: AdapterConfig) -> None:
        self.action_names = tuple(action_names)
        self.config = config
        pos = {n: i for i, n in enumerate(self.action_names)}
        targets = config.joints or (tuple(n for n in TWIST_FIELDS if n in pos)
                                    if config.kind is AdapterKind.TWIST else ())
        missing = [j for j in targets if j not in pos]
        if missing:
            raise ConfigError(f'bundle actions {list(self.action_names)} lack controller '
                              f'joints {missing}')
        if not targets:
            raise ConfigError(f'no bundle action maps to the {config.kind.value} controller')
        self.target_names = tuple(targets)
        self.arm_index = np.array([pos[j] for j in targets], dtype=np.intp)
        self.gripper_index: int | None = None
        if config.gripper_controller:
            if config.gripper_action not in pos:
                raise ConfigError(f'gripper action {config.gripper_action!r} not in bundle '
                                  f'actions {list(self.action_names)}')
            self.gripper_index = pos[config.gripper_action]
        self.effort_index: int | None = pos.get(config.effort_action)
        self.sends_effort = self.effort_index is not None and bool(config.effort_controller)

    def arm(self, actions: np.ndarray) -> np.ndarray:
        """Select the controller joints: [A] -> [n] or [K, A] -> [K, n] in controller order."""
        return np.asarray(actions)[..., self.arm_index]

    def gripper(self, action: np.ndarray) -> float | None:
        return None if self.gripper_index is None else float(action[self.gripper_index])

    def effort(self, action: np.ndarray) -> float | None:
        """
        Max effort [N] to send, clipped to [0, max_effort]; None when not sent.

        Not sent: no effort controller, no effort action, or a non-finite value (fail closed:
        the controller keeps the last effort).
        """
        if not self.sends_effort:
            return None
        v = float(action[self.effort_index])
        return float(np.clip(v, 0.0, self.config.max_effort)) if np.isfinite(v) else None


@dataclass(frozen=True)
class ControllerCommand:
    """
    One tick's controller command, ready to be turned into messages.

    :ivar kind: adapter kind.
    :ivar names: controller joint names (or twist fields) of each column of ``points``.
    :ivar points: [K, n] positions / velocities; K = 1 except chunk trajectories.
    :ivar times_s: [K] time_from_start of each point [s].
    :ivar gripper: gripper command (forward command, one value) or None.
    :ivar hold: True when this is the safe hold command.
    :ivar effort: gripper max effort [N] (forward command, one value) or None (not sent: the
        controller keeps the last one).
    """

    kind: AdapterKind
    names: tuple[str, ...]
    points: np.ndarray
    times_s: np.ndarray
    gripper: float | None
    hold: bool = False
    effort: float | None = None

    def twist(self) -> tuple[list[float], list[float]]:
        """(linear xyz, angular xyz) with missing fields 0 (twist only)."""
        vals = dict(zip(self.names, self.points[0].tolist()))
        lin = [vals.get(f'linear.{a}', 0.0) for a in 'xyz']
        ang = [vals.get(f'angular.{a}', 0.0) for a in 'xyz']
        return lin, ang


def make_command(mapping: ActionMapping, command: np.ndarray, *, period_s: float,
                 future: np.ndarray | None = None, dt_s: float | None = None,
                 hold: bool = False) -> ControllerCommand:
    """
    Build the controller command from a filtered action ``command`` [A] (bundle order).

    ``future`` [K, A] (already limited) follows ``command`` in chunk trajectory mode, spaced
    ``dt_s``; the first point is due one control period from now.
    """
    cfg = mapping.config
    first_t = cfg.point_time_s or period_s
    if (cfg.kind is AdapterKind.JOINT_TRAJECTORY and cfg.trajectory_mode is TrajectoryMode.CHUNK
            and future is not None and len(future) and not hold):
        pts = np.vstack([command[None, :], future])
        times = first_t + np.arange(len(pts)) * (dt_s or period_s)
    else:
        pts = command[None, :]
        times = np.array([first_t])
    return ControllerCommand(cfg.kind, mapping.target_names, mapping.arm(pts), times,
                             mapping.gripper(command), hold, mapping.effort(command))


def to_command_space(actions: np.ndarray, kind: str, names: Sequence[str],
                     joint_names: Sequence[str], joint_positions: np.ndarray | None,
                     *, absolute: Sequence[str] = ()) -> np.ndarray:
    """
    Convert a chunk [H, A] to absolute command values.

    Deltas are added to the frame's joint positions (by name); other kinds pass through, and
    so do the ``absolute`` names (the gripper effort [N] is never a delta). Raises ConfigError
    on a missing joint for a delta action.
    """
    actions = np.asarray(actions, dtype=np.float64)
    if kind != 'delta_joint_position':
        return actions
    if joint_positions is None:
        raise ConfigError('delta actions need joint positions in the frame')
    pos = dict(zip(joint_names, np.asarray(joint_positions, dtype=np.float64)))
    missing = [n for n in names if n not in pos and n not in absolute]
    if missing:
        raise ConfigError(f'delta actions {missing} have no joint position in the frame')
    return actions + np.array([0.0 if n in absolute else pos[n] for n in names])[None, :]


def positions_for(names: Sequence[str], joint_names: Sequence[str],
                  joint_positions: np.ndarray | None,
                  aliases: dict[str, str] | None = None,
                  fixed: Mapping[str, float] | None = None) -> np.ndarray | None:
    """
    Measured positions in action order (for a position hold); None if any is unknown.

    ``fixed``: action names that are not measured (the gripper effort) and their value.
    """
    if joint_positions is None:
        return None
    pos = dict(zip(joint_names, np.asarray(joint_positions, dtype=np.float64)))
    aliases, fixed = aliases or {}, fixed or {}
    try:
        return np.array([fixed[n] if n in fixed else pos[aliases.get(n, n)] for n in names])
    except KeyError:
        return None
