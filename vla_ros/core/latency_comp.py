"""
Latency compensation for slow policies (ROS-free): plan from where the arm *will* be.

A chunk computed from a frame at ``t0`` reaches the scheduler ``L`` later (inference, transport).
Meanwhile the arm keeps following the committed chunk, so a policy that plans from the frame's
joint state plans from a pose the arm has already left, and every chunk switch pulls it back a
little: on contact tasks the push falls short. The classic remedy for a known dead time is a
Smith predictor: feed the controller the state predicted at the moment its output applies.
Here the prediction is free — the scheduler holds the actions the arm will track until the new
chunk lands — so the frame's joint positions are moved forward by the committed motion over
``L`` (``cmd(t0 + L) - cmd(t0)``; joints the robot may not track, such as a gripper closing on an
object, are left as measured), and the new chunk's first action is due at ``t0 + L``.

:class:`LeadEstimator` measures ``L`` from the chunks that arrived (frame stamp -> arrival).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Sequence
import dataclasses

import numpy as np
from vla_ros.core.frame import Frame
from vla_ros.errors import ConfigError

LEAD_WINDOW = 16          # chunks over which the lead is estimated
LEAD_QUANTILE = 0.5       # the median lead (a late chunk skips; an early one waits)
MAX_LEAD_NS = 5_000_000_000


class LeadEstimator:
    """Frame stamp -> chunk arrival times [ns] of recent chunks; :attr:`lead_ns` their median."""

    def __init__(self, window: int = LEAD_WINDOW) -> None:
        if window < 1:
            raise ConfigError(f'lead window must be >= 1, got {window!r}')
        self._leads: deque[int] = deque(maxlen=window)

    def reset(self) -> None:
        self._leads.clear()

    def add(self, frame_stamp_ns: int, arrival_ns: int) -> None:
        """Record one chunk; negative or absurd leads (clock jumps) are ignored."""
        lead = int(arrival_ns) - int(frame_stamp_ns)
        if 0 <= lead <= MAX_LEAD_NS:
            self._leads.append(lead)

    @property
    def lead_ns(self) -> int:
        """The estimated lead [ns] (0 before the first chunk)."""
        if not self._leads:
            return 0
        return int(np.quantile(np.fromiter(self._leads, float), LEAD_QUANTILE))


def forward_joints(frame: Frame, action_names: Sequence[str], committed_now: np.ndarray,
                   committed_ahead: np.ndarray, *, skip: Sequence[str] = ()) -> Frame:
    """
    Return ``frame`` with its joint positions moved by ``committed_ahead - committed_now``.

    :param action_names: names of the committed action values [A] (joint names).
    :param committed_now: [A] the scheduled action at the frame's stamp (command space).
    :param committed_ahead: [A] the scheduled action when the new chunk will land.
    :param skip: action names left as measured (a gripper blocked by what it holds).
    """
    if frame.joint_positions is None:
        return frame
    index = {n: i for i, n in enumerate(frame.joint_names)}
    pos = np.array(frame.joint_positions, dtype=np.float64)
    delta = np.asarray(committed_ahead, np.float64) - np.asarray(committed_now, np.float64)
    moved = False
    for a, name in enumerate(action_names):
        i = index.get(name)
        if i is None or name in skip or not np.isfinite(delta[a]):
            continue
        pos[i] += delta[a]
        moved = True
    return dataclasses.replace(frame, joint_positions=pos) if moved else frame
