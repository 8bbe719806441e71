"""
Joint trajectory interpolation as joint_trajectory_controller does it (ROS-free).

A trajectory starts from the current setpoint at its start time; each point is reached at
``start + time_from_start``. Between points: cubic Hermite when both points carry velocities,
else linear. After the last point the setpoint holds. Joints absent from a trajectory hold.
"""

from __future__ import annotations

import numpy as np
from vla_ros.errors import ConfigError


class TrajectoryFollower:
    """Setpoint generator for ``n`` joints; time in seconds (sim time)."""

    def __init__(self, initial: np.ndarray) -> None:
        self.hold(initial)

    def hold(self, q: np.ndarray) -> None:
        """Hold ``q`` [n] (forward position command)."""
        q = np.asarray(q, float).copy()
        self.n = len(q)
        self.times = np.zeros(1)
        self.pos = q[None, :]
        self.vel: np.ndarray | None = None
        self.start = 0.0

    def set_trajectory(self, start: float, now: float, times: np.ndarray, positions: np.ndarray,
                       velocities: np.ndarray | None = None,
                       mask: np.ndarray | None = None) -> None:
        """
        Follow points ``positions`` [K, n] at ``times`` [K] (s after ``start``).

        ``mask`` [n] bool marks the joints the trajectory commands; others hold their current
        setpoint. A start in the past is allowed (points already due are skipped over).
        """
        times = np.asarray(times, float)
        positions = np.asarray(positions, float)
        if positions.ndim != 2 or positions.shape != (len(times), self.n):
            raise ConfigError(f'positions must be [{len(times)}, {self.n}], got '
                              f'{positions.shape}')
        if len(times) == 0 or np.any(np.diff(times) <= 0) or times[0] < 0:
            raise ConfigError(f'time_from_start must be >= 0 and increasing, got {times}')
        current = self.sample(now)
        mask = np.ones(self.n, bool) if mask is None else np.asarray(mask, bool)
        positions = np.where(mask[None, :], positions, current[None, :])
        t0 = max(0.0, now - start)
        keep = times > t0
        if not np.any(keep):  # every point already due: jump to the last
            self.hold(positions[-1])
            return
        vel = None
        if velocities is not None:
            velocities = np.where(mask[None, :], np.asarray(velocities, float), 0.0)
            vel = np.vstack([np.zeros(self.n), velocities[keep]])
        self.times = np.concatenate([[t0], times[keep]])
        self.pos = np.vstack([current, positions[keep]])
        self.vel = vel
        self.start = start

    def sample(self, t: float) -> np.ndarray:
        """Setpoint [n] at time ``t``."""
        tau = t - self.start
        times = self.times
        if tau <= times[0] or len(times) == 1:
            return self.pos[0].copy() if tau <= times[0] else self.pos[-1].copy()
        if tau >= times[-1]:
            return self.pos[-1].copy()
        i = int(np.searchsorted(times, tau, side='right')) - 1
        h = times[i + 1] - times[i]
        s = (tau - times[i]) / h
        p0, p1 = self.pos[i], self.pos[i + 1]
        if self.vel is None:
            return p0 + s * (p1 - p0)
        v0, v1 = self.vel[i] * h, self.vel[i + 1] * h
        s2, s3 = s * s, s * s * s
        return ((2 * s3 - 3 * s2 + 1) * p0 + (s3 - 2 * s2 + s) * v0
                + (-2 * s3 + 3 * s2) * p1 + (s3 - s2) * v1)

    def done(self, t: float) -> bool:
        return t - self.start >= self.times[-1]
