"""
Audio ring buffer at the model rate, indexed by absolute sample number (ROS-free).

Chunks of any size and rate are mixed down to mono, resampled (linear) to the model rate and
written at the sample index of their stamp, so a window ending at any frame time is one slice
copy. Unwritten samples (gaps, drops) are zero and tracked by a fill mask.
"""

from __future__ import annotations

import numpy as np
from vla_ros.core.sync.buffers import AddResult

NS_PER_S = 1_000_000_000


def resample_linear(samples: np.ndarray, src_rate: int, dst_rate: int) -> np.ndarray:
    """Resample a mono float32 signal [n] from ``src_rate`` to ``dst_rate`` [Hz] (linear)."""
    if src_rate == dst_rate or samples.size == 0:
        return samples
    n_out = max(1, int(round(samples.size * dst_rate / src_rate)))
    pos = np.arange(n_out, dtype=np.float64) * (src_rate / dst_rate)
    return np.interp(pos, np.arange(samples.size), samples).astype(np.float32)


def mix_down(samples: np.ndarray) -> np.ndarray:
    """[n] or [n, channels] float -> mono float32 [n] (channel mean)."""
    if samples.ndim == 2:
        samples = samples[:, 0] if samples.shape[1] == 1 else samples.mean(axis=1)
    return np.asarray(samples, dtype=np.float32)


class AudioRing:
    """
    Mono audio history at ``rate`` Hz covering ``capacity_s`` seconds.

    :param rate: model sample rate [Hz].
    :param capacity_s: history kept [s] (>= the window length).
    """

    def __init__(self, rate: int, capacity_s: float) -> None:
        self.rate = int(rate)
        self.cap = max(1, int(round(capacity_s * rate)))
        self._data = np.zeros(self.cap, np.float32)
        self._filled = np.zeros(self.cap, bool)
        self._head: int | None = None      # absolute index one past the newest sample
        self.last_end_ns: int | None = None  # end time of the newest chunk [ns]

    def index(self, stamp_ns: int) -> int:
        """Absolute sample index of a time [ns] (rounded)."""
        return (stamp_ns * self.rate + NS_PER_S // 2) // NS_PER_S

    @property
    def head_index(self) -> int | None:
        return self._head

    def clear(self) -> None:
        self._data[:] = 0.0
        self._filled[:] = False
        self._head = None
        self.last_end_ns = None

    def _span(self, a: int, b: int):
        """Ring slices covering absolute indices [a, b) (b - a <= cap)."""
        i, j = a % self.cap, b % self.cap
        if b - a == 0:
            return []
        if i < j:
            return [(slice(i, j), 0)]
        return [(slice(i, self.cap), 0), (slice(0, j), self.cap - i)]

    def _clear_range(self, a: int, b: int) -> None:
        if b - a >= self.cap:
            self._data[:] = 0.0
            self._filled[:] = False
            return
        i, j = a % self.cap, b % self.cap
        if i < j:  # no wrap (the common case)
            self._data[i:j] = 0.0
            self._filled[i:j] = False
            return
        for sl, _ in self._span(a, b):
            self._data[sl] = 0.0
            self._filled[sl] = False

    def add(self, start_ns: int, mono: np.ndarray, sample_rate: int) -> AddResult:
        """Write a mono chunk whose first sample is at ``start_ns`` [ns]."""
        rate, cap = self.rate, self.cap
        x = mono if sample_rate == rate else resample_linear(mono, sample_rate, rate)
        n = x.size
        start = (start_ns * rate + NS_PER_S // 2) // NS_PER_S  # self.index(start_ns)
        end = start + n
        head = self._head
        result = AddResult.OK
        if head is None:
            head = start
        elif start < head:
            result = AddResult.OUT_OF_ORDER
            if end <= head - cap:
                return AddResult.TOO_OLD
        elif start > head:
            self._clear_range(head, start)
        new_head = end if end > head else head
        lo = max(start, new_head - cap)  # == max(start, end - cap, max(head, end) - cap)
        if lo < end:
            i, j = lo % cap, end % cap
            if i < j:  # one contiguous ring slice (the common case)
                self._data[i:j] = x[lo - start:] if lo > start else x
                self._filled[i:j] = True
            else:
                seg = x[lo - start:]
                for sl, off in self._span(lo, end):
                    k = sl.stop - sl.start
                    self._data[sl] = seg[off:off + k]
                    self._filled[sl] = True
        self._head = new_head
        end_ns = start_ns + n * NS_PER_S // rate
        if self.last_end_ns is None or end_ns > self.last_end_ns:
            self.last_end_ns = end_ns
        return result

    def window(self, end_ns: int, n: int) -> tuple[np.ndarray, float]:
        """Return the ``n`` samples ending at ``end_ns`` and the zero-filled fraction in [0, 1]."""
        head = self._head
        if head is None or n <= 0:
            return np.zeros(n, np.float32), 1.0
        cap = self.cap
        e = (end_ns * self.rate + NS_PER_S // 2) // NS_PER_S  # self.index(end_ns)
        s = e - n
        a, b = max(s, head - cap), min(e, head)
        if a >= b:
            return np.zeros(n, np.float32), 1.0
        out = np.empty(n, np.float32)
        if a > s:
            out[:a - s] = 0.0
        if b < e:
            out[b - s:] = 0.0
        i, j, o = a % cap, b % cap, a - s
        data, filled = self._data, self._filled
        if i < j:  # one ring slice
            out[o:b - s] = data[i:j]
            count = np.count_nonzero(filled[i:j])
        else:  # wraps: [i, cap) then [0, j)
            k = cap - i
            out[o:o + k] = data[i:]
            out[o + k:b - s] = data[:j]
            count = np.count_nonzero(filled[i:]) + np.count_nonzero(filled[:j])
        return out, 1.0 - int(count) / n
