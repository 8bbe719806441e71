"""
Chunk scheduling: serve one action per control tick from chunks predicted asynchronously.

ROS-free. A chunk is H actions spaced ``dt`` apart; ``actions[0]`` is due at the stamp of the
frame it was computed from. Indexing is by time, so actions whose time passed while the policy
was running are skipped (LeRobot async inference, real-time chunking). Transitions between
chunks are smoothed by ACT temporal ensembling or a linear blend over the overlap.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import Enum
import math

import numpy as np
from vla_ros.core.config_utils import coerce_enums
from vla_ros.errors import ConfigError
from vla_ros.params.policy import POLICY_PARAMETERS

_P = POLICY_PARAMETERS
# SchedulerConfig fields that are parameters ``scheduler.<field>`` (default, range: from there)
FIELDS = ('mode', 'smoothing', 'inference_threshold', 'ensemble_coeff', 'blend_steps',
          'trigger', 'max_inference_rate_hz', 'min_execution_steps')


class SchedulerMode(str, Enum):
    """``async``: infer in the background; ``sync``: infer in the tick when a chunk ends."""

    ASYNC = 'async'
    SYNC = 'sync'


class Smoothing(str, Enum):
    """How consecutive chunks are joined."""

    NONE = 'none'                           # switch to the newest chunk at once
    TEMPORAL_ENSEMBLE = 'temporal_ensemble'  # ACT: exp-weighted mean of every covering chunk
    BLEND = 'blend'                         # RTC-style: linear cross-fade over blend_steps


class InferenceTrigger(str, Enum):
    """When a new chunk is requested (async mode)."""

    THRESHOLD = 'threshold'  # when fewer than inference_threshold actions remain
    FRAME = 'frame'          # also on every new frame while the worker is idle (rate-capped)
    AUTO = 'auto'            # FRAME while the latency is short against the chunk, else THRESHOLD


# ``auto``: re-plan on every frame while the measured frame -> chunk latency is at most this
# fraction of the newest chunk's span (H dt); beyond it a chunk is too stale when it lands to
# replace the executing one every frame (regime map, docs/policy.md: the frame trigger with
# temporal ensembling matches the threshold trigger up to +200 ms for a 1 s chunk, 44 vs 54/60
# at +300 ms).
AUTO_FRAME_MAX_LATENCY_FRACTION = 0.25


def resolve_trigger(trigger: InferenceTrigger, takes_prefix: bool) -> InferenceTrigger:
    """
    Return the trigger a loop runs with: ``auto`` resolved for a bundle.

    ``auto`` is ``frame`` for a bundle with an ``action_prefix`` input (its chunks continue the
    actions committed while they are computed, so re-planning on every frame does not switch
    plans mid-motion); for every other bundle it stays ``auto``: frame while the measured
    latency is short against the chunk (:data:`AUTO_FRAME_MAX_LATENCY_FRACTION`), threshold
    beyond (:meth:`ChunkScheduler.frame_trigger_pays`).
    """
    if trigger is not InferenceTrigger.AUTO:
        return trigger
    return InferenceTrigger.FRAME if takes_prefix else InferenceTrigger.AUTO


@dataclass(frozen=True)
class SchedulerConfig:
    """
    Chunk scheduler settings.

    :ivar mode: async or sync (debug: inference in the control tick, no skipping).
    :ivar smoothing: chunk transition smoothing.
    :ivar inference_threshold: request a new chunk when fewer actions than this remain.
    :ivar ensemble_coeff: ACT ``m`` in ``w_i = exp(-m * i)``, i = 0 for the oldest chunk
        (m < 0 weighs newer chunks more).
    :ivar blend_steps: ticks over which the blend moves from the old to the new chunk.
    :ivar max_chunks: chunks kept for temporal ensembling.
    :ivar trigger: threshold only, or also every new frame (react to new evidence at once), or
        auto (:func:`resolve_trigger`, done when the loop is built for a bundle).
    :ivar max_inference_rate_hz: cap on frame-triggered requests (0 = no cap) [Hz].
    :ivar min_execution_steps: serve at least this many actions of a chunk after it lands before
        the next is requested (threshold trigger), unless what is left would not cover the
        measured latency; 0 = off. Keeps a slow policy from re-planning on every chunk.
    """

    mode: SchedulerMode = SchedulerMode(_P['scheduler.mode'].default)
    smoothing: Smoothing = Smoothing(_P['scheduler.smoothing'].default)
    inference_threshold: int = _P['scheduler.inference_threshold'].default
    ensemble_coeff: float = _P['scheduler.ensemble_coeff'].default
    blend_steps: int = _P['scheduler.blend_steps'].default
    max_chunks: int = 8
    trigger: InferenceTrigger = InferenceTrigger(_P['scheduler.trigger'].default)
    max_inference_rate_hz: float = _P['scheduler.max_inference_rate_hz'].default
    min_execution_steps: int = _P['scheduler.min_execution_steps'].default

    def __post_init__(self) -> None:
        coerce_enums(self, {'mode': SchedulerMode, 'smoothing': Smoothing,
                            'trigger': InferenceTrigger})
        for name in FIELDS:  # type, range and choices: from the parameter spec
            _P[f'scheduler.{name}'].check(getattr(self, name), label=name)
        if self.max_chunks < 1:
            raise ConfigError(f'max_chunks must be >= 1, got {self.max_chunks!r}')


@dataclass(eq=False)
class _Chunk:
    actions: np.ndarray  # [H, A] float64
    start_ns: int        # time at which actions[0] is due [ns]
    dt_ns: int
    seq: int
    last_index: int = -1   # last index served from this chunk
    first_index: int = -1  # first index served from this chunk (-1: none yet)

    @property
    def served(self) -> int:
        """Actions served from this chunk so far."""
        return 0 if self.first_index < 0 else self.last_index - self.first_index + 1

    def time_index(self, now_ns: int) -> int:
        """Index of the action due at ``now_ns`` (rounded to the nearest step)."""
        return int(math.floor((now_ns - self.start_ns) / self.dt_ns + 0.5))


@dataclass(frozen=True)
class ScheduledAction:
    """The action for one tick: ``values`` [A], from chunk ``seq`` at ``index``."""

    values: np.ndarray
    seq: int
    index: int
    remaining: int  # actions left in the newest chunk after this one


class ChunkScheduler:
    """
    Serves one action per control tick from the newest chunk(s).

    Thread safety: none; the node calls it under one lock from the timer and the worker.
    """

    def __init__(self, config: SchedulerConfig | None = None) -> None:
        self.config = config or SchedulerConfig()
        self._chunks: deque[_Chunk] = deque(maxlen=self.config.max_chunks)
        self._seq = 0
        self._blend_from: _Chunk | None = None
        self._blend_tick = 0
        self.skipped = 0  # actions skipped because their time passed (since reset)

    def reset(self) -> None:
        """Forget every chunk (new command, e-stop, fault)."""
        self._chunks.clear()
        self._blend_from = None
        self._blend_tick = 0
        self.skipped = 0

    @property
    def has_chunk(self) -> bool:
        return bool(self._chunks)

    def add_chunk(self, actions: np.ndarray, start_ns: int, dt_s: float,
                  now_ns: int | None = None) -> int:
        """
        Add a chunk ``actions`` [H, A] whose first action is due at ``start_ns`` [ns].

        In sync mode the chunk starts at ``now_ns`` (nothing is skipped). Returns its sequence
        number.
        """
        actions = np.asarray(actions, dtype=np.float64)
        if actions.ndim != 2 or actions.shape[0] < 1:
            raise ValueError(f'chunk must be [H, A] with H >= 1, got shape {actions.shape}')
        if not dt_s > 0:
            raise ValueError(f'dt must be > 0, got {dt_s!r}')
        if self._chunks and self._chunks[-1].actions.shape[1] != actions.shape[1]:
            raise ValueError(f'chunk width changed: {self._chunks[-1].actions.shape[1]} -> '
                             f'{actions.shape[1]}')
        dt_ns = int(round(dt_s * 1e9))
        if self.config.mode is SchedulerMode.SYNC and now_ns is not None:
            start_ns = now_ns
        self._seq += 1
        chunk = _Chunk(actions, int(start_ns), dt_ns, self._seq)
        if self._chunks and self.config.smoothing is Smoothing.BLEND:
            self._blend_from = self._chunks[-1]
            self._blend_tick = 0
        if self.config.smoothing is not Smoothing.TEMPORAL_ENSEMBLE:
            self._chunks.clear()
            if self._blend_from is not None:
                self._chunks.append(self._blend_from)
        self._chunks.append(chunk)
        if self.config.smoothing is Smoothing.BLEND and len(self._chunks) > 2:
            self._chunks.popleft()
        return chunk.seq

    def remaining(self, now_ns: int) -> int:
        """Actions of the newest chunk still ahead of ``now_ns`` (0 without a chunk)."""
        if not self._chunks:
            return 0
        c = self._chunks[-1]
        if self.config.mode is SchedulerMode.SYNC:
            return c.actions.shape[0] - 1 - c.last_index
        nxt = max(c.last_index + 1, c.time_index(now_ns))
        return max(0, c.actions.shape[0] - nxt)

    def upcoming(self) -> np.ndarray:
        """Actions [K, A] of the newest chunk after the last one served (K may be 0)."""
        if not self._chunks:
            return np.zeros((0, 0))
        c = self._chunks[-1]
        return c.actions[c.last_index + 1:]

    def planned(self, start_ns: int, steps: int, dt_s: float) -> np.ndarray:
        """
        Return the actions [K, A] this scheduler serves at ``start_ns + k * dt_s`` (k < steps).

        K < ``steps`` where the newest chunk ends first (the robot would hold there); K = 0
        without a chunk. Read-only. Exact for ticks every ``dt`` (``control_rate_hz`` 0, the
        default: a faster tick serves at least one new action each, ahead of time). Temporal
        ensembling is applied as in :meth:`next_action`; a blend in progress is not (its
        target chunk's values: the blend lasts ``blend_steps`` ticks).
        """
        if not self._chunks or steps <= 0:
            return np.zeros((0, 0))
        c = self._chunks[-1]
        ensemble = self.config.smoothing is Smoothing.TEMPORAL_ENSEMBLE and len(self._chunks) > 1
        out = []
        for k in range(steps):
            idx = c.time_index(int(start_ns + round(k * dt_s * 1e9)))
            if not 0 <= idx < c.actions.shape[0]:
                break
            out.append(self._ensemble(c, idx) if ensemble else c.actions[idx])
        return np.array(out, np.float64).reshape(len(out), c.actions.shape[1])

    def needs_inference(self, now_ns: int, *, lead_ns: int = 0) -> bool:
        """
        Tell whether a new chunk should be requested (below threshold; sync: chunk used up).

        Async: fewer than ``inference_threshold`` actions remain and the newest chunk has served
        ``min_execution_steps`` actions — or what remains would not last the measured latency
        ``lead_ns`` (frame stamp -> chunk arrival) [ns].
        """
        remaining = self.remaining(now_ns)
        if self.config.mode is SchedulerMode.SYNC:
            return remaining <= 0
        if remaining >= max(1, self.config.inference_threshold):
            return False
        c = self._chunks[-1] if self._chunks else None
        if c is None or c.served >= self.config.min_execution_steps:
            return True
        return remaining * c.dt_ns <= lead_ns

    def frame_trigger_pays(self, lead_ns: int) -> bool:
        """
        Tell whether ``auto`` re-plans on frames now: latency ``lead_ns`` [ns] is short enough.

        True without a chunk; else ``lead_ns`` <= :data:`AUTO_FRAME_MAX_LATENCY_FRACTION` of
        the newest chunk's span (its actions x dt).
        """
        if not self._chunks:
            return True
        c = self._chunks[-1]
        return lead_ns <= AUTO_FRAME_MAX_LATENCY_FRACTION * c.actions.shape[0] * c.dt_ns

    def next_action(self, now_ns: int) -> ScheduledAction | None:
        """Return the action for the tick at ``now_ns``, or None when no chunk covers it (hold)."""
        if not self._chunks:
            return None
        newest = self._chunks[-1]
        idx = self._advance(newest, now_ns)
        if idx is None:
            return None
        values = newest.actions[idx]
        smoothing = self.config.smoothing
        if smoothing is Smoothing.TEMPORAL_ENSEMBLE and len(self._chunks) > 1:
            values = self._ensemble(newest, idx)
        elif smoothing is Smoothing.BLEND and self._blend_from is not None:
            values = self._blend(newest, idx, values)
        remaining = newest.actions.shape[0] - 1 - idx
        return ScheduledAction(np.array(values, dtype=np.float64), newest.seq, idx, remaining)

    # -- internals -------------------------------------------------------------------------

    def _advance(self, c: _Chunk, now_ns: int) -> int | None:
        if self.config.mode is SchedulerMode.SYNC:
            idx = c.last_index + 1
        else:
            idx = max(c.last_index + 1, c.time_index(now_ns))
            if c.last_index < 0 and idx > 0:
                self.skipped += idx
            elif idx > c.last_index + 1:
                self.skipped += idx - c.last_index - 1
        if idx >= c.actions.shape[0]:
            c.last_index = c.actions.shape[0]
            return None
        if c.first_index < 0:
            c.first_index = idx
        c.last_index = idx
        return idx

    def _ensemble(self, newest: _Chunk, idx: int) -> np.ndarray:
        due_ns = newest.start_ns + idx * newest.dt_ns
        m = self.config.ensemble_coeff
        total = np.zeros(newest.actions.shape[1])
        weight_sum = 0.0
        covering = []
        for c in self._chunks:  # oldest first
            j = int(math.floor((due_ns - c.start_ns) / c.dt_ns + 0.5))
            if 0 <= j < c.actions.shape[0]:
                covering.append(c.actions[j])
        for i, a in enumerate(covering):
            w = math.exp(-m * i)
            total += w * a
            weight_sum += w
        return total / weight_sum

    def _blend(self, newest: _Chunk, idx: int, values: np.ndarray) -> np.ndarray:
        old = self._blend_from
        due_ns = newest.start_ns + idx * newest.dt_ns
        j = int(math.floor((due_ns - old.start_ns) / old.dt_ns + 0.5))
        self._blend_tick += 1
        steps = self.config.blend_steps
        if self._blend_tick >= steps or not 0 <= j < old.actions.shape[0]:
            self._drop_blend_source()
            return values
        alpha = self._blend_tick / steps
        return (1.0 - alpha) * old.actions[j] + alpha * values

    def _drop_blend_source(self) -> None:
        if self._blend_from is not None and self._blend_from in self._chunks:
            self._chunks.remove(self._blend_from)
        self._blend_from = None
