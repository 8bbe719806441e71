"""
Task predicates of the tabletop world, computed from object poses and contacts (numpy only).

Keys are ``<colour>_cube_<predicate>`` (e.g. ``red_cube_lifted``) plus the global ones in
:class:`GlobalPredicate`. World frame: the robot faces +x, so +y is *left*.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
import json

import numpy as np
from vla_ros.errors import ConfigError


class Predicate(str, Enum):
    """Per-object predicates (suffix of the key)."""

    LIFTED = 'lifted'              # centre >= lift_threshold above its initial height
    TOUCHED = 'touched'            # any robot geom touched it since reset (latched)
    GRASPED = 'grasped'            # both finger pads touch it now
    PUSHED_LEFT = 'pushed_left'    # moved >= push_threshold along +y, not lifted
    PUSHED_RIGHT = 'pushed_right'  # moved >= push_threshold along -y, not lifted
    OFF_TABLE = 'off_table'        # fell below the table top


class GlobalPredicate(str, Enum):
    ARM_AT_HOME = 'arm_at_home'        # every arm joint within home_tolerance of home
    GRIPPER_OPEN = 'gripper_open'      # finger opening >= 0.9 * max
    ANY_CUBE_LIFTED = 'any_cube_lifted'


def predicate_key(obj: str, predicate: Predicate) -> str:
    return f'{obj}_{predicate.value}'


@dataclass(frozen=True)
class TaskThresholds:
    lift_threshold: float = 0.05   # [m]
    push_threshold: float = 0.05   # [m]
    home_tolerance: float = 0.1    # [rad]
    table_top_z: float = 0.4       # [m]

    def __post_init__(self) -> None:
        for name in ('lift_threshold', 'push_threshold', 'home_tolerance'):
            if getattr(self, name) <= 0:
                raise ConfigError(f'{name} must be > 0, got {getattr(self, name)}')


@dataclass
class TaskState:
    """A snapshot for evaluation; :meth:`to_json` is what ``/sim/task_state`` carries."""

    seed: int
    episode: int
    sim_time: float                                  # [s] since reset
    predicates: dict[str, bool]
    objects: dict[str, dict[str, list[float]]]       # name -> position, initial_position [m]
    tcp_position: list[float]                        # [m], world
    gripper_opening: float                           # [m] per finger
    pad_force: dict[str, float]                      # pad name -> summed normal force [N]
    events: list[dict] = field(default_factory=list)  # sound events: {name, t, text?}
    pad_force_peak: float | None = None  # varied cubes: peak summed force since the last [N]

    def to_json(self) -> str:
        return json.dumps(self.__dict__, separators=(',', ':'))

    @staticmethod
    def from_json(text: str) -> TaskState:
        return TaskState(**json.loads(text))


class TaskTracker:
    """Latches contact predicates between resets and evaluates all predicates."""

    def __init__(self, objects: tuple[str, ...], thresholds: TaskThresholds) -> None:
        self.objects = objects
        self.th = thresholds
        self.initial: dict[str, np.ndarray] = {}
        self.touched: set[str] = set()
        self.grasped: set[str] = set()

    def reset(self, initial_positions: dict[str, np.ndarray]) -> None:
        self.initial = {k: np.array(v, float) for k, v in initial_positions.items()}
        self.touched.clear()
        self.grasped.clear()

    def update_contacts(self, touching: set[str], grasped: set[str]) -> None:
        """Objects touched by the robot and grasped (both pads) at this physics step."""
        self.touched |= touching
        self.grasped = set(grasped)

    def predicates(self, positions: dict[str, np.ndarray], arm_q: np.ndarray,
                   home_q: np.ndarray, gripper_opening: float,
                   gripper_max: float) -> dict[str, bool]:
        out: dict[str, bool] = {}
        any_lifted = False
        for obj in self.objects:
            p, p0 = np.asarray(positions[obj]), self.initial[obj]
            lifted = bool(p[2] - p0[2] >= self.th.lift_threshold)
            any_lifted |= lifted
            dy = p[1] - p0[1]
            on_table = abs(p[2] - p0[2]) < 0.02
            out[predicate_key(obj, Predicate.LIFTED)] = lifted
            out[predicate_key(obj, Predicate.TOUCHED)] = obj in self.touched
            out[predicate_key(obj, Predicate.GRASPED)] = obj in self.grasped
            out[predicate_key(obj, Predicate.PUSHED_LEFT)] = bool(
                on_table and dy >= self.th.push_threshold)
            out[predicate_key(obj, Predicate.PUSHED_RIGHT)] = bool(
                on_table and dy <= -self.th.push_threshold)
            out[predicate_key(obj, Predicate.OFF_TABLE)] = bool(p[2] < self.th.table_top_z)
        out[GlobalPredicate.ARM_AT_HOME.value] = bool(
            np.all(np.abs(np.asarray(arm_q) - home_q) <= self.th.home_tolerance))
        out[GlobalPredicate.GRIPPER_OPEN.value] = bool(gripper_opening >= 0.9 * gripper_max)
        out[GlobalPredicate.ANY_CUBE_LIFTED.value] = any_lifted
        return out
