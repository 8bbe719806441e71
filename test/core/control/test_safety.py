"""SafetyFilter: limits, rate limits, NaN fault, stale frames, e-stop latch, hold per mode."""

import math

import numpy as np
import pytest
from vla_ros.core.control.safety import (ControlMode, limit_step, SafetyConfig, SafetyFilter,
                                         SafetyState)
from vla_ros.errors import ConfigError

P = 0.02
P_NS = 20_000_000
NAMES = ('a', 'b')


def make(**kw):
    cfg = {'names': NAMES, 'period_s': P, 'max_frame_age_s': 0.1}
    cfg.update(kw)
    f = SafetyFilter(SafetyConfig(**cfg))
    f.on_command(0)
    return f


def step(f, action, t_ns=P_NS, current=(0.0, 0.0), frame_ns=None, problem=''):
    return f.step(None if action is None else np.asarray(action, float), now_ns=t_ns,
                  current=None if current is None else np.asarray(current, float),
                  frame_stamp_ns=t_ns if frame_ns is None else frame_ns,
                  frame_problem=problem)


def test_position_limits_clip():
    f = make(lower=(-1, -1), upper=(1, 0.5))
    d = step(f, [5.0, -5.0])
    assert d.state is SafetyState.RUNNING and not d.hold
    np.testing.assert_allclose(d.command, [1.0, -1.0])


def test_velocity_limit_between_consecutive_commands():
    f = make(max_velocity=(1.0, 2.0))
    cmds = [step(f, [10.0, 10.0], t_ns=k * P_NS).command for k in range(1, 6)]
    steps = np.diff(np.vstack([[0.0, 0.0], *cmds]), axis=0)
    assert np.all(np.abs(steps[:, 0]) <= 1.0 * P + 1e-12)
    assert np.all(np.abs(steps[:, 1]) <= 2.0 * P + 1e-12)
    assert steps[-1, 0] == pytest.approx(1.0 * P)


def test_acceleration_limit_ramps_velocity_and_stops_without_overshoot():
    f = make(max_velocity=(1.0, 1.0), max_acceleration=(10.0, 10.0))
    pos = [np.zeros(2)]
    for k in range(1, 200):
        pos.append(step(f, [0.3, -0.3], t_ns=k * P_NS).command)
    pos = np.array(pos)
    v = np.diff(pos, axis=0) / P
    a = np.diff(v, axis=0) / P
    assert np.all(np.abs(a) <= 10.0 + 1e-6)
    assert np.all(np.abs(v) <= 1.0 + 1e-9)
    assert np.max(pos[:, 0]) <= 0.3 + 1e-9 and np.min(pos[:, 1]) >= -0.3 - 1e-9
    np.testing.assert_allclose(pos[-1], [0.3, -0.3], atol=1e-9)


def test_limit_step_reaches_close_target_exactly():
    p, v = limit_step(np.zeros(1), np.zeros(1), np.array([1e-4]), P, np.array([1.0]),
                      np.array([10.0]))
    assert p[0] == pytest.approx(1e-4)


@pytest.mark.parametrize('bad', [math.nan, math.inf, -math.inf])
def test_non_finite_action_faults_and_holds_until_new_command(bad):
    f = make()
    d = step(f, [0.1, bad], current=(0.2, 0.3))
    assert d.hold and d.state is SafetyState.FAULT and 'NaN' in d.reason
    np.testing.assert_allclose(d.command, [0.2, 0.3])
    assert step(f, [0.1, 0.1]).state is SafetyState.FAULT  # latched
    f.on_command(P_NS)
    assert step(f, [0.0, 0.0]).state is SafetyState.RUNNING


def test_stale_frame_holds_current_position():
    f = make()
    d = step(f, [0.5, 0.5], t_ns=10 * P_NS, current=(0.1, 0.2), frame_ns=0)
    assert d.hold and d.state is SafetyState.HOLDING and 'stale' in d.reason
    np.testing.assert_allclose(d.command, [0.1, 0.2])
    d = step(f, [0.5, 0.5], current=(0.1, 0.2), frame_ns=None, problem='missing image/front')
    assert d.hold and 'missing image/front' in d.reason


