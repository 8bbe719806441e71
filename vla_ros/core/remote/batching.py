"""
Frames from many robots -> batches for one policy run (ROS-free, thread-safe).

``vla_inference`` serving N robots puts each decoded request here (:meth:`BatchQueue.put`)
and its inference thread takes batches (:meth:`BatchQueue.take`): the first request opens a
batch, which closes as soon as every robot has one waiting, ``max_batch`` are waiting, or
``window_s`` has passed since it opened -- so a lone robot waits at most the window, and a
fleet whose requests arrive together is served in one run. A request that completes a batch
gets it back from :meth:`BatchQueue.put` to run at once (no thread hand-off); the window's
end is :meth:`BatchQueue.take`'s. One request per robot is kept:
a newer frame from the same robot replaces the waiting one (``superseded``), as the robot
wants a chunk for its newest observation.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import threading
import time
from typing import Generic, TypeVar

from vla_ros.errors import ConfigError

T = TypeVar('T')


@dataclass
class BatchStats:
    """What the queue did (reported on /diagnostics)."""

    requests: int = 0
    superseded: int = 0
    batches: int = 0
    frames: int = 0       # frames taken in batches
    largest: int = 0

    @property
    def mean_batch(self) -> float:
        """Return the mean batch size (0 before the first batch)."""
        return self.frames / self.batches if self.batches else 0.0


class BatchQueue(Generic[T]):
    """
    Waiting requests, at most one per robot.

    :param robots: the robots served (a batch closes early once each has one waiting).
    :param window_s: longest wait for more requests after the first one [s].
    :param max_batch: most requests in one batch (>= 1; 1 serves one frame at a time).
    """

    def __init__(self, robots: Sequence[str], *, window_s: float, max_batch: int) -> None:
        if max_batch < 1:
            raise ConfigError(f'max_batch must be >= 1, got {max_batch}')
        if window_s < 0:
            raise ConfigError(f'batch_window_ms must be >= 0, got {window_s * 1e3:g}')
        self.robots, self.window_s, self.max_batch = tuple(robots), window_s, max_batch
        self.stats = BatchStats()
        self._waiting: dict[str, tuple[float, T]] = {}  # robot -> (arrival [s], request)
        self._cond = threading.Condition()
        self._closed = False

    def put(self, robot: str, request: T) -> list[tuple[str, T]]:
        """
        Queue ``robot``'s newest request (replacing a waiting one).

        Returns the batch when this request completes one (every robot waiting, or
        ``max_batch``): the caller runs it at once, without handing it to a waiting thread
        (a thread wake-up is a good part of a round trip); else [].
        """
        with self._cond:
            self.stats.requests += 1
            if robot in self._waiting:
                self.stats.superseded += 1
                arrived = self._waiting.pop(robot)[0]  # keeps its place in the batch window
            else:
                arrived = time.monotonic()
            self._waiting[robot] = (arrived, request)
            if len(self._waiting) >= min(self.max_batch, len(self.robots)):
                return self._pop_locked()
            self._cond.notify_all()
            return []

    def take(self, timeout_s: float | None = None) -> list[tuple[str, T]]:
        """
        Block until a batch closes; return (robot, request) pairs, oldest first.

        Returns [] on timeout or after :meth:`close`.
        """
        deadline = None if timeout_s is None else time.monotonic() + timeout_s
        full = min(self.max_batch, len(self.robots))
        with self._cond:
            while not self._closed:
                if not self._waiting:
                    left = None if deadline is None else deadline - time.monotonic()
                    if left is not None and left <= 0:
                        return []
                    self._cond.wait(left)
                    continue
                first = min(t for t, _ in self._waiting.values())
                while not self._closed and 0 < len(self._waiting) < full:
                    left = first + self.window_s - time.monotonic()
                    if left <= 0:
                        break
                    self._cond.wait(left)
                if self._waiting and not self._closed:
                    return self._pop_locked()
            return []  # closed (a put may have taken the batch meanwhile: wait again)

    def _pop_locked(self) -> list[tuple[str, T]]:
        order = sorted(self._waiting.items(), key=lambda kv: kv[1][0])[:self.max_batch]
        for robot, _ in order:
            del self._waiting[robot]
        s = self.stats
        s.batches += 1
        s.frames += len(order)
        s.largest = max(s.largest, len(order))
        return [(robot, req) for robot, (_, req) in order]

    def close(self) -> None:
        """Wake every waiter; later takes return []."""
        with self._cond:
            self._closed = True
            self._cond.notify_all()
