"""
How :class:`~vla_ros.core.control.loop.PolicyLoop` gets chunks: :class:`ChunkIntake` (ROS-free).

Ask the :class:`~vla_ros.core.control.chunk_source.ChunkSource` for a chunk of the newest frame
(now, or later for a remote source: :meth:`ChunkIntake.on_chunk`), map it to the command space,
and hand it to the scheduler unless the command changed meanwhile; a frame the policy cannot
use holds, a failed local inference faults.
"""

from __future__ import annotations

import dataclasses

import numpy as np
from vla_ros.core.control.adapters import to_command_space
from vla_ros.core.control.chunk_source import ChunkDrop, ChunkRequest
from vla_ros.core.control.outcomes import InferenceResult
from vla_ros.core.control.safety import SafetyState
from vla_ros.core.frame import Frame
from vla_ros.core.runtime.masking import mask_frame
from vla_ros.core.runtime.policy_runtime import PolicyOutput
from vla_ros.errors import InputMismatchError, VlaRosError

REASON_CHARS = 300  # a frame problem or fault reason is cut to this length


class ChunkIntake:
    """
    The inference side of :class:`~vla_ros.core.control.loop.PolicyLoop` (its base class).

    It works on the loop's state under the loop's lock (``_lock``, ``source``, ``mask``,
    ``_clock``, ``prefix``, ``requests``, ``scheduler``, ``safety``, ``lead``, ``counters``,
    ``actuation``, ``attribution``, ``active``, ``latest_frame``, ``frame_problem``,
    ``command``, ``command_gen``, ``state``, ``reason``), all set by ``PolicyLoop``; the policy
    itself runs outside the lock.
    """

    def _want_inference_locked(self, now_ns: int) -> bool:
        self.requests.check_lost(now_ns)  # counted even while inactive
        return self.active and self.requests.want(now_ns, self.latest_frame,
                                                  self._running_locked)

    def _running_locked(self, now_ns: int, frame: Frame) -> bool:
        """Tell whether the safety filter lets the robot run on ``frame`` now."""
        return self.safety.check(now_ns, frame.stamp_ns,
                                 self.frame_problem)[0] is SafetyState.RUNNING

    def infer(self, frame: Frame | None = None) -> InferenceResult | None:
        """
        Ask the source for a chunk of the newest frame (or ``frame``) and schedule it.

        Returns the chunk (for the ``~/action_chunk`` preview), or None when there was no
        frame, the command changed meanwhile or the chunk comes later (:meth:`on_chunk`).
        Raises the source's error after recording it: an :class:`InputMismatchError` (a frame
        the policy cannot use) holds until the next good frame and never faults (sensor input
        alone must not latch one); any other :class:`VlaRosError` of a source that answers at
        once faults until a new command (a remote one is asked again with the next frame).
        """
        waiting = False
        try:
            with self._lock:
                frame = frame or self.latest_frame
                gen, command = self.command_gen, self.command
                prefix = self.prefix.plan(frame) if self.prefix and frame else None
            if frame is None:
                return None
            req = ChunkRequest(mask_frame(dataclasses.replace(frame, command=command),
                                          self.mask), gen, command, self._clock(), prefix)
            chunk = self._request(req)
            if chunk is None:
                waiting = True  # in flight until on_chunk or max_chunk_age_s
                return None
            return self._accept(*chunk, req.frame, gen, command)
        finally:
            if not waiting:
                with self._lock:
                    self.requests.inflight = False

    def _request(self, req: ChunkRequest) -> tuple[np.ndarray, PolicyOutput] | None:
        """(command-space actions [H, A], the source's output), or None: it comes later."""
        frame, gen = req.frame, req.gen
        try:
            out = self.source.request(req)
            if out is None:
                return None
            actions = to_command_space(out.actions, out.kind, out.action_names,
                                       frame.joint_names, frame.joint_positions,
                                       absolute=tuple(self.actuation.unmeasured))
        except InputMismatchError as e:
            with self._lock:
                if frame.stamp_ns == getattr(self.latest_frame, 'stamp_ns', None):
                    self.frame_problem = f'frame unusable: {e}'[:REASON_CHARS]
                self.counters.rejected_frames += 1
            raise
        except VlaRosError as e:
            if self.source.max_chunk_age_s is None:
                with self._lock:
                    if gen == self.command_gen:
                        self.safety.fault(f'inference failed: {e}'[:REASON_CHARS])
                        self.scheduler.reset()
                        self.state, self.reason = self.safety.check(self._clock(), None)
            raise
        return actions, out

    def on_chunk(self, req: ChunkRequest, out: PolicyOutput | None,
                 problem: str = '') -> InferenceResult | ChunkDrop:
        """
        Take a chunk that came later for ``req`` (a remote source), in the bundle's action space.

        ``out`` None with ``problem``: the answer did not fit the bundle. Returns the chunk as it
        entered the scheduler, or why it did not (the source counts it).
        """
        now = self._clock()
        with self._lock:
            drop = self.requests.judge(req, out is not None and not problem, now,
                                       self.command_gen)
            if drop is ChunkDrop.REJECTED:
                self.counters.last_reject = f'remote chunk rejected: {problem}'
            if drop is not None:
                return drop
        try:
            actions = to_command_space(out.actions, out.kind, out.action_names,
                                       req.frame.joint_names, req.frame.joint_positions,
                                       absolute=tuple(self.actuation.unmeasured))
        except InputMismatchError as e:
            with self._lock:
                self.counters.last_reject = f'remote chunk rejected: {e}'
            return ChunkDrop.REJECTED
        res = self._accept(actions, out, req.frame, req.gen, req.command)
        return ChunkDrop.INACTIVE if res is None else res

    def _accept(self, actions: np.ndarray, out: PolicyOutput, frame: Frame, gen: int,
                command: str) -> InferenceResult | None:
        """Hand a command-space chunk [H, A] to the scheduler; None when the command changed."""
        now = self._clock()
        with self._lock:
            if gen != self.command_gen or not self.active:
                return None  # the command changed while this chunk was computed
            self.lead.add(out.frame_stamp_ns, now)
            self.scheduler.add_chunk(actions, out.frame_stamp_ns, out.dt, now_ns=now)
            self.requests.last_chunk_ns = now
            self.counters.chunk_entered((now - out.frame_stamp_ns) * 1e-6,
                                        out.timings_ms.get('run', 0.0))
        weights = None if self.attribution is None else self.attribution.maybe(  # after the
            frame, now, out.timings_ms.get('run', 0.0))  # chunk entered: it never waits
        return InferenceResult(actions, out, frame, command, weights)

    def _sync_inference(self, now_ns: int) -> None:
        """Debug mode: infer inside the tick when the chunk is used up (blocks the tick)."""
        with self._lock:
            want = self.active and self.requests.want_sync(now_ns, self.latest_frame,
                                                           self._running_locked)
        if want:
            try:
                self.infer()
            except VlaRosError:
                pass  # recorded as a frame problem or a fault; the tick below holds
