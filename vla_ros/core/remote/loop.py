"""
The robot side of a split policy (ROS-free): :class:`RemotePolicyLoop`.

Everything safety-related stays on the robot -- sync, chunk scheduling, the safety filter,
e-stop, holds, the command check and the controller output; only the policy graph runs on
another host (``vla_inference``). The loop decides as :class:`PolicyLoop` does, except that an
inference is a request: :meth:`RemotePolicyLoop.infer` hands the frame to ``send`` and the chunk
comes back through :meth:`RemotePolicyLoop.on_chunk`, matched by its frame stamp.

The network is never trusted (docs/distributed.md):
- a chunk whose frame is older than ``max_chunk_age_s`` on arrival is dropped (``stale``), as
  is one for an older command (``superseded``), for no request of ours (``unknown``) or of
  another bundle (``rejected``); each is counted;
- no chunk for ``max_chunk_age_s`` while commanded -> hold, as for a stale frame, and past
  ``hold_latch_s`` more the command is stopped: the robot waits for a new command;
- a request unanswered for ``max_chunk_age_s`` is given up (``lost``) and the next frame asks
  again.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence
import dataclasses
from dataclasses import dataclass

import numpy as np
from vla_ros.core.bundle.competence import CommandNotUnderstood
from vla_ros.core.bundle.contract import Bundle
from vla_ros.core.control.adapters import to_command_space
from vla_ros.core.control.config import PolicyConfig
from vla_ros.core.control.loop import PolicyLoop
from vla_ros.core.control.outcomes import InferenceResult
from vla_ros.core.control.scheduler import SchedulerMode
from vla_ros.core.frame import Frame
from vla_ros.core.remote.wire import chunk_age_limit, RemoteConfig
from vla_ros.core.runtime.masking import mask_frame
from vla_ros.core.runtime.policy_runtime import open_language, PolicyOutput, resolve_providers
from vla_ros.errors import ConfigError, InferenceError, InputMismatchError, VlaRosError

MAX_PENDING = 8  # requests remembered for matching chunks (one is in flight at a time)


class RemoteRuntime:
    """
    A bundle that runs on another host, as the robot sees it: the manifest and the command check.

    The competence check (a command outside what the bundle was trained on is refused, so the
    robot holds) needs the bundle's text encoder, opened per new command unless resident;
    there is no policy session.
    """

    def __init__(self, bundle: Bundle, *, providers: Sequence[str] = ('CPUExecutionProvider',),
                 text_encoder_resident: bool = False) -> None:
        self.bundle, self.manifest = bundle, bundle.manifest
        self.text_encoder, self.competence = open_language(
            bundle, resolve_providers(providers), resident=text_encoder_resident)

    def set_command(self, text: str) -> None:
        """Raise :class:`CommandNotUnderstood` when the bundle's competence check refuses."""
        if text and self.competence is not None and self.text_encoder is not None:
            verdict = self.competence.judge(text, self.text_encoder.embed(text))
            if not verdict.understood:
                raise CommandNotUnderstood(verdict.reason)

    def infer(self, frame: Frame) -> PolicyOutput:
        """Refuse: the graph runs on ``vla_inference``."""
        raise InferenceError('this bundle runs on vla_inference (inference: remote)')


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


@dataclass(frozen=True)
class _Request:
    gen: int
    command: str
    frame: Frame   # as sent (masked): its joints turn delta chunks into targets
    sent_ns: int


