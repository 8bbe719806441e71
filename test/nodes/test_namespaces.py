"""
Two robots on one ROS domain, each in its own namespace, are really separate.

robot1 and robot2 each run fake_sensors + vla_policy as processes started with
``--ros-args -r __ns:=/robotN`` (what a launch file's ``namespace=`` passes). A command to
``/robot1/vla/command`` moves only ``/robot1/arm_controller/...``; an e-stop on
``/robot2/vla/estop`` stops only robot2.
"""

from __future__ import annotations

import time

from helpers.policy_graph import CONTROL_HZ, Listener, start_graph
import numpy as np
import pytest
from vla_ros.harness.procs import wait_until

pytestmark = [pytest.mark.ros, pytest.mark.slow]
PERIOD = 1.0 / CONTROL_HZ
ROBOTS = ('robot1', 'robot2')


@pytest.fixture(scope='module')
def robots(tmp_path_factory):
    import rclpy

    from helpers.bundles import make_random_bundle
    bundle = make_random_bundle(tmp_path_factory.mktemp('bundle'), cameras=('front',))
    tmp = tmp_path_factory.mktemp('robots')
    procs = {r: start_graph(tmp, bundle, namespace=r) for r in ROBOTS}
    rclpy.init()
    lis = {r: Listener(rclpy, namespace=r) for r in ROBOTS}
    try:
        for r in ROBOTS:
            assert lis[r].wait_state('idle', 40.0), procs[r][1].log_tail()
        yield lis, procs
    finally:
        for r in ROBOTS:
            lis[r].close()
        for p in (*procs['robot1'], *procs['robot2']):
            p.stop()
        rclpy.try_shutdown()


def _positions(traj) -> np.ndarray:
    return np.array([list(m.points[0].positions) for _, m in traj])


@pytest.mark.timeout(60)
def test_a_command_to_robot1_moves_only_robot1(robots):
    lis, procs = robots
    t0 = time.monotonic()
    lis['robot1'].command('pick up the red cube')
    assert lis['robot1'].wait_state('running', 15.0, command='pick up the red cube'), \
        procs['robot1'][1].log_tail()
    assert wait_until(lambda: len(lis['robot1'].since(lis['robot1'].traj, t0)) >= 10, 10.0)
    time.sleep(0.3)
    assert not lis['robot2'].traj and not lis['robot2'].gripper, 'robot2 was commanded'
    s2 = lis['robot2'].last_status()
    assert s2.state_name == 'idle' and s2.command == '', (s2.state_name, s2.command)


@pytest.mark.timeout(60)
def test_an_estop_to_robot2_stops_only_robot2(robots):
    lis, procs = robots
    r1, r2 = lis['robot1'], lis['robot2']
    r2.command('pick up the green cube')
    assert r2.wait_state('running', 15.0), procs['robot2'][1].log_tail()
    assert r1.wait_state('running', 5.0)
    t_estop = time.monotonic()
    r2.estop(True)
    assert r2.wait_state('estopped', 5.0), procs['robot2'][1].log_tail()
    after = t_estop + PERIOD + 0.1
    assert wait_until(lambda: len(r2.since(r2.traj, after)) > 5
                      and len(r1.since(r1.traj, after)) > 5, 5.0)
    held = _positions(r2.since(r2.traj, after))
    assert np.all(np.abs(held - held[0]) < 1e-12), 'robot2 moved after its e-stop'
    moving = _positions(r1.since(r1.traj, after))
    assert r1.last_status().state_name == 'running'
    assert np.any(np.abs(moving - moving[0]) > 1e-9), 'robot1 stopped with robot2'
    # e-stops are not shared either: robot1 never saw one
    assert 'estopped' not in {s.state_name for _, s in r1.since(r1.status, t_estop)}
