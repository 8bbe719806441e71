"""
Time-indexed sample buffers (ROS-free): sorted by stamp, bounded by age and count.

Stamps are integer nanoseconds. Appending in order is O(1); an out-of-order sample is inserted
at its place (bisect); an exact duplicate stamp is refused. Samples older than the horizon
behind the newest stamp are trimmed.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right
from enum import Enum
from typing import Generic, TypeVar

T = TypeVar('T')


class AddResult(str, Enum):
    """Outcome of :meth:`StampedBuffer.add`."""

    OK = 'ok'
    OUT_OF_ORDER = 'out_of_order'  # inserted, but older than the newest sample
    DUPLICATE = 'duplicate'        # same stamp already buffered: dropped
    TOO_OLD = 'too_old'            # older than the horizon: dropped


_OK = AddResult.OK


class StampedBuffer(Generic[T]):
    """
    Samples of one stream, ascending by stamp.

    :param horizon_ns: keep samples no older than this behind the newest stamp [ns].
    :param max_len: hard cap on the number of samples (oldest dropped first).
    """

    __slots__ = ('horizon_ns', 'max_len', '_stamps', '_items')

    def __init__(self, horizon_ns: int, max_len: int = 256) -> None:
        if horizon_ns <= 0 or max_len <= 0:
            raise ValueError(f'horizon_ns and max_len must be > 0, got {horizon_ns}, {max_len}')
        self.horizon_ns = int(horizon_ns)
        self.max_len = int(max_len)
        self._stamps: list[int] = []
        self._items: list[T] = []

    def __len__(self) -> int:
        return len(self._stamps)

    @property
    def newest_stamp(self) -> int | None:
        return self._stamps[-1] if self._stamps else None

    def clear(self) -> None:
        self._stamps.clear()
        self._items.clear()

    def add(self, stamp_ns: int, item: T) -> AddResult:
        """Insert one sample; see :class:`AddResult`."""
        stamps = self._stamps
        if stamps and stamp_ns <= stamps[-1]:
            return self._insert(stamp_ns, item)
        items = self._items
        stamps.append(stamp_ns)
        items.append(item)
        if stamps[0] < stamp_ns - self.horizon_ns or len(stamps) > self.max_len:
            if len(stamps) <= self.max_len + 1 and stamps[1] >= stamp_ns - self.horizon_ns:
                del stamps[0]  # steady state: exactly the oldest sample left the horizon
                del items[0]
            else:
                self._trim()
        return _OK

    def _insert(self, stamp_ns: int, item: T) -> AddResult:
        stamps = self._stamps
        if stamp_ns < stamps[-1] - self.horizon_ns:
            return AddResult.TOO_OLD
        i = bisect_left(stamps, stamp_ns)
        if stamps[i] == stamp_ns:  # i < len: stamp_ns <= stamps[-1]
            return AddResult.DUPLICATE
        stamps.insert(i, stamp_ns)
        self._items.insert(i, item)
        self._trim()
        return AddResult.OUT_OF_ORDER

    def _trim(self) -> None:
        stamps = self._stamps
        n = len(stamps) - self.max_len
        cutoff = stamps[-1] - self.horizon_ns
        if stamps[0] < cutoff:
            n = max(n, 1 if stamps[1] >= cutoff else bisect_left(stamps, cutoff))
        if n == 1:
            del stamps[0]
            del self._items[0]
        elif n > 0:
            del stamps[:n]
            del self._items[:n]

    def nearest(self, stamp_ns: int) -> tuple[int, T] | None:
        """Return the sample nearest ``stamp_ns`` (ties -> the older one), or None when empty."""
        stamps = self._stamps
        if not stamps:
            return None
        i = bisect_left(stamps, stamp_ns)
        if i == len(stamps):
            i -= 1
        elif i > 0 and stamp_ns - stamps[i - 1] <= stamps[i] - stamp_ns:
            i -= 1
        return stamps[i], self._items[i]

    def latest_at(self, stamp_ns: int) -> tuple[int, T] | None:
        """Return the newest sample with stamp <= ``stamp_ns``, or None."""
        i = bisect_right(self._stamps, stamp_ns)
        return (self._stamps[i - 1], self._items[i - 1]) if i else None

    def bracket(self, stamp_ns: int) -> tuple[tuple[int, T] | None, tuple[int, T] | None]:
        """(newest sample <= stamp, oldest sample > stamp); either may be None."""
        stamps, items = self._stamps, self._items
        i = bisect_right(stamps, stamp_ns)
        before = (stamps[i - 1], items[i - 1]) if i else None
        after = (stamps[i], items[i]) if i < len(stamps) else None
        return before, after

    def window(self, start_ns: int, end_ns: int) -> tuple[list[int], list[T]]:
        """Return the samples with ``start_ns < stamp <= end_ns`` (stamps, items)."""
        i = bisect_right(self._stamps, start_ns)
        j = bisect_right(self._stamps, end_ns)
        return self._stamps[i:j], self._items[i:j]
