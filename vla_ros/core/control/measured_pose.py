"""The newest measured robot pose in action order, from ``/joint_states`` (ROS-free)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

CACHE_SIZE = 8  # joint-name orders remembered (drivers send one; hostile publishers many)


class MeasuredPose:
    """
    Newest plausible measured positions [A] in action order: what a position hold latches.

    Updated on the sensor thread at the joint-state rate, so it is kept to a few
    microseconds: the name -> action index is cached per name order, the plausibility bounds
    are precomputed, and the pose is swapped in as one reference (no lock needed).

    :param action_names: the bundle's action names (the order of the pose).
    :param aliases: action name -> joint_states name where they differ (the gripper).
    :param low: [A] lowest plausible position (limits minus a margin; -inf = none).
    :param high: [A] highest plausible position.
    :param fixed: action names that no joint state measures (the gripper effort [N]) and the
        value the pose carries for them.
    """

    def __init__(self, action_names: Sequence[str], aliases: Mapping[str, str],
                 low: np.ndarray, high: np.ndarray,
                 fixed: Mapping[str, float] | None = None) -> None:
        fixed = fixed or {}
        self._slots = np.array([i for i, a in enumerate(action_names) if a not in fixed],
                               np.intp)
        self._joints = [aliases.get(a, a) for a in action_names if a not in fixed]
        self._template = np.array([fixed.get(a, np.nan) for a in action_names], np.float64)
        self._partial = len(fixed) > 0
        self._low, self._high = low, high
        self._index: dict[tuple[str, ...], np.ndarray | None] = {}
        self.value: np.ndarray | None = None

    def clear(self) -> None:
        """Forget the pose (the robot may have been moved: a simulator reset)."""
        self.value = None

    def update(self, names: Sequence[str], positions: np.ndarray) -> bool:
        """
        Take one joint state; False when it was implausible (the pose is kept).

        A message lacking one of the joints is ignored (True: nothing wrong with it).
        """
        key = names if names.__class__ is tuple else tuple(names)
        try:
            idx = self._index[key]
        except KeyError:
            idx = self._lookup(key)
        if idx is None:
            return True
        pos = np.asarray(positions, dtype=np.float64).take(idx)
        if self._partial:
            full = self._template.copy()
            full[self._slots] = pos
            pos = full
        if ((pos >= self._low) & (pos <= self._high)).all():  # NaN compares false
            self.value = pos
            return True
        return False

    def _lookup(self, names: tuple[str, ...]) -> np.ndarray | None:
        where = {n: i for i, n in enumerate(names)}
        try:
            idx = np.array([where[j] for j in self._joints], np.intp)
        except KeyError:
            idx = None
        if len(self._index) >= CACHE_SIZE:
            self._index.clear()  # bounded: hostile name orders cannot grow memory
        self._index[names] = idx
        return idx
