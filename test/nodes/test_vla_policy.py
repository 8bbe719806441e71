"""
vla_policy in a graph: fake_sensors -> vla_policy -> a listener in the controllers' place.

One graph per module (start-up costs seconds); the tests run in file order and each leaves the
policy running a command.
"""

from __future__ import annotations

from helpers.policy_graph import CONTROL_HZ, CONTROLLER_JOINTS, Listener, set_streams, start_graph
import numpy as np
import pytest
from vla_ros.harness.procs import wait_until

pytestmark = [pytest.mark.ros, pytest.mark.slow]
PERIOD = 1.0 / CONTROL_HZ


@pytest.fixture(scope='module')
def bundle(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    return make_random_bundle(tmp_path_factory.mktemp('bundle'))


@pytest.fixture(scope='module')
def graph(bundle, tmp_path_factory):
    import rclpy

    rclpy.init()
    tmp = tmp_path_factory.mktemp('graph')
    procs = start_graph(tmp, bundle)
    lis = Listener(rclpy)
    try:
        assert lis.wait_state('idle', 30.0), procs[1].log_tail()
        yield lis, procs
    finally:
        lis.close()
        for p in procs:
            p.stop()
        rclpy.try_shutdown()


def _positions(traj) -> np.ndarray:
    return np.array([list(m.points[0].positions) for _, m in traj])


@pytest.mark.timeout(60)
def test_commands_arrive_at_control_rate_in_controller_joint_order(graph):
    lis, procs = graph
    lis.command('pick up the red cube')
    assert lis.wait_state('running', 15.0, command='pick up the red cube'), procs[1].log_tail()
    assert wait_until(lambda: len(lis.chunks) >= 2, 10.0)
    t0 = lis.traj[-1][0]
    assert wait_until(lambda: len(lis.since(lis.traj, t0)) >= 2 * CONTROL_HZ, 10.0)
    traj = lis.since(lis.traj, t0)
    rate = (len(traj) - 1) / (traj[-1][0] - traj[0][0])
    median_period = float(np.median(np.diff([t for t, _ in traj])))
    # the node's own tick rate (counted where the ticks happen, reported on ~/status) is the
    # configured 50 Hz; what arrives here (reliable, depth 1) may lose a few under load
    node_rate = lis.last_status().control_rate_hz
    assert 0.8 * CONTROL_HZ <= node_rate <= 1.1 * CONTROL_HZ, f'node ticks at {node_rate} Hz'
    assert 0.75 * PERIOD <= median_period <= 1.25 * PERIOD, f'median period {median_period}'
    assert 0.6 * CONTROL_HZ <= rate <= 1.25 * CONTROL_HZ, f'{rate:.1f} Hz received'
    assert all(list(m.joint_names) == CONTROLLER_JOINTS for _, m in traj)
    assert all(len(m.points) == 1 and m.points[0].time_from_start.nanosec > 0 for _, m in traj)
    grip = lis.since(lis.gripper, t0)
    assert grip and all(len(m.data) == 1 for _, m in grip)
    # mapping by name: commanded points are chunk rows, permuted to controller order
    chunks = lis.since(lis.chunks, t0 - 1.0)
    names = list(chunks[0][1].action_names)
    order = [names.index(j) for j in CONTROLLER_JOINTS]
    rows = np.vstack([np.array(c.values).reshape(c.horizon, len(names))[:, order]
                      for _, c in chunks])
    found = sum(bool(np.any(np.all(np.abs(rows - np.array(m.points[0].positions)) < 1e-9,
                                   axis=1))) for _, m in traj)
    states = {s.state_name for _, s in lis.since(lis.status, t0)}
    assert found >= len(traj) // 4, (found, len(traj), states, lis.last_status().reason)
    s = lis.last_status()
    assert s.chunks >= 2 and s.model_id.startswith('random') and not s.dry_run


@pytest.mark.timeout(60)
def test_a_new_command_replaces_the_running_one(graph):
    # (that it resets the chunk, even with one in flight: test/core/control/test_policy_loop.py)
    lis, procs = graph
    n0 = lis.last_status().chunks
    lis.command('open the drawer')
    assert lis.wait_state('running', 10.0, command='open the drawer'), procs[1].log_tail()
    assert wait_until(lambda: lis.last_status().chunks > n0, 5.0)


@pytest.mark.timeout(60)
def test_estop_holds_within_one_period_until_cleared_and_recommanded(graph):
    lis, procs = graph
    assert lis.wait_state('running', 10.0)
    import time
    t_estop = time.monotonic()
    lis.estop(True)
    assert lis.wait_state('estopped', 5.0), procs[1].log_tail()
    # one period + delivery after the e-stop, holds keep coming
    assert wait_until(lambda: len(lis.since(lis.traj, t_estop + PERIOD + 0.05)) > 5, 5.0)
    pos = _positions(lis.since(lis.traj, t_estop + PERIOD + 0.05))
    assert np.all(np.abs(pos - pos[0]) < 1e-12), 'moved after the e-stop'
    t_clear = time.monotonic()
    lis.estop(False)  # cleared, but not re-commanded: still no motion
    # two status messages (2 Hz and on change) after the clear: the node has seen it
    assert wait_until(lambda: len(lis.since(lis.status, t_clear)) >= 2, 5.0)
    assert lis.last_status().state_name == 'estopped'
    pos = _positions(lis.since(lis.traj, t_estop + PERIOD + 0.05))
    assert np.all(np.abs(pos - pos[0]) < 1e-12)
    lis.command('pick up the red cube')
    assert lis.wait_state('running', 10.0), procs[1].log_tail()


@pytest.mark.timeout(60)
def test_stale_camera_holds_within_max_age_plus_one_period(graph):
    import time

    import rclpy
    lis, procs = graph
    assert lis.wait_state('running', 10.0)
    t_stop = time.monotonic()
    set_streams(rclpy, lis.node, ['audio', 'tactile', 'joints'])
    try:
        assert lis.wait_state('holding', 5.0), procs[1].log_tail()
        t_hold = next(ts for ts, s in lis.since(lis.status, t_stop)
                      if s.state_name == 'holding')
        # max_frame_age 0.2 s + one period; generous margin for the service call and a
        # loaded 2-core machine
        assert t_hold - t_stop < 0.2 + PERIOD + 0.5
        assert wait_until(lambda: len(lis.since(lis.traj, t_hold + PERIOD)) > 3, 5.0)
        pos = _positions(lis.since(lis.traj, t_hold + PERIOD))
        assert len(pos) > 3 and np.all(np.abs(pos - pos[0]) < 1e-12)
        assert 'stale' in lis.last_status().reason or 'missing' in lis.last_status().reason
    finally:
        set_streams(rclpy, lis.node, ['camera', 'audio', 'tactile', 'joints'])
    assert lis.wait_state('running', 10.0), procs[1].log_tail()


@pytest.mark.timeout(60)
def test_stop_and_rejected_commands_hold(graph):
    lis, procs = graph
    lis.command('stop')
    assert lis.wait_state('idle', 5.0, command='')
    t_idle = lis.status[-1][0]
    lis.command('go\x1b[2J')
    assert wait_until(lambda: 'control characters' in lis.last_status().reason, 5.0)
    assert lis.last_status().state_name == 'idle'
    lis.command('x' * 500)
    assert wait_until(lambda: 'max_command_chars' in lis.last_status().reason, 5.0)
    s = lis.last_status()
    assert s.state_name == 'idle' and s.command == ''  # the rejected text is never run
    # and nothing moved since the stop: every command sent after it is the same hold
    assert wait_until(lambda: len(lis.since(lis.traj, t_idle + PERIOD + 0.05)) > 5, 5.0)
    pos = _positions(lis.since(lis.traj, t_idle + PERIOD + 0.05))
    assert np.all(np.abs(pos - pos[0]) < 1e-12)
