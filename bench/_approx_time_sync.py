"""Baseline for ``bench_sync``: the algorithm of ros2/message_filters' Python
``ApproximateTimeSynchronizer`` (src/message_filters/__init__.py), re-implemented in-process.

Faithful to the original's per-message work: one dict queue per input keyed by stamp [ns]
(trimmed to ``queue_size`` by deleting the minimum key), stamps converted with
``rclpy.time.Time.from_msg``, for every other queue the stamps within ``slop`` (as
``rclpy.duration.Duration`` objects) sorted by distance, then ``itertools.product`` over the
candidates until a combination spans less than ``slop`` and is still queued; that set is
emitted and removed. A lock guards ``add`` as in the original. No rclpy subscriptions: the
bench calls ``add(msg, index)`` directly, as the Subscriber filter's callback would.
"""

from __future__ import annotations

import itertools
import threading
from collections.abc import Callable, Sequence

from rclpy.duration import Duration
from rclpy.time import Time


class ApproximateTimeSync:
    """Approximate time matching of ``n_inputs`` streams; ``callback(*msgs)`` per match."""

    def __init__(self, n_inputs: int, queue_size: int, slop_s: float,
                 callback: Callable[..., None]) -> None:
        self.queues: list[dict[int, object]] = [{} for _ in range(n_inputs)]
        self.queue_size = queue_size
        self.slop = Duration(seconds=slop_s)
        self.callback = callback
        self.lock = threading.Lock()

    def add(self, msg, index: int) -> None:
        stamp = Time.from_msg(msg.header.stamp)
        with self.lock:
            queue = self.queues[index]
            queue[stamp.nanoseconds] = msg
            while len(queue) > self.queue_size:
                del queue[min(queue)]
            others = self.queues[:index] + self.queues[index + 1:]
            candidates: list[Sequence[Time]] = []
            for q in others:
                near = []
                for s in q:
                    delta = Duration(nanoseconds=abs(s - stamp.nanoseconds))
                    if delta > self.slop:
                        continue
                    near.append((Time(nanoseconds=s, clock_type=stamp.clock_type), delta))
                if not near:
                    return
                near.sort(key=lambda x: x[1])
                candidates.append([t for t, _ in near])
            for combo in itertools.product(*candidates):
                combo = list(combo)
                combo.insert(index, stamp)
                pairs = list(zip(self.queues, combo))
                if (max(combo) - min(combo)) < self.slop and all(
                        t.nanoseconds in q for q, t in pairs):
                    msgs = [q[t.nanoseconds] for q, t in pairs]
                    self.callback(*msgs)
                    for q, t in pairs:
                        del q[t.nanoseconds]
                    break
