"""What ``vla_policy`` reports (ROS-free): rate meters, latency windows, reject counters."""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
import time

import numpy as np
from vla_ros.core.control.boundary_steps import BoundaryMeter


class RateMeter:
    """Events per second over the last ``window_s`` (monotonic clock)."""

    def __init__(self, window_s: float = 2.0) -> None:
        self.window_s = window_s
        self._t: deque[float] = deque()

    def tick(self) -> None:
        now = time.monotonic()
        self._t.append(now)
        while self._t and now - self._t[0] > self.window_s:
            self._t.popleft()

    def rate(self) -> float:
        if len(self._t) < 2:
            return 0.0
        now = time.monotonic()
        if now - self._t[-1] > self.window_s:
            return 0.0
        return (len(self._t) - 1) / max(1e-9, self._t[-1] - self._t[0])


@dataclass
class PolicyCounters:
    """What the status reports; updated under the node's state lock."""

    control: RateMeter = field(default_factory=RateMeter)
    frames: RateMeter = field(default_factory=RateMeter)
    chunks_rate: RateMeter = field(default_factory=RateMeter)
    latencies_ms: deque = field(default_factory=lambda: deque(maxlen=100))
    e2e_ms: float = 0.0
    chunks: int = 0
    holds: int = 0
    rejected_frames: int = 0     # frames that could not be built or used (these hold)
    rejected_messages: int = 0   # sensor messages rejected (counted only)
    rejected_commands: int = 0   # language commands over the rate limit
    last_reject: str = ''
    boundary_steps: BoundaryMeter | None = None  # velocity steps at chunk boundaries

    def chunk_entered(self, e2e_ms: float, run_ms: float) -> None:
        """Count a chunk that entered the scheduler: frame -> arrival [ms], policy run() [ms]."""
        self.e2e_ms = e2e_ms
        self.latencies_ms.append(run_ms)
        self.chunks += 1
        self.chunks_rate.tick()

    def p95(self) -> float:
        return float(np.percentile(self.latencies_ms, 95)) if self.latencies_ms else 0.0
