"""
How hard the arm is jerked where one chunk hands over to the next: :class:`BoundaryMeter`.

ROS-free. Real-time chunking exists to remove the jump at chunk boundaries (issue #29), so the
control loop measures it, twice (:class:`BoundaryMeter`): on the positions it commands (after
the safety filter, what the controller gets) and on the positions the scheduler planned
(before it). While the arm moves, the filter limits each velocity change to ``max_acceleration
x T`` (0.8 rad/s with config/sim.yaml at 10 Hz; holds are not rate limited), so a jump in the
plan shows in the commanded steps mostly as steps at that cap (and as an arm that lags the
plan); the planned steps show the jump itself.
Definitions (:class:`BoundarySteps`, per control tick k, period ``T``):

- ``q_k`` [A]: the positions of tick k, in action order (commanded: what was sent, a hold's
  latched position included; planned: the scheduler's action, or the hold where none is served);
- ``v_k = (q_k - q_{k-1}) / T`` [unit/s] and the velocity step ``s_k = max_j |v_k - v_{k-1}|``
  (over the action dimensions: rad/s for joints, m/s for a gripper);
- a boundary is a tick k whose action comes from a newer chunk than the last action served
  before it (a hold in between does not end the old chunk: a stall that ends with a new chunk
  is a boundary too);
- its step is ``max(s_k, s_{k+1})``: a jump of the position at k shows as a velocity step at k
  and again, back, at k+1.

Ticks without a command (nothing sent) break the history: no step spans them.
"""

from __future__ import annotations

from collections import deque

import numpy as np


class BoundarySteps:
    """
    The velocity steps at chunk boundaries of one command's execution.

    :param period_s: the control period T [s].
    :ivar max_step: the largest boundary step so far [unit/s] (0.0: none yet).
    :ivar boundaries: boundary steps measured so far.
    """

    def __init__(self, period_s: float) -> None:
        if not period_s > 0:
            raise ValueError(f'period_s must be > 0, got {period_s!r}')
        self.period_s = period_s
        self.reset()

    def reset(self) -> None:
        """Forget everything (a new command)."""
        self.max_step = 0.0
        self.boundaries = 0
        self._q: deque[np.ndarray] = deque(maxlen=3)  # q_{k-2}, q_{k-1}, q_k
        self._seq: int | None = None     # chunk of the last action served
        self._pending: float | None = None  # s_k of a boundary at k, waiting for s_{k+1}

    def add(self, values: np.ndarray | None, seq: int | None) -> None:
        """
        Take tick k: its positions ``values`` [A] and the chunk ``seq`` of its action.

        ``values`` None: nothing sent; ``seq`` None: no action served (a hold).
        """
        if values is None:
            self._q.clear()
            self._finish(None)
            return
        self._q.append(np.asarray(values, np.float64))
        step = self._step()
        if self._pending is not None:
            self._finish(step)
        if seq is None:
            return
        if self._seq is not None and seq != self._seq and step is not None:
            self._pending = step  # (a switch without two positions before it: not measured)
        self._seq = seq

    def _step(self) -> float | None:
        """Return ``s_k`` of the newest tick, or None with fewer than three positions."""
        if len(self._q) < 3:
            return None
        q0, q1, q2 = self._q
        v1, v2 = (q1 - q0) / self.period_s, (q2 - q1) / self.period_s
        return float(np.max(np.abs(v2 - v1))) if v2.size else 0.0

    def _finish(self, next_step: float | None) -> None:
        """Close a pending boundary with ``s_{k+1}`` (None: not measurable, s_k alone)."""
        if self._pending is None:
            return
        step = max(self._pending, next_step or 0.0)
        self._pending = None
        self.boundaries += 1
        self.max_step = max(self.max_step, step)


class BoundaryMeter:
    """
    Boundary steps of the planned and of the commanded positions, one command at a time.

    :ivar planned: on the scheduler's actions (before the safety filter).
    :ivar commanded: on what was sent (after it).
    """

    def __init__(self, period_s: float) -> None:
        self.planned, self.commanded = BoundarySteps(period_s), BoundarySteps(period_s)

    def reset(self) -> None:
        """Forget everything (a new command)."""
        self.planned.reset()
        self.commanded.reset()

    def add(self, planned: np.ndarray | None, commanded: np.ndarray | None,
            seq: int | None) -> None:
        """
        Take one tick: the served action [A], what was sent [A] and the action's chunk ``seq``.

        ``planned`` None: none served (a hold: the held position counts as the plan);
        ``commanded`` None: nothing sent.
        """
        self.planned.add(commanded if planned is None else planned, seq)
        self.commanded.add(commanded, seq)
