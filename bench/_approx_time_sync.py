"""
Baseline for ``bench_sync``: message_filters' ApproximateTimeSynchronizer, in-process.

ros2/message_filters' Python ``ApproximateTimeSynchronizer`` (src/message_filters/__init__.py),
re-implemented in-process, per-message work kept.

The original's path for one message, all of which runs here: the ``Subscriber`` filter's
callback signals its registered callbacks (``SimpleFilter.signalMessage``: a dict of
``(callback, args)``, called as ``cb(*(msg + args))``) -> ``ApproximateTimeSynchronizer.add(msg,
my_queue, my_queue_index)``, which checks the message has ``header.stamp``, converts it with
``rclpy.time.Time.from_msg``, takes the lock, stores the message in that input's dict queue
keyed by stamp [ns] (trimmed to ``queue_size`` by deleting the minimum key), and, for every
other queue, keeps the stamps within ``slop`` (each distance wrapped in an
``rclpy.duration.Duration`` and compared with the slop ``Duration``; each kept stamp as an
``rclpy.time.Time``), sorted by distance; then it walks ``itertools.product`` over those
candidate lists until a combination spans less than ``slop`` and is still fully queued; that
set is signalled to the user callback and removed. Only the rclpy subscription is absent: the
bench calls ``Input.callback(msg)`` directly, as rclpy's executor would.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import itertools
import threading

from rclpy.duration import Duration
from rclpy.time import Time


class SimpleFilter:
    """message_filters' callback registry: ``registerCallback`` / ``signalMessage``."""

    def __init__(self) -> None:
        self.callbacks: dict[int, tuple[Callable[..., None], tuple]] = {}

    def registerCallback(self, cb: Callable[..., None], *args) -> int:  # noqa: N802
        conn = len(self.callbacks)
        self.callbacks[conn] = (cb, args)
        return conn

    def signalMessage(self, *msg) -> None:  # noqa: N802
        for cb, args in self.callbacks.values():
            cb(*(msg + args))


class Input(SimpleFilter):
    """
    Stand in for the ``Subscriber`` filter, without its rclpy subscription.

    ``callback(msg)`` is what the executor calls for each received message.
    """

    def callback(self, msg) -> None:
        self.signalMessage(msg)


class ApproximateTimeSync(SimpleFilter):
    """
    Match the ``inputs`` by approximate time.

    Registered callbacks get one message per input for each match.
    """

    def __init__(self, inputs: Sequence[SimpleFilter], queue_size: int, slop_s: float) -> None:
        super().__init__()
        self.queue_size = queue_size
        self.lock = threading.Lock()
        self.queues: list[dict[int, object]] = [{} for _ in inputs]
        self.input_connections = [f.registerCallback(self.add, q, i)
                                  for i, (f, q) in enumerate(zip(inputs, self.queues))]
        self.slop = Duration(seconds=slop_s)

    def add(self, msg, my_queue: dict[int, object], my_queue_index: int | None = None) -> None:
        if not hasattr(msg, 'header') or not hasattr(msg.header, 'stamp'):
            return  # allow_headerless=False: the original logs a warning and drops it
        stamp = msg.header.stamp
        if not hasattr(stamp, 'nanoseconds'):
            stamp = Time.from_msg(stamp)
        self.lock.acquire()
        my_queue[stamp.nanoseconds] = msg
        while len(my_queue) > self.queue_size:
            del my_queue[min(my_queue)]
        if my_queue_index is None:
            search = self.queues
        else:
            search = self.queues[:my_queue_index] + self.queues[my_queue_index + 1:]
        candidates = []
        for queue in search:
            near = []
            for s in queue:
                delta = Duration(nanoseconds=abs(s - stamp.nanoseconds))
                if delta > self.slop:
                    continue
                near.append((Time(nanoseconds=s, clock_type=stamp.clock_type), delta))
            if not near:
                self.lock.release()
                return
            candidates.append(sorted(near, key=lambda x: x[1]))
        for combo in itertools.product(*[list(zip(*c))[0] for c in candidates]):
            combo = list(combo)
            if my_queue_index is not None:
                combo.insert(my_queue_index, stamp)
            pairs = list(zip(self.queues, combo))
            if (max(combo) - min(combo)) < self.slop and not [
                    1 for q, t in pairs if t.nanoseconds not in q]:
                msgs = [q[t.nanoseconds] for q, t in pairs]
                self.signalMessage(*msgs)
                for q, t in pairs:
                    del q[t.nanoseconds]
                break
        self.lock.release()
