"""
The robot side of a split policy (ROS-free): :class:`RemoteChunkSource`.

Everything safety-related stays on the robot -- sync, chunk scheduling, the safety filter,
e-stop, holds, the command check and the controller output, all in
:class:`~vla_ros.core.control.loop.PolicyLoop`; only the policy graph runs on another host
(``vla_inference``). This source sends each request (``send``) and matches the chunks that come
back (:meth:`RemoteChunkSource.on_chunk`) to them by frame stamp; the loop decides what they
are worth (docs/distributed.md). A chunk for no request of ours (``unknown``) or of another
bundle (``rejected``) is dropped here; each drop is counted in :class:`RemoteCounters`.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
import dataclasses
from dataclasses import dataclass
import threading

import numpy as np
from vla_ros.core.bundle.competence import CommandNotUnderstood
from vla_ros.core.bundle.contract import Bundle, Manifest
from vla_ros.core.control.chunk_source import ChunkDrop, ChunkRequest, ChunkSource, Deliver
from vla_ros.core.control.outcomes import InferenceResult
from vla_ros.core.frame import Frame
from vla_ros.core.remote.wire import chunk_age_limit, RemoteConfig
from vla_ros.core.runtime.policy_runtime import open_language, PolicyOutput, resolve_providers
from vla_ros.core.runtime.prefix import ActionPrefix
from vla_ros.errors import InputMismatchError, VlaRosError

MAX_PENDING = 8  # requests remembered for matching chunks (one is in flight at a time)
SERVER = 'vla_inference'  # who computes the chunks (named in hold reasons)


@dataclass
class RemoteCounters:
    """Requests and chunks of the split (reported on /diagnostics)."""

    requests: int = 0
    chunks: int = 0
    stale: int = 0        # frame older than max_chunk_age_s on arrival
    superseded: int = 0   # computed for an older command
    unknown: int = 0      # no request of ours has this frame stamp
    rejected: int = 0     # another bundle, or a chunk that does not fit ours
    lost: int = 0         # requests unanswered for max_chunk_age_s
    rtt_ms: float = 0.0   # request sent -> chunk in (last)


class RemoteChunkSource(ChunkSource):
    """
    Chunks computed by ``vla_inference`` for one bundle.

    The competence check (a command outside what the bundle was trained on is refused, so the
    robot holds) needs the bundle's text encoder, opened per new command unless resident; there
    is no policy session here.

    :param send: ``(frame, prefix) -> None`` sends a request (the host encodes and publishes
        it); ``prefix`` is the request's :class:`ActionPrefix` (None: the bundle takes none, or
        nothing is committed yet). May raise :class:`VlaRosError`.
    :param remote: chunk age limits and the wire format (``max_chunk_age_s`` 0 resolved here
        with ``inference_threshold``: :func:`~vla_ros.core.remote.wire.chunk_age_limit`).
    :param clock: ``() -> ns`` on the host's clock (round-trip times).
    """

    name = SERVER

    def __init__(self, bundle: Bundle, remote: RemoteConfig,
                 send: Callable[[Frame, ActionPrefix | None], None], *,
                 clock: Callable[[], int], inference_threshold: int,
                 providers: Sequence[str] = ('CPUExecutionProvider',),
                 text_encoder_resident: bool = False) -> None:
        m = self.manifest = bundle.manifest
        self.bundle = bundle
        self.text_encoder, self.competence = open_language(
            bundle, resolve_providers(providers), resident=text_encoder_resident)
        self.remote = dataclasses.replace(remote, max_chunk_age_s=chunk_age_limit(
            remote.max_chunk_age_s, m.horizon, m.dt, inference_threshold))
        self.max_chunk_age_s = self.remote.max_chunk_age_s
        self.counters = RemoteCounters()
        self._send, self._clock = send, clock
        self._deliver: Deliver | None = None
        self._pending: OrderedDict[int, ChunkRequest] = OrderedDict()
        self._lock = threading.Lock()  # never held while calling the loop

    def set_command(self, text: str) -> None:
        """Raise :class:`CommandNotUnderstood` when the bundle's competence check refuses."""
        if text and self.competence is not None and self.text_encoder is not None:
            verdict = self.competence.judge(text, self.text_encoder.embed(text))
            if not verdict.understood:
                raise CommandNotUnderstood(verdict.reason)

    def attach(self, deliver: Deliver) -> None:
        self._deliver = deliver

    # -- requests -------------------------------------------------------------------------

    def request(self, req: ChunkRequest) -> None:
        """Send ``req.frame`` and its prefix to the server; the chunk comes to :meth:`on_chunk`."""
        sent = req.frame
        missing = [k for k in self.manifest.required_modalities
                   if not (bool(sent.command) if k == 'language' else sent.present.get(k))]
        if missing:  # what the server would refuse: a frame problem here, as in local mode
            raise InputMismatchError(f'required modalities {missing} are absent in the frame '
                                     f'at {sent.stamp_ns} ns')
        with self._lock:
            self._pending[sent.stamp_ns] = req
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)
            self.counters.requests += 1
        try:
            self._send(sent, req.prefix)
        except VlaRosError:
            with self._lock:
                self._pending.pop(sent.stamp_ns, None)
            raise
        return None

    def on_request_lost(self) -> None:
        with self._lock:
            self.counters.lost += 1

    def on_time_jump(self) -> None:
        """Forget requests (stamps of the old timeline)."""
        with self._lock:
            self._pending.clear()

    # -- chunks ---------------------------------------------------------------------------

    def on_chunk(self, frame_stamp_ns: int, actions: np.ndarray, *, kind: str,
                 names: Sequence[str], dt: float, model_id: str,
                 latency_ms: float = 0.0) -> InferenceResult | None:
        """
        Take a chunk [H, A] (the bundle's action space) computed for the frame at the stamp.

        Returns it as it entered the loop's scheduler, or None when dropped (counted).
        """
        m, rc = self.manifest, self.counters
        with self._lock:
            req = self._pending.pop(frame_stamp_ns, None)
            if req is None:
                rc.unknown += 1
                return None
        why = _mismatch(m, actions, kind, names, dt, model_id)
        out = None if why else PolicyOutput(
            actions=np.asarray(actions, np.float64), action_names=m.action_names,
            units=m.action_units, kind=kind, dt=dt, frame_stamp_ns=frame_stamp_ns,
            timings_ms={'run': latency_ms, 'total': latency_ms})
        res = ChunkDrop.INACTIVE if self._deliver is None else self._deliver(req, out, why)
        now = self._clock()
        with self._lock:
            if isinstance(res, InferenceResult):
                rc.chunks += 1
                rc.rtt_ms = (now - req.sent_ns) * 1e-6
                return res
            if res is not ChunkDrop.INACTIVE:
                setattr(rc, res.value, getattr(rc, res.value) + 1)
        return None

    def reject(self) -> None:
        """Count a chunk message that could not be read at all (bad shape)."""
        with self._lock:
            self.counters.rejected += 1


def _mismatch(m: Manifest, actions: np.ndarray, kind: str, names: Sequence[str], dt: float,
              model_id: str) -> str:
    """Say why a chunk does not fit the robot's bundle ('' = it fits)."""
    if model_id != m.model_id:
        return f'model_id {model_id!r}, the robot runs {m.model_id!r}'
    if tuple(names) != tuple(m.action_names) or kind != m.action_kind:
        return f'actions {list(names)} ({kind}), the bundle has {list(m.action_names)}'
    shape = np.shape(actions)
    if shape != (m.horizon, len(m.action_names)) or abs(dt - m.dt) > 1e-9:
        return f'shape {list(shape)} dt {dt}, the bundle has [{m.horizon}, ' \
               f'{len(m.action_names)}] dt {m.dt}'
    if not np.all(np.isfinite(actions)):
        return 'non-finite values'
    return ''
