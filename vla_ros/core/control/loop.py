"""
The decisions of ``vla_policy`` in one ROS-free object: :class:`PolicyLoop`.

It owns the chunk scheduler, the safety filter, the controller mapping, the modality mask,
the language command and its generation, holds and clock jumps; chunks come from a
:class:`~vla_ros.core.control.chunk_source.ChunkSource` (the bundle run here, or a remote
server). A host (the node, the offline rollout, a test) feeds it events and calls
:meth:`PolicyLoop.infer` and :meth:`PolicyLoop.tick`; the host owns threads, timing and
messages (ros2_control's controller shape: the controller keeps its state, the manager owns
the clock). :func:`vla_ros.core.policy.build_policy` builds it for a bundle.

How chunks are asked for and taken in is its base class's,
:class:`~vla_ros.core.control.intake.ChunkIntake`. Chunks that come later (remote) are never
trusted (docs/distributed.md): what was asked, what is stale, lost or missing too long is
:class:`~vla_ros.core.control.requests.RequestBook`'s.

Thread safety: every method may be called from any thread; one internal lock guards the
state and is never held while the policy runs (:meth:`infer` computes outside it); a
source's own lock is never held while it calls :meth:`on_chunk`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import threading

import numpy as np
from vla_ros.core.control.actuation import Actuation
from vla_ros.core.control.adapters import ControllerCommand
from vla_ros.core.control.boundary_steps import BoundaryMeter
from vla_ros.core.control.chunk_source import ChunkSource
from vla_ros.core.control.command_gate import CommandGate
from vla_ros.core.control.config import CommandAction, PolicyConfig
from vla_ros.core.control.counters import PolicyCounters
from vla_ros.core.control.intake import ChunkIntake
from vla_ros.core.control.latency import LeadEstimator
from vla_ros.core.control.outcomes import CommandOutcome, TickOutput
from vla_ros.core.control.prefix import PrefixPlanner
from vla_ros.core.control.requests import RequestBook
from vla_ros.core.control.safety import SafetyConfig, SafetyFilter, SafetyState
from vla_ros.core.control.scheduler import ChunkScheduler, SchedulerMode
from vla_ros.core.frame import Frame
from vla_ros.core.language.intent import IntentIdentifier
from vla_ros.core.runtime.attribution import LiveAttribution
from vla_ros.errors import ConfigError


class PolicyLoop(ChunkIntake):
    """
    Runs one bundle under one :class:`PolicyConfig`.

    :param source: where chunks come from (the bundle run here, or a remote server).
    :param config: the node settings (limits, scheduler, adapter, timeouts).
    :param mask: modalities the policy sees as absent (``mask_modalities``).
    :param clock: ``() -> ns`` on the host's clock (the clock the frames are stamped on: ROS
        time, sim time); stamps chunk arrival after inference. Required (no uptime default).
    :param attribution: per-modality weights computed after a chunk entered (local only).
    :param intent: identifies the task of a run command (``command_tasks``; None: off).
    """

    def __init__(self, source: ChunkSource, config: PolicyConfig, *,
                 clock: Callable[[], int], mask: Sequence[str] = (),
                 attribution: LiveAttribution | None = None,
                 intent: IntentIdentifier | None = None) -> None:
        m = source.manifest
        if source.max_chunk_age_s is not None and config.scheduler.mode is SchedulerMode.SYNC:
            raise ConfigError('scheduler.mode sync blocks the control tick on inference; it '
                              'cannot wait for a remote server (use async)')
        self.source, self.manifest = source, m
        self.config, self.mask, self._clock = config, tuple(mask), clock
        self.period_s = config.period_s(m.dt)
        mode = config.adapter.control_mode(m.action_kind)
        limits = {**config.joint_limits, **config.adapter.effort_limits(m.action_names)}
        self.safety = SafetyFilter(SafetyConfig.from_named(
            m.action_names, limits, mode=mode, period_s=self.period_s,
            max_frame_age_s=config.max_frame_age_s, max_motion_time_s=config.max_motion_time_s,
            hold_latch_s=config.hold_latch_s))
        self.scheduler = ChunkScheduler(config.scheduler)
        self.actuation = Actuation(m.action_names, config, mode=mode, period_s=self.period_s,
                                   bounds=self.safety.plausible_bounds())
        self.boundary_steps = BoundaryMeter(self.period_s)  # jerk at chunk boundaries
        self.counters = PolicyCounters(boundary_steps=self.boundary_steps)
        self.lead = LeadEstimator()  # frame stamp -> chunk arrival [ns], measured
        self.prefix = PrefixPlanner.for_bundle(m, self.scheduler, self.lead)  # action_prefix
        self.requests = RequestBook(source, config.scheduler, self.scheduler, self.lead,
                                    hold_latch_s=config.hold_latch_s)
        self._lock = threading.Lock()
        self.attribution = attribution
        self.gate = CommandGate(source, max_chars=config.max_command_chars,
                                max_rate_hz=config.max_command_rate_hz,
                                language_masked='language' in self.mask, intent=intent,
                                canonical=config.command_instruction == 'canonical')
        self.active = False
        self._reset_state()
        source.attach(self.on_chunk)

    def _reset_state(self) -> None:
        self.latest_frame: Frame | None = None
        self.frame_problem = ''
        self.command = ''
        self.command_gen = 0
        self.reject_reason = ''
        self.moved = False
        self.requests.reset()
        self.state, self.reason = SafetyState.IDLE, 'not active'
        self._last_status_key: tuple | None = None

    # -- lifecycle ------------------------------------------------------------------------

    def activate(self) -> None:
        with self._lock:
            self.active = True
            self.scheduler.reset()

    def deactivate(self, now_ns: int) -> ControllerCommand | None:
        """Stop; returns the hold to send when the robot had moved."""
        with self._lock:
            self.active = False
            self.safety.stop('deactivated')
            self.scheduler.reset()
            self.state, self.reason = self.safety.check(now_ns, None)
            return self._hold_locked(now_ns) if self.moved else None

    # -- events ---------------------------------------------------------------------------

    def on_frame(self, frame: Frame) -> bool:
        """Keep the newest frame; True when a chunk is wanted now (wake the inference)."""
        with self._lock:
            self.latest_frame = frame
            self.frame_problem = ''
            self.counters.frames.tick()
            return self._want_inference_locked(frame.stamp_ns)

    def on_joint_state(self, names: Sequence[str], positions: np.ndarray) -> None:
        """Keep the newest measured joints (``/joint_states``): what a position hold latches."""
        if not self.actuation.pose.update(names, positions):
            self.counters.rejected_messages += 1
            self.counters.last_reject = 'joints: measured position far outside the limits'

    @property
    def measured(self) -> np.ndarray | None:
        """Return the newest plausible measured positions [A] in action order, or None."""
        return self.actuation.pose.value

    def on_reject(self, key: str, reason: str) -> None:
        """
        Count a rejected message; a frame that could not be built holds.

        A frame failure (``key`` ``'frame'``) holds until the next good frame.
        """
        with self._lock:
            if key == 'frame':
                self.frame_problem = f'no frame: {reason}'
                self.counters.rejected_frames += 1
            else:
                self.counters.rejected_messages += 1
            self.counters.last_reject = reason

    def on_time_jump(self) -> None:
        """
        Forget old holds and frames: sensor time went back (sim reset).

        The arm may have been moved, so an old hold and old frames are forgotten; the next hold
        latches where the arm is now.
        """
        with self._lock:
            self.safety.on_time_jump()
            self.scheduler.reset()
            self.lead.reset()
            self.requests.on_time_jump()
            self.latest_frame = None
            self.actuation.pose.clear()
            self.source.on_time_jump()

    def on_command(self, text: str, now_ns: int, *,
                   wall_s: float | None = None) -> CommandOutcome:
        """
        Handle a language command: run (embedding computed once), stop, or reject with a reason.

        Run commands faster than ``max_command_rate_hz`` are ignored (stop never is).
        """
        out = self.gate.judge(text, wall_s)  # not under the lock: a command never waits
        if out.ignored:
            with self._lock:
                self.counters.rejected_commands += 1
                self.counters.last_reject = f'command over max_command_rate_hz: {out.shown!r}'
            return out
        action, detail = out.action, out.detail
        with self._lock:
            self.command_gen += 1
            self.scheduler.reset()
            if action is CommandAction.RUN:
                self.command, self.reject_reason = detail, ''
                self.boundary_steps.reset()
                self.safety.on_command(now_ns)
            else:
                self.command = ''
                self.reject_reason = detail if action is CommandAction.REJECT else ''
                self.safety.stop(detail if action is CommandAction.REJECT else
                                 f'stopped by command {out.shown!r}')
                self.state, self.reason = self.safety.check(now_ns, None)
                self.reason = self.reject_reason or self.reason
        return out

    def on_estop(self, engaged: bool, now_ns: int) -> ControllerCommand | None:
        """E-stop: latch and return the hold to send; release: motion needs a new command."""
        with self._lock:
            if not engaged:
                self.safety.clear_estop()
                return None
            self.safety.estop()
            self.scheduler.reset()
            self.command_gen += 1
            self.state, self.reason = self.safety.check(now_ns, None)
            return self._hold_locked(now_ns)

    def on_clock_stall(self, still_s: float, now_ns: int) -> ControllerCommand | None:
        """
        Stop: the host's clock (sim time) stood still for ``still_s`` wall seconds.

        A new command is needed; return the hold to send when the arm had moved.
        """
        reason = (f'ROS clock stalled for {still_s:.1f} s (use_sim_time: is the simulator '
                  'running?): send a new command')
        with self._lock:
            if not self.active:
                return None
            hold = None
            if self.safety.command_active:
                self.command_gen += 1  # a chunk computed before the stall is not used
                self.safety.stop(reason)
                self.scheduler.reset()
                if self.moved:
                    hold = self._hold_locked(now_ns)
            self.state, self.reason = self.safety.check(now_ns, None)
            if self.state is SafetyState.IDLE:
                self.reason = reason
            return hold

    # -- control --------------------------------------------------------------------------

    def tick(self, now_ns: int) -> TickOutput:
        """
        Run one control tick at ``now_ns``: the next action through the safety filter, or the hold.

        In ``scheduler.mode: sync`` the inference runs here first when needed.
        """
        if self.config.scheduler.mode is SchedulerMode.SYNC:
            self._sync_inference(now_ns)
        with self._lock:
            if not self.active:
                return TickOutput(None, self.state, self.reason, False)
            self.counters.control.tick()
            frame = self.latest_frame
            problem = self.frame_problem or self._link_problem_locked(now_ns)
            sched = self.scheduler.next_action(now_ns) if self.safety.command_active else None
            decision = self.safety.step(
                None if sched is None else sched.values, now_ns=now_ns,
                current=self._current_locked(),
                frame_stamp_ns=None if frame is None else frame.stamp_ns, frame_problem=problem)
            command = None
            if not decision.hold:
                self.moved = True
                command = self._command_locked(decision.command, now_ns, hold=False)
            elif self.moved and decision.command is not None:
                self.counters.holds += 1
                command = self._command_locked(decision.command, now_ns, hold=True)
            served = None if decision.hold else sched
            self.boundary_steps.add(None if served is None else served.values,
                                    None if command is None else decision.command,
                                    None if served is None else served.seq)
            if decision.state in (SafetyState.FAULT, SafetyState.ESTOPPED, SafetyState.IDLE):
                self.scheduler.reset()
            self.state, self.reason = decision.state, self.reject_reason or decision.reason
            key = (self.state, self.reason.split(':')[0], self.command)
            changed, self._last_status_key = key != self._last_status_key, key
            return TickOutput(command, self.state, self.reason, changed)

    def _link_problem_locked(self, now_ns: int) -> str:
        """
        Say why chunks that come later cannot be trusted now ('' = they can, or come at once).

        No chunk for max_chunk_age_s -> hold; hold_latch_s longer -> stop (new command).
        """
        s = self.safety
        if not self.active or not s.command_active:
            return ''
        problem, stop = self.requests.link_problem(now_ns, s.command_stamp_ns)
        if stop:
            s.stop(problem)
            self.scheduler.reset()
            self.command_gen += 1  # a chunk of the stopped command is not used
            return ''
        return problem

    def _current_locked(self) -> np.ndarray | None:
        return self.actuation.current(self.latest_frame, self.safety.plausible)

    def _command_locked(self, values: np.ndarray, now_ns: int, *,
                        hold: bool) -> ControllerCommand:
        dt, future = self.manifest.dt, None
        if not hold and self.actuation.sends_chunk:
            ahead = self.scheduler.upcoming()
            future = self.safety.limit_future(ahead, dt) if len(ahead) else None
        return self.actuation.command(values, hold=hold, dt_s=dt, future=future)

    def _hold_locked(self, now_ns: int) -> ControllerCommand | None:
        d = self.safety.step(None, now_ns=now_ns, current=self._current_locked(),
                             frame_stamp_ns=None)
        return None if d.command is None else self._command_locked(d.command, now_ns,
                                                                   hold=True)

    # -- reporting ------------------------------------------------------------------------

    def snapshot(self) -> tuple[SafetyState, str, str]:
        """(state, reason, command) now, consistent with each other."""
        with self._lock:
            self._last_status_key = (self.state, self.reason.split(':')[0], self.command)
            return self.state, self.reason, self.command
