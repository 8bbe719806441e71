"""
PolicyLoop without ROS and without threads, driven with a fake clock and a real ONNX bundle.

Commands, holds, e-stop, data-loss latch, clock stall and jump, faults, rejected input, masking
and the command rate limit; the bundle is tiny, with random weights.
"""

from __future__ import annotations

import dataclasses

from helpers.runtime_fixtures import full_frame, JOINTS
import numpy as np
import pytest
from vla_ros import constants as C
from vla_ros.core.control.adapters import AdapterConfig
from vla_ros.core.control.chunk_source import LocalChunkSource
from vla_ros.core.control.config import CommandAction, PolicyConfig
from vla_ros.core.control.loop import PolicyLoop
from vla_ros.core.control.safety import SafetyState
from vla_ros.core.control.scheduler import SchedulerConfig
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.errors import InferenceError, InputMismatchError

MS = 1_000_000
S = 1_000_000_000
RUNNING, HOLDING, IDLE, ESTOPPED, FAULT = (SafetyState.RUNNING, SafetyState.HOLDING,
                                           SafetyState.IDLE, SafetyState.ESTOPPED,
                                           SafetyState.FAULT)


@pytest.fixture(scope='module')
def bundles(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    tmp = tmp_path_factory.mktemp('loop')
    return {'ok': make_random_bundle(tmp / 'ok'),
            'nan': make_random_bundle(tmp / 'nan', nan_output=True)}


class Clock:

    def __init__(self) -> None:
        self.t = 10 * S

    def __call__(self) -> int:
        return self.t


def make_loop(bundles, kind='ok', mask=(), **cfg) -> tuple[PolicyLoop, Clock]:
    config = PolicyConfig(
        bundle=str(bundles[kind]), control_rate_hz=50.0,
        scheduler=SchedulerConfig(smoothing='none'),
        adapter=AdapterConfig(joints=C.DEFAULT_ARM_JOINTS,
                              gripper_controller='gripper_controller'),
        **{'hold_latch_s': 0.5, 'max_command_rate_hz': 0.0, **cfg})
    clock = Clock()
    loop = PolicyLoop(LocalChunkSource(PolicyRuntime.from_bundle(bundles[kind])), config,
                      clock=clock, mask=mask)
    loop.activate()
    return loop, clock


def frame_at(t_ns: int, seed: int = 0, **kw):
    return dataclasses.replace(full_frame(seed, **kw), stamp_ns=t_ns)


def feed(loop: PolicyLoop, clock: Clock, *, infer: bool = True) -> None:
    """Feed a fresh frame at the clock's time (and its chunk when one is wanted)."""
    frame = frame_at(clock.t)
    loop.on_joint_state(frame.joint_names, frame.joint_positions)
    if loop.on_frame(frame) and infer:
        loop.infer()


def run_for(loop: PolicyLoop, clock: Clock, seconds: float, *, frames: bool = True):
    """Ticks at 50 Hz with frames at 50 Hz; returns the tick outputs."""
    outs = []
    for _ in range(int(round(seconds * 50))):
        clock.t += 20 * MS
        if frames:
            feed(loop, clock)
        outs.append(loop.tick(clock.t))
    return outs


def test_command_runs_and_stop_holds_where_the_arm_is(bundles):
    loop, clock = make_loop(bundles)
    assert loop.tick(clock.t).state is IDLE and loop.tick(clock.t).command is None
    assert loop.on_command('pick up the red cube', clock.t).action is CommandAction.RUN
    outs = run_for(loop, clock, 0.5)
    assert outs[-1].state is RUNNING and not outs[-1].command.hold
    assert loop.counters.chunks >= 1
    out = loop.on_command('stop', clock.t)
    assert out.action is CommandAction.STOP
    measured = np.array([5.0] * 7)  # the newest joint_states, not the frame's joints
    loop.on_joint_state(JOINTS, measured)
    held = run_for(loop, clock, 0.1, frames=False)
    assert all(o.state is IDLE and o.command.hold for o in held)
    np.testing.assert_allclose(held[-1].command.points[0], 5.0)


def test_estop_latches_until_cleared_and_recommanded(bundles):
    loop, clock = make_loop(bundles)
    loop.on_command('pick up the red cube', clock.t)
    run_for(loop, clock, 0.2)
    hold = loop.on_estop(True, clock.t)
    assert hold is not None and hold.hold
    assert run_for(loop, clock, 0.1)[-1].state is ESTOPPED
    loop.on_estop(False, clock.t)
    assert run_for(loop, clock, 0.1)[-1].state is ESTOPPED  # cleared is not enough
    loop.on_command('pick up the red cube', clock.t)
    assert run_for(loop, clock, 0.3)[-1].state is RUNNING


def test_data_loss_holds_then_needs_a_new_command(bundles):
    loop, clock = make_loop(bundles)
    loop.on_command('pick up the red cube', clock.t)
    run_for(loop, clock, 0.3)
    lost = run_for(loop, clock, 0.3, frames=False)  # 0.2 s frame age -> hold
    assert lost[-1].state is HOLDING and 'stale' in lost[-1].reason
    first_hold = next(i for i, o in enumerate(lost) if o.state is HOLDING)
    assert first_hold * 20 <= 200 + 20  # within max_frame_age_s + one period [ms]
    gone = run_for(loop, clock, 0.6, frames=False)
    assert gone[-1].state is IDLE and 'send a new command' in gone[-1].reason
    back = run_for(loop, clock, 0.3)  # sensors are back: still no motion
    assert all(o.state is IDLE and o.command.hold for o in back)
    loop.on_command('pick up the red cube', clock.t)
    assert run_for(loop, clock, 0.3)[-1].state is RUNNING


def test_rejected_message_counts_a_failed_frame_holds(bundles):
    loop, clock = make_loop(bundles)
    loop.on_command('pick up the red cube', clock.t)
    run_for(loop, clock, 0.3)
    loop.on_reject('image/front', 'image/front: unsupported encoding')
    clock.t += 20 * MS
    assert loop.tick(clock.t).state is RUNNING
    loop.on_reject('frame', 'frame: required modality joints missing')
    clock.t += 20 * MS
    out = loop.tick(clock.t)
    assert out.state is HOLDING and 'joints' in out.reason
    assert loop.counters.rejected_messages == 1 and loop.counters.rejected_frames == 1
    assert run_for(loop, clock, 0.2)[-1].state is RUNNING  # the next good frame clears it


def test_unusable_frame_holds_but_never_faults(bundles):
    loop, clock = make_loop(bundles)
    loop.on_command('pick up the red cube', clock.t)
    clock.t += 20 * MS
    bad = dataclasses.replace(frame_at(clock.t), tactile=np.zeros(5, np.float32))
    assert loop.on_frame(bad)
    with pytest.raises(InputMismatchError):
        loop.infer()
    out = loop.tick(clock.t)
    assert out.state is HOLDING and 'frame unusable' in out.reason
    assert run_for(loop, clock, 0.3)[-1].state is RUNNING


def test_nan_policy_faults_until_a_new_command(bundles):
    loop, clock = make_loop(bundles, 'nan')
    loop.on_command('pick up the red cube', clock.t)
    clock.t += 20 * MS
    assert loop.on_frame(frame_at(clock.t))
    with pytest.raises(InferenceError):
        loop.infer()
    assert loop.tick(clock.t).state is FAULT
    loop.on_command('pick up the red cube', clock.t)
    assert loop.tick(clock.t).state is not FAULT


def test_clock_stall_stops_and_returns_the_hold(bundles):
    loop, clock = make_loop(bundles)
    loop.on_command('pick up the red cube', clock.t)
    run_for(loop, clock, 0.3)
    hold = loop.on_clock_stall(0.6, clock.t)
    assert hold is not None and hold.hold
    assert loop.state is IDLE and 'clock stalled' in loop.reason
    assert run_for(loop, clock, 0.2)[-1].state is IDLE  # the clock runs again: still idle


def test_time_jump_forgets_the_old_timeline(bundles):
    loop, clock = make_loop(bundles)
    loop.on_command('pick up the red cube', clock.t)
    run_for(loop, clock, 0.3)
    loop.on_time_jump()
    clock.t = 1 * S  # the sim restarted its clock
    out = loop.tick(clock.t)
    assert out.state is HOLDING and out.reason == 'no frame yet'
    assert loop.measured is None
    assert run_for(loop, clock, 0.3)[-1].state is RUNNING


def test_rate_limit_ignores_fast_run_commands_never_stop(bundles):
    loop, clock = make_loop(bundles, max_command_rate_hz=2.0)
    assert not loop.on_command('pick up the red cube', clock.t, wall_s=100.0).ignored
    assert loop.on_command('pick up the blue cube', clock.t, wall_s=100.1).ignored
    assert loop.command == 'pick up the red cube'
    assert loop.on_command('stop', clock.t, wall_s=100.2).action is CommandAction.STOP
    assert not loop.on_command('pick up the blue cube', clock.t, wall_s=100.7).ignored
    assert loop.counters.rejected_commands == 1


def test_long_command_rejected_and_shown_truncated(bundles):
    loop, clock = make_loop(bundles)
    out = loop.on_command('x' * 1_000_000, clock.t)
    assert out.action is CommandAction.REJECT and len(out.shown) < 120
    assert loop.state is IDLE and 'max_command_chars' in loop.reason


def test_masked_language_reaches_neither_frame_nor_runtime(bundles):
    loop, clock = make_loop(bundles, mask=('language',))
    loop.on_command('pick up the red cube', clock.t)
    clock.t += 20 * MS
    assert loop.on_frame(frame_at(clock.t, command='pick up the red cube'))
    res = loop.infer()
    assert res is not None and res.frame.command == '' and not res.frame.present['language']
    assert loop.source.runtime._command == ''


class GatedRuntime(PolicyRuntime):
    """The real runtime whose ``infer`` waits for a gate: a chunk held 'in flight'."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        import threading
        self.entered, self.gate = threading.Event(), threading.Event()
        self.gate.set()

    def infer(self, frame):
        self.entered.set()
        assert self.gate.wait(10.0)
        return super().infer(frame)


def test_new_command_resets_the_chunk_even_with_one_in_flight(bundles):
    import threading

    loop, clock = make_loop(bundles)
    rt = GatedRuntime.from_bundle(bundles['ok'])
    loop.source = LocalChunkSource(rt)
    loop.on_command('pick up the red cube', clock.t)
    assert not run_for(loop, clock, 0.3)[-1].command.hold  # moving on the first command
    n = loop.counters.chunks
    # a chunk for the old command is being computed when the new command arrives (the
    # command waits for the runtime, then bumps the generation and resets the scheduler)
    rt.gate.clear()
    clock.t += 20 * MS
    loop.on_frame(frame_at(clock.t))
    results: list = []
    worker = threading.Thread(target=lambda: results.append(loop.infer()))
    worker.start()
    assert rt.entered.wait(10.0)
    commander = threading.Thread(target=loop.on_command, args=('open the drawer', clock.t))
    commander.start()
    rt.gate.set()
    worker.join(10.0)
    commander.join(10.0)
    assert len(results) == 1 and loop.command == 'open the drawer'
    # whichever finished first, nothing of the old command's chunks is commanded: the next
    # tick holds until a chunk for the new command is in
    clock.t += 20 * MS
    out = loop.tick(clock.t)
    assert out.command is not None and out.command.hold
    outs = run_for(loop, clock, 0.2)
    assert loop.counters.chunks > n and not outs[-1].command.hold
    assert outs[-1].state is RUNNING


def test_implausible_joint_state_does_not_move_the_hold(bundles):
    """
    Keep the hold at the last good pose when a joint state lies far outside the limits.

    Such a message is bad input; the hold used to latch there and command the gripper
    outside its range.
    """
    loop, clock = make_loop(bundles, joint_limits={
        C.DEFAULT_GRIPPER_JOINT: {'lower': 0.0, 'upper': 0.04}})
    good = np.full(7, 0.02)
    loop.on_joint_state(JOINTS, good)
    bad = good.copy()
    bad[-1] = 1.304
    loop.on_joint_state(JOINTS, bad)
    assert loop.measured[-1] == pytest.approx(0.02)
    assert loop.counters.rejected_messages == 1
    loop.on_command('pick up the red cube', clock.t)
    run_for(loop, clock, 0.2)
    loop.on_command('stop', clock.t)
    loop.on_joint_state(JOINTS, bad)
    held = run_for(loop, clock, 0.1, frames=False)
    assert all(0.0 <= o.command.gripper <= 0.04 for o in held)


def test_a_command_never_waits_for_a_running_inference(bundles):
    """
    Embed a new command while the policy graph is busy on another thread.

    The inference holds the runtime lock; the command (on the executor thread, beside the
    sensor callbacks) must not wait for it.
    """
    import threading
    import time

    loop, clock = make_loop(bundles)
    busy, release = threading.Event(), threading.Event()

    def inference():
        with loop.source.lock:  # what infer() holds while the graph runs
            busy.set()
            release.wait(2.0)

    worker = threading.Thread(target=inference)
    worker.start()
    assert busy.wait(2.0)
    t0 = time.monotonic()
    out = loop.on_command('pick up the green cube', clock.t)
    waited = time.monotonic() - t0
    release.set()
    worker.join()
    assert out.action is CommandAction.RUN and waited < 0.5, waited
