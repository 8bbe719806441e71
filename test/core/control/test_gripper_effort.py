"""
The gripper max-effort action: mapping, safety clip, holds that keep the effort (no ROS).

A bundle may carry ``gripper_max_effort`` [N] after the gripper opening; it is sent to the
effort controller clipped to [0, gripper.max_effort], never on a hold, and a bundle without
it behaves as before.
"""

from __future__ import annotations

import dataclasses

from helpers.runtime_fixtures import full_frame, JOINTS
import numpy as np
import pytest
from vla_ros import constants as C
from vla_ros.core.control.adapters import (ActionMapping, AdapterConfig, make_command,
                                           positions_for, to_command_space)
from vla_ros.core.control.chunk_source import LocalChunkSource
from vla_ros.core.control.config import PolicyConfig
from vla_ros.core.control.loop import PolicyLoop
from vla_ros.core.control.measured_pose import MeasuredPose
from vla_ros.core.control.safety import SafetyConfig, SafetyFilter, SafetyState
from vla_ros.core.control.scheduler import SchedulerConfig
from vla_ros.core.runtime.policy_runtime import PolicyRuntime

E = C.GRIPPER_EFFORT_ACTION
S, MS = 1_000_000_000, 1_000_000
NAMES = ('a', 'b', 'gripper_joint', E)
ADAPTER = AdapterConfig(joints=('a', 'b'), gripper_controller='gripper_controller',
                        effort_controller='gripper_effort_controller', max_effort=15.0)


def test_effort_is_mapped_clipped_and_only_sent_with_a_controller():
    m = ActionMapping(NAMES, ADAPTER)
    assert m.effort_index == 3 and m.sends_effort
    assert ADAPTER.effort_topic == 'gripper_effort_controller/commands'
    cmd = make_command(m, np.array([0.1, 0.2, 0.01, 7.5]), period_s=0.02)
    assert cmd.effort == pytest.approx(7.5) and cmd.gripper == pytest.approx(0.01)
    assert make_command(m, np.array([0, 0, 0, 99.0]), period_s=0.02).effort == 15.0
    assert make_command(m, np.array([0, 0, 0, -3.0]), period_s=0.02).effort == 0.0
    assert make_command(m, np.array([0, 0, 0, np.nan]), period_s=0.02).effort is None
    # controller off: the bundle's value is simply not sent
    off = ActionMapping(NAMES, AdapterConfig(joints=('a', 'b')))
    assert off.effort_index == 3 and not off.sends_effort
    assert make_command(off, np.zeros(4), period_s=0.02).effort is None
    # a bundle without the action: nothing sent, no error, as before
    old = ActionMapping(NAMES[:3], ADAPTER)
    assert old.effort_index is None
    assert make_command(old, np.zeros(3), period_s=0.02).effort is None
    assert ADAPTER.effort_limits(NAMES[:3]) == {}
    assert AdapterConfig(joints=('a',)).effort_topic == ''


def test_safety_filter_clips_the_effort_and_faults_on_nan():
    limits = {'a': {'lower': -1.0, 'upper': 1.0}, **ADAPTER.effort_limits(NAMES)}
    assert limits[E] == {'lower': 0.0, 'upper': 15.0}
    f = SafetyFilter(SafetyConfig.from_named(NAMES, limits, period_s=0.02))
    f.on_command(1)
    cur = np.array([0.0, 0.0, 0.02, 15.0])
    d = f.step(np.array([0.0, 0.0, 0.02, 40.0]), now_ns=2, current=cur, frame_stamp_ns=2)
    assert not d.hold and d.command[3] == 15.0
    d = f.step(np.array([0.0, 0.0, 0.02, -5.0]), now_ns=3, current=cur, frame_stamp_ns=3)
    assert d.command[3] == 0.0            # no rate limit on the effort: at once
    d = f.step(np.array([0.0, 0.0, 0.02, np.nan]), now_ns=4, current=cur, frame_stamp_ns=4)
    assert d.hold and d.state is SafetyState.FAULT


def test_measured_pose_and_frame_positions_carry_the_unmeasured_effort():
    low, high = np.full(4, -np.inf), np.full(4, np.inf)
    pose = MeasuredPose(NAMES, {}, low, high, fixed={E: 15.0})
    assert pose.update(('b', 'a', 'gripper_joint'), np.array([2.0, 1.0, 0.03]))
    np.testing.assert_allclose(pose.value, [1.0, 2.0, 0.03, 15.0])
    assert positions_for(NAMES, ('a', 'b', 'gripper_joint'), np.array([1.0, 2.0, 3.0]),
                         fixed={E: 15.0}).tolist() == [1.0, 2.0, 3.0, 15.0]
    # the effort is absolute even in a delta bundle
    out = to_command_space(np.array([[0.1, 0.1, 5.0]]), 'delta_joint_position',
                           ('a', 'b', E), ('a', 'b'), np.array([1.0, 2.0]), absolute=(E,))
    np.testing.assert_allclose(out, [[1.1, 2.1, 5.0]])


def run_for(loop: PolicyLoop, clock: list[int], seconds: float, *, frames: bool = True):
    """Ticks at 50 Hz (with fresh frames and their chunks); returns the tick outputs."""
    outs = []
    for _ in range(int(round(seconds * 50))):
        clock[0] += 20 * MS
        if frames:
            frame = dataclasses.replace(full_frame(0), stamp_ns=clock[0])
            loop.on_joint_state(frame.joint_names, frame.joint_positions)
            if loop.on_frame(frame):
                loop.infer()
        outs.append(loop.tick(clock[0]))
    return outs


@pytest.fixture(scope='module')
def effort_bundle(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    return make_random_bundle(tmp_path_factory.mktemp('effort') / 'b', extra_actions=(E,))


def test_loop_sends_the_clipped_effort_and_a_hold_keeps_it(effort_bundle):
    rt = PolicyRuntime.from_bundle(effort_bundle)
    assert rt.manifest.action_names == (*JOINTS, E)
    assert rt.manifest.action_units[-2:] == ('m', 'N')
    config = PolicyConfig(
        bundle=str(effort_bundle), control_rate_hz=50.0,
        scheduler=SchedulerConfig(smoothing='none'),
        adapter=AdapterConfig(joints=C.DEFAULT_ARM_JOINTS, gripper_controller='g',
                              effort_controller='e', max_effort=4.0),
        hold_latch_s=0.5, max_command_rate_hz=0.0)
    clock = [10 * S]
    loop = PolicyLoop(LocalChunkSource(rt), config, clock=lambda: clock[0])
    loop.activate()
    loop.on_command('pick up the red cube', clock[0])
    outs = run_for(loop, clock, 0.5)
    sent = [o.command.effort for o in outs if o.command is not None and not o.command.hold]
    assert sent and all(e is not None and 0.0 <= e <= 4.0 for e in sent)
    # random weights around 10 +- 5 N: most of it lands on the 4 N limit
    assert max(sent) == 4.0
    loop.on_command('stop', clock[0])
    held = run_for(loop, clock, 0.1, frames=False)
    # the hold latches the measured joints (the effort slot does not break the pose) and sends
    # no effort: the controller keeps the last one
    assert all(o.command is not None and o.command.hold for o in held)
    assert all(o.command.effort is None for o in held)
    assert held[-1].command.gripper is not None
