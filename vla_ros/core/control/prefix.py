"""
What the scheduler will execute while a chunk is computed: :class:`PrefixPlanner` (ROS-free).

For a bundle with an ``action_prefix`` input (docs/bundle.md, "Action prefix"), every request
carries the actions the scheduler has committed for the new chunk's first ``d`` steps, ``d``
from the measured latency as LeRobot's RTC latency tracker does: ``d = ceil(L_q / dt)`` with
``L_q`` the :data:`PREFIX_QUANTILE` quantile of recent frame-stamp -> chunk-arrival times (a
high quantile: a prefix one step too long only repeats what the old chunk does anyway, one too
short lets the new chunk change an action that is already running). The new chunk still starts
at its frame stamp; the scheduler skips by time, as for every bundle.
"""

from __future__ import annotations

import math

import numpy as np
from vla_ros.core.bundle.contract import ActionKind, InputKind, Manifest
from vla_ros.core.bundle.specs import PrefixTail
from vla_ros.core.control.latency import LeadEstimator
from vla_ros.core.control.scheduler import ChunkScheduler
from vla_ros.core.frame import Frame
from vla_ros.core.runtime.prefix import ActionPrefix

PREFIX_QUANTILE = 0.95  # of the recent latencies (LeRobot RTC: max or p95)


def delay_steps(latency_ns: int, dt_s: float, horizon: int) -> int:
    """Return ``d = ceil(latency / dt)``, at most ``horizon``."""
    if latency_ns <= 0:
        return 0
    return min(horizon, math.ceil(latency_ns * 1e-9 / dt_s - 1e-9))


class PrefixPlanner:
    """
    Builds the :class:`ActionPrefix` of a request from the scheduler and the measured latency.

    Call under the loop's lock (it reads the scheduler's chunks).
    """

    def __init__(self, manifest: Manifest, scheduler: ChunkScheduler,
                 lead: LeadEstimator) -> None:
        self.manifest, self.scheduler, self.lead = manifest, scheduler, lead
        pre = manifest.input(InputKind.ACTION_PREFIX).preprocessing
        self.planned_tail = pre.get('tail') == PrefixTail.PLANNED.value

    @classmethod
    def for_bundle(cls, manifest: Manifest, scheduler: ChunkScheduler,
                   lead: LeadEstimator) -> PrefixPlanner | None:
        """Return a planner when the bundle takes an ``action_prefix`` input, else None."""
        if manifest.input(InputKind.ACTION_PREFIX) is None:
            return None
        return cls(manifest, scheduler, lead)

    def plan(self, frame: Frame) -> ActionPrefix:
        """
        Return the actions the scheduler serves at ``frame.stamp_ns + k * dt``, k < d.

        A ``tail: planned`` prefix also gets the rest of the plan (k >= d) as its ``tail``.

        In the bundle's action space: command-space deltas (``delta_joint_position``) get the
        frame's joint positions taken off again, as the chunk will have them added.
        """
        m = self.manifest
        d = delay_steps(self.lead.quantile_ns(PREFIX_QUANTILE), m.dt, m.horizon)
        acts = self.scheduler.planned(frame.stamp_ns, m.horizon if self.planned_tail else d,
                                      m.dt)
        if acts.shape[0] and m.action_kind == ActionKind.DELTA_JOINT_POSITION.value:
            if frame.joint_positions is None:  # no reference to take off: commit nothing
                return ActionPrefix(np.zeros((0, len(m.action_names))), d)
            pos = dict(zip(frame.joint_names, np.asarray(frame.joint_positions, np.float64)))
            acts = acts - np.array([pos.get(n, 0.0) for n in m.action_names])[None, :]
        if not acts.shape[0]:
            acts = np.zeros((0, len(m.action_names)))
        return ActionPrefix(acts[:d], d, acts[d:] if self.planned_tail else None)