class RemotePolicyLoop(PolicyLoop):
    """
    :class:`PolicyLoop` whose chunks are computed elsewhere.

    :param send: ``frame -> None`` sends a request (the host encodes and publishes it); may
        raise :class:`VlaRosError`.
    :param remote: chunk age limits and the wire format (``max_chunk_age_s`` 0 resolved here:
        :func:`~vla_ros.core.remote.wire.chunk_age_limit`).
    """

    def __init__(self, runtime: RemoteRuntime, config: PolicyConfig, remote: RemoteConfig,
                 send: Callable[[Frame], None], *, clock: Callable[[], int],
                 mask: Sequence[str] = ()) -> None:
        if config.scheduler.mode is SchedulerMode.SYNC:
            raise ConfigError('scheduler.mode sync blocks the control tick on inference; it '
                              'cannot wait for a remote server (use async)')
        # attribution re-runs the graph: not on the robot (it has none)
        super().__init__(runtime, dataclasses.replace(config, attribution_rate_hz=0.0),
                         mask=mask, clock=clock)
        m = runtime.manifest
        self.remote, self._send = dataclasses.replace(remote, max_chunk_age_s=chunk_age_limit(
            remote.max_chunk_age_s, m.horizon, m.dt, config.scheduler.inference_threshold)), send
        self.remote_counters = RemoteCounters()
        self._pending: OrderedDict[int, _Request] = OrderedDict()
        self._last_chunk_ns: int | None = None

    # -- requests -------------------------------------------------------------------------

    def infer(self, frame: Frame | None = None) -> InferenceResult | None:
        """Send the newest frame (or ``frame``) to the server; the chunk comes to on_chunk."""
        with self._lock:
            frame = frame or self.latest_frame
            gen, command = self.command_gen, self.command
            if frame is None:
                self.inflight = False
                return None
        sent = mask_frame(dataclasses.replace(frame, command=command), self.mask)
        missing = [k for k in self.runtime.manifest.required_modalities
                   if not (bool(sent.command) if k == 'language' else sent.present.get(k))]
        if missing:  # what the server would refuse: a frame problem here, as in local mode
            why = f'frame unusable: required modalities {missing} are absent'
            with self._lock:
                self.inflight = False
                if frame.stamp_ns == getattr(self.latest_frame, 'stamp_ns', None):
                    self.frame_problem = why
                self.counters.rejected_frames += 1
            raise InputMismatchError(f'{why} in the frame at {frame.stamp_ns} ns')
        with self._lock:
            self._pending[frame.stamp_ns] = _Request(gen, command, sent, self._clock())
            while len(self._pending) > MAX_PENDING:
                self._pending.popitem(last=False)
            self.remote_counters.requests += 1
        try:
            self._send(sent)
        except VlaRosError:
            with self._lock:
                self.inflight = False
                self._pending.pop(frame.stamp_ns, None)
            raise
        return None

    def _want_inference_locked(self, now_ns: int) -> bool:
        limit_ns = self.remote.max_chunk_age_s * 1e9
        if self.inflight and now_ns - self._last_request_ns > limit_ns:
            self.inflight = False  # the request or its chunk was lost: ask again
            self.remote_counters.lost += 1
        return super()._want_inference_locked(now_ns)

    # -- chunks ---------------------------------------------------------------------------

    def on_chunk(self, frame_stamp_ns: int, actions: np.ndarray, *, kind: str,
                 names: Sequence[str], dt: float, model_id: str,
                 latency_ms: float = 0.0) -> InferenceResult | None:
        """
        Take a chunk [H, A] (the bundle's action space) computed for the frame at the stamp.

        Returns it as it entered the scheduler, or None when dropped (counted, see module doc).
        """
        now, m, rc = self._clock(), self.runtime.manifest, self.remote_counters
        with self._lock:
            req = self._pending.pop(frame_stamp_ns, None)
            if req is None:
                rc.unknown += 1
                return None
            if frame_stamp_ns == self.last_inferred_stamp:
                self.inflight = False  # the answer to the newest request
            why = _mismatch(m, actions, kind, names, dt, model_id)
            if why:
                rc.rejected += 1
                self.counters.last_reject = f'remote chunk rejected: {why}'
                return None
            if (now - frame_stamp_ns) * 1e-9 > self.remote.max_chunk_age_s:
                rc.stale += 1
                return None
            if req.gen != self.command_gen:
                rc.superseded += 1
                return None
        try:
            cmd = to_command_space(np.asarray(actions, np.float64), kind, m.action_names,
                                   req.frame.joint_names, req.frame.joint_positions)
        except InputMismatchError as e:
            with self._lock:
                rc.rejected += 1
                self.counters.last_reject = f'remote chunk rejected: {e}'
            return None
        out = PolicyOutput(actions=np.asarray(actions, np.float64), action_names=m.action_names,
                           units=m.action_units, kind=kind, dt=dt, frame_stamp_ns=frame_stamp_ns,
                           timings_ms={'run': latency_ms, 'total': latency_ms})
        res = self._accept(cmd, out, req.frame, req.gen, req.command)
        if res is not None:
            with self._lock:
                self._last_chunk_ns = now
                rc.chunks += 1
                rc.rtt_ms = (now - req.sent_ns) * 1e-6
        return res

    def _link_problem_locked(self, now_ns: int) -> str:
        """No chunk for max_chunk_age_s -> hold; hold_latch_s longer -> stop (new command)."""
        s = self.safety
        if not self.active or not s.command_active:
            return ''
        ref = max(self._last_chunk_ns or 0, s.command_stamp_ns)
        age_s, limit = (now_ns - ref) * 1e-9, self.remote.max_chunk_age_s
        if age_s <= limit:
            return ''
        latch = self.config.hold_latch_s
        if latch > 0 and age_s > limit + latch:
            s.stop(f'no chunk from vla_inference for over {limit + latch:g} s: send a new '
                   'command')
            self.scheduler.reset()
            self.command_gen += 1  # a chunk of the stopped command is not used
            return ''
        return f'no chunk from vla_inference for {age_s * 1e3:.0f} ms > {limit * 1e3:.0f} ms'

    def on_time_jump(self) -> None:
        """Forget requests and the chunk clock too (stamps of the old timeline)."""
        super().on_time_jump()
        with self._lock:
            self._pending.clear()
            self._last_chunk_ns = None
            self.inflight = False


def _mismatch(m, actions: np.ndarray, kind: str, names: Sequence[str], dt: float,
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