def test_no_frame_and_no_chunk_hold():
    f = make()
    d = f.step(np.zeros(2), now_ns=P_NS, current=np.zeros(2), frame_stamp_ns=None)
    assert d.hold and d.reason == 'no frame yet'
    assert step(f, None).reason == 'waiting for a chunk'


def test_estop_latched_until_cleared_and_recommanded():
    f = make()
    f.estop()
    assert step(f, [0.1, 0.1]).state is SafetyState.ESTOPPED
    f.on_command(P_NS)  # a command alone does not release
    assert step(f, [0.1, 0.1]).state is SafetyState.ESTOPPED
    f.clear_estop()
    d = step(f, [0.1, 0.1])
    assert (d.state is SafetyState.ESTOPPED and 're-command' in d.reason
            or 'new command' in d.reason)
    f.on_command(2 * P_NS)
    assert step(f, [0.1, 0.1]).state is SafetyState.RUNNING


def test_stop_and_idle_hold():
    f = SafetyFilter(SafetyConfig(names=NAMES))
    assert step(f, [0.1, 0.1]).state is SafetyState.IDLE
    f.on_command(0)
    f.stop('stop requested')
    d = step(f, [0.1, 0.1])
    assert d.state is SafetyState.IDLE and d.reason == 'stop requested'


def test_max_motion_time_holds_after_cap():
    f = make(max_motion_time_s=1.0)
    assert not step(f, [0, 0], t_ns=int(0.5e9)).hold
    d = step(f, [0, 0], t_ns=int(1.5e9))
    assert d.hold and 'max_motion_time_s' in d.reason


def test_hold_is_zero_in_velocity_mode_and_accel_limited_when_running():
    f = make(mode='velocity', max_velocity=(1.0, 1.0), max_acceleration=(5.0, 5.0))
    d = step(f, [3.0, -3.0])
    np.testing.assert_allclose(d.command, [0.1, -0.1])  # 5 m/s^2 * 20 ms
    f.estop()
    d = step(f, [3.0, -3.0], current=None)
    assert d.hold and f.config.mode is ControlMode.VELOCITY
    np.testing.assert_allclose(d.command, [0.0, 0.0])


def test_position_hold_without_measurement_uses_last_command_or_nothing():
    f = make()
    f.estop()
    assert step(f, [0, 0], current=None).command is None
    g = make()
    step(g, [0.01, 0.01])
    g.estop()
    np.testing.assert_allclose(step(g, [0, 0], current=None).command, [0.01, 0.01])


def test_limit_future_respects_limits_without_changing_state():
    f = make(max_velocity=(1.0, 1.0), upper=(0.05, 1.0))
    step(f, [0.0, 0.0])
    before = f.last_command.copy()
    fut = f.limit_future(np.full((5, 2), 1.0), P)
    assert np.all(np.abs(np.diff(fut, axis=0)) <= P + 1e-12)
    assert np.all(fut[:, 0] <= 0.05)
    np.testing.assert_allclose(f.last_command, before)


def test_config_validation_quotes_bad_values():
    with pytest.raises(ConfigError, match='3 values'):
        SafetyConfig(names=('a', 'b', 'c'), lower=(0.0,))
    with pytest.raises(ConfigError, match='-0.5'):
        SafetyConfig(names=('a',), period_s=-0.5)
    with pytest.raises(ConfigError, match='lower > upper'):
        SafetyConfig(names=('a',), lower=(1.0,), upper=(0.0,))
    with pytest.raises(ConfigError, match='velocity'):
        SafetyConfig(names=('a',), max_velocity=(0.0,))
    cfg = SafetyConfig.from_named(['a', 'b'], {'a': {'upper': 1.0}})
    assert cfg.arrays['upper'].tolist() == [1.0, math.inf]


