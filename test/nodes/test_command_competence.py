"""
Commands outside the default bundle's competence leave the arm still and say why (over DDS).

fake_sensors -> vla_policy (models/default, its grounded text encoder and competence section)
-> a listener in the controllers' place; the commands arrive on /vla/command like an
operator's.
"""

from __future__ import annotations

import pathlib

from helpers.policy_graph import CONTROL_HZ, Listener, start_graph
import numpy as np
import pytest
from vla_ros.core.bundle.competence import REFUSAL_PREFIX
from vla_ros.harness.procs import wait_until

pytestmark = [pytest.mark.ros, pytest.mark.slow]
DEFAULT_BUNDLE = pathlib.Path(__file__).resolve().parents[2] / 'models' / 'default'
PERIOD = 1.0 / CONTROL_HZ
SENSORS = {'cameras': ['front', 'wrist'], 'image_width': 96, 'image_height': 96,
           'camera_rate_hz': 10.0}
POLICY = {'cameras': ['front', 'wrist'], 'required_cameras': ['front', 'wrist']}


@pytest.fixture(scope='module')
def graph(tmp_path_factory):
    import rclpy

    rclpy.init()
    procs = start_graph(tmp_path_factory.mktemp('graph'), DEFAULT_BUNDLE,
                        policy=POLICY, sensors=SENSORS)
    lis = Listener(rclpy)
    try:
        assert lis.wait_state('idle', 60.0), procs[1].log_tail()
        yield lis, procs
    finally:
        lis.close()
        for p in procs:
            p.stop()
        rclpy.try_shutdown()


def _still_since(lis, t: float) -> None:
    """Assert that every arm command after ``t`` (+ one period) is the same hold."""
    assert wait_until(lambda: len(lis.since(lis.traj, t + PERIOD + 0.05)) > 5, 5.0)
    pos = np.array([list(m.points[0].positions)
                    for _, m in lis.since(lis.traj, t + PERIOD + 0.05)])
    assert np.all(np.abs(pos - pos[0]) < 1e-12)


@pytest.mark.timeout(120)
def test_out_of_competence_commands_hold_and_say_why(graph):
    lis, procs = graph
    # a command in a form the training never used is understood and runs
    lis.command('could you lift the scarlet cube')
    assert lis.wait_state('running', 15.0, command='could you lift the scarlet cube'), \
        procs[1].log_tail()
    cases = {'make me a sandwich': f'{REFUSAL_PREFIX} (nearest: "',
             'pick up the purple cube': 'deg from every colour it was trained on',
             'pick up the cube': 'it names no colour',
             'asdf qwer zxcv': f'{REFUSAL_PREFIX} (nearest: "'}
    for text, expected in cases.items():
        lis.command(text)
        assert wait_until(lambda: expected in lis.last_status().reason, 10.0), \
            (text, lis.last_status().reason, procs[1].log_tail())
        s = lis.last_status()
        assert s.reason.startswith(REFUSAL_PREFIX) and s.command == ''
        assert s.state_name in ('idle', 'holding'), s.state_name
        _still_since(lis, lis.status[-1][0])
    # a known command after the refusals runs again
    lis.command('pick up the red cube')
    assert lis.wait_state('running', 15.0, command='pick up the red cube'), procs[1].log_tail()
