"""
The measured latency of the policy loop (ROS-free): frame stamp -> chunk at the scheduler.

A chunk computed from a frame at ``t0`` reaches the scheduler ``L`` later (inference, transport,
a remote host). The scheduler uses ``L`` to tell whether the actions left in the current chunk
would run out before the next chunk lands (``ChunkScheduler.needs_inference``).
"""

from __future__ import annotations

from collections import deque

import numpy as np
from vla_ros.errors import ConfigError

LEAD_WINDOW = 16          # chunks over which the latency is estimated
LEAD_QUANTILE = 0.5       # the median
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
        """Return the estimated latency [ns] (0 before the first chunk)."""
        return self.quantile_ns(LEAD_QUANTILE)

    def quantile_ns(self, q: float) -> int:
        """Return the ``q`` quantile (0..1) of the recent latencies [ns] (0 before the first)."""
        if not self._leads:
            return 0
        return int(np.quantile(np.fromiter(self._leads, float), q))