def test_position_hold_is_latched_where_it_started():
    f = make()
    f.stop('stop requested')
    first = step(f, [0, 0], current=(0.1, 0.2)).command
    later = step(f, [0, 0], current=(0.0, 0.15)).command  # arm sagging: hold stays put
    np.testing.assert_allclose(first, [0.1, 0.2])
    np.testing.assert_allclose(later, [0.1, 0.2])
    f.on_command(2 * P_NS)
    assert step(f, [0.0, 0.15], current=(0.0, 0.15)).state is SafetyState.RUNNING


def test_hold_stays_latched_until_time_jumps_back():
    f = make()
    step(f, [0.01, 0.01], current=(0.01, 0.01))
    f.stop('stop')
    held = step(f, [0.5, 0.5], current=(0.005, 0.012)).command   # latched where it stopped
    np.testing.assert_allclose(held, [0.005, 0.012])
    # the measurement moving does not move a latched hold (no creeping with gravity)
    np.testing.assert_allclose(step(f, [0, 0], current=(0.8, -0.4)).command, held)
    # a sim reset (time went back): the robot is elsewhere; hold where it is now, no jump
    f.on_time_jump()
    np.testing.assert_allclose(step(f, [0, 0], current=(0.8, -0.4)).command, [0.8, -0.4])
    np.testing.assert_allclose(step(f, [0, 0], current=(0.79, -0.41)).command, [0.8, -0.4])


def test_short_data_hold_resumes_long_one_needs_a_new_command():
    """
    A glitch shorter than hold_latch_s resumes by itself; a longer outage stops.

    An outage longer than hold_latch_s stops (IDLE), and data coming back does not move the robot
    until a new command.
    """
    f = make(hold_latch_s=0.5)
    s = 1_000_000_000
    assert step(f, [0.1, 0.1], t_ns=s).state is SafetyState.RUNNING
    d = step(f, [0.1, 0.1], t_ns=s + 300_000_000, frame_ns=s)  # 300 ms stale
    assert d.state is SafetyState.HOLDING and 'stale' in d.reason
    assert step(f, [0.1, 0.1], t_ns=s + 400_000_000).state is SafetyState.RUNNING  # back
    step(f, [0.1, 0.1], t_ns=2 * s, frame_ns=s)            # stale again ...
    d = step(f, [0.1, 0.1], t_ns=2 * s + 600_000_000, frame_ns=s)  # ... for 600 ms
    assert d.state is SafetyState.IDLE and d.hold and 'send a new command' in d.reason
    d = step(f, [0.1, 0.1], t_ns=3 * s)                     # fresh data again
    assert d.state is SafetyState.IDLE and d.hold
    f.on_command(3 * s)
    assert step(f, [0.1, 0.1], t_ns=3 * s + P_NS).state is SafetyState.RUNNING


def test_frame_problem_latches_too_and_zero_disables_the_latch():
    f = make(hold_latch_s=0.1)
    step(f, [0.0, 0.0], t_ns=P_NS, problem='no frame: joints missing')
    assert step(f, [0.0, 0.0], t_ns=P_NS + 200_000_000,
                problem='no frame: joints missing').state is SafetyState.IDLE
    g = make(hold_latch_s=0.0)
    step(g, [0.0, 0.0], t_ns=P_NS, frame_ns=0, problem='x')
    assert step(g, [0.0, 0.0], t_ns=100 * 1_000_000_000,
                problem='x').state is SafetyState.HOLDING
    assert step(g, [0.0, 0.0], t_ns=101 * 1_000_000_000).state is SafetyState.RUNNING


def test_hold_never_leaves_the_limits_and_far_measurements_are_implausible():
    f = make(lower=(-1.0, 0.0), upper=(1.0, 0.04))
    f.stop('stop')
    d = step(f, None, current=(0.5, 0.041))  # a little past the gripper's soft limit
    np.testing.assert_allclose(d.command, [0.5, 0.04])
    assert f.plausible(np.array([0.5, 0.041]))      # within 10 % of the range
    assert not f.plausible(np.array([0.5, 1.304]))  # a bad joint_states message
    assert not f.plausible(np.array([-1.3, 0.0]))
