"""
Wall-clock watchdog of the ROS clock (ROS-free).

With ``use_sim_time`` every timer, control tick and frame-age check of a node runs on the
simulator's ``/clock``. A frozen (or crashed) simulator stops that clock, and with it every
check that would notice: the node would go silent while still "running". This watchdog is fed
from a steady (wall) timer and says when the ROS clock has not advanced for too long.
"""

from __future__ import annotations

import math

from vla_ros.errors import ConfigError


class ClockWatchdog:
    """
    Tracks whether the ROS clock advances in wall time.

    :param timeout_s: the ROS clock counts as stalled after not advancing for this long in wall
        time [s].
    """

    def __init__(self, timeout_s: float) -> None:
        if not (math.isfinite(timeout_s) and timeout_s > 0):
            raise ConfigError(f'clock timeout must be > 0 s, got {timeout_s!r}')
        self.timeout_s = float(timeout_s)
        self._last_ros_ns: int | None = None
        self._last_change_s = 0.0
        self.stalled = False

    def update(self, ros_now_ns: int, wall_now_s: float) -> float | None:
        """
        Feed one observation (call it periodically from a wall-clock timer).

        :return: How long the ROS clock has stood still [s, wall] when that exceeds the timeout
            (``stalled`` is then True), else None. A clock that never started (0) does not
            count as stalled: nothing ran on it yet.
        """
        if self._last_ros_ns is None or ros_now_ns != self._last_ros_ns or ros_now_ns == 0:
            self._last_ros_ns = ros_now_ns
            self._last_change_s = wall_now_s
            self.stalled = False
            return None
        still = wall_now_s - self._last_change_s
        self.stalled = still > self.timeout_s
        return still if self.stalled else None
