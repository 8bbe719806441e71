"""
What :class:`~vla_ros.core.control.loop.PolicyLoop` asked its chunk source for (ROS-free).

:class:`RequestBook` keeps the request bookkeeping: whether a request is in flight, the newest
frame asked about, when the last request went out and the last chunk came in; it decides
whether a new frame starts a request (the scheduler's threshold, or every frame with
``trigger: frame`` under ``max_inference_rate_hz``), counts a request unanswered for
``max_chunk_age_s`` as lost (it is asked again), and says how long chunks that come later
have been missing (the link hold of docs/distributed.md). Called under the loop's lock.
"""

from __future__ import annotations

from collections.abc import Callable

from vla_ros.core.control.chunk_source import ChunkDrop, ChunkRequest, ChunkSource
from vla_ros.core.control.latency import LeadEstimator
from vla_ros.core.control.scheduler import (ChunkScheduler, InferenceTrigger, SchedulerConfig,
                                            SchedulerMode)
from vla_ros.core.frame import Frame

# (now [ns], frame) -> whether the safety filter lets the robot run on that frame now
Running = Callable[[int, Frame], bool]


class RequestBook:
    """
    The loop's requests to one :class:`ChunkSource`; no lock of its own.

    :param source: the chunk source (``max_chunk_age_s`` None: it answers at once).
    :param config: the scheduler settings (trigger, rate cap).
    :param scheduler: the loop's scheduler (how many actions remain).
    :param lead: the measured frame-stamp -> chunk-arrival latency.
    :param hold_latch_s: how long a link hold lasts before the command is stopped [s].
    """

    def __init__(self, source: ChunkSource, config: SchedulerConfig,
                 scheduler: ChunkScheduler, lead: LeadEstimator, *,
                 hold_latch_s: float) -> None:
        self.source, self.config, self.scheduler, self.lead = source, config, scheduler, lead
        self.hold_latch_s = hold_latch_s
        self.reset()

    def reset(self) -> None:
        """Forget everything (a fresh loop)."""
        self.inflight = False
        self.last_stamp = -1                 # frame stamp of the newest request [ns]
        self.last_request_ns = -(1 << 62)    # when the newest request went out [ns]
        self.last_chunk_ns: int | None = None  # when the last chunk entered [ns]

    def on_time_jump(self) -> None:
        """Sensor time went back: stamps of the old timeline (and their requests) are gone."""
        self.last_stamp = -1
        self.last_chunk_ns = None
        if self.source.max_chunk_age_s is not None:
            self.inflight = False  # requests of the old timeline are forgotten

    def check_lost(self, now_ns: int) -> None:
        """Count the request in flight as lost when unanswered for ``max_chunk_age_s``."""
        limit = self.source.max_chunk_age_s
        if (limit is not None and self.inflight
                and now_ns - self.last_request_ns > limit * 1e9):
            self.inflight = False  # the request or its chunk was lost: ask again
            self.source.on_request_lost()

    def want(self, now_ns: int, frame: Frame | None, running: Running) -> bool:
        """
        Tell whether ``frame`` (the newest) starts a request now (async mode); if so it is out.

        None while one is in flight (:meth:`check_lost` first), for a frame already asked
        about, or while the robot may not run on it.
        """
        if (self.inflight or frame is None or frame.stamp_ns <= self.last_stamp
                or self.config.mode is SchedulerMode.SYNC
                or not running(now_ns, frame) or not self.triggered(now_ns)):
            return False
        self.start(frame.stamp_ns, now_ns)
        return True

    def want_sync(self, now_ns: int, frame: Frame | None, running: Running) -> bool:
        """Sync (debug) mode: tell whether the tick infers now (the chunk is used up)."""
        if (frame is None or self.inflight or not self.scheduler.needs_inference(now_ns)
                or not running(now_ns, frame)):
            return False
        self.inflight = True
        return True

    def triggered(self, now_ns: int) -> bool:
        """Tell whether a new frame should start an inference (trigger + rate cap)."""
        if self.scheduler.needs_inference(now_ns, lead_ns=self.lead.lead_ns):
            return True
        trigger = self.config.trigger
        if trigger is InferenceTrigger.THRESHOLD or (
                trigger is InferenceTrigger.AUTO
                and not self.scheduler.frame_trigger_pays(self.lead.lead_ns)):
            return False
        rate = self.config.max_inference_rate_hz
        return rate <= 0 or now_ns - self.last_request_ns >= 1e9 / rate

    def start(self, stamp_ns: int, now_ns: int) -> None:
        """Record that a request for the frame at ``stamp_ns`` goes out now."""
        self.inflight = True
        self.last_stamp = stamp_ns
        self.last_request_ns = now_ns

    def answered(self, stamp_ns: int) -> None:
        """Record a chunk for the frame at ``stamp_ns`` (the newest request's: none in flight)."""
        if stamp_ns == self.last_stamp:
            self.inflight = False

    def judge(self, req: ChunkRequest, fits: bool, now_ns: int,
              command_gen: int) -> ChunkDrop | None:
        """
        Return why a chunk that came later for ``req`` is dropped (None: it may enter).

        ``fits``: it fits the bundle. It answers the newest request (none in flight then).
        """
        self.answered(req.frame.stamp_ns)
        if not fits:
            return ChunkDrop.REJECTED
        if (now_ns - req.frame.stamp_ns) * 1e-9 > (self.source.max_chunk_age_s or 0.0):
            return ChunkDrop.STALE
        if req.gen != command_gen:
            return ChunkDrop.SUPERSEDED
        return None

    def chunk_age_s(self, now_ns: int, command_stamp_ns: int) -> float:
        """Seconds since the last chunk entered (or since the command, when later) [s]."""
        return (now_ns - max(self.last_chunk_ns or 0, command_stamp_ns)) * 1e-9

    def link_problem(self, now_ns: int, command_stamp_ns: int) -> tuple[str, bool]:
        """
        Return (why chunks that come later cannot be trusted now, stop the command).

        ('', False): they can, or the source answers at once. No chunk for
        ``max_chunk_age_s`` -> a hold reason; ``hold_latch_s`` longer -> the stop reason, True.
        """
        limit = self.source.max_chunk_age_s
        if limit is None:
            return '', False
        age_s = self.chunk_age_s(now_ns, command_stamp_ns)
        if age_s <= limit:
            return '', False
        latch, who = self.hold_latch_s, self.source.name
        if latch > 0 and age_s > limit + latch:
            return f'no chunk from {who} for over {limit + latch:g} s: send a new command', True
        return f'no chunk from {who} for {age_s * 1e3:.0f} ms > {limit * 1e3:.0f} ms', False
