"""
mujoco_sim + vla_policy (random-weights bundle) on sim time.

Commands reach the sim, and a sim reset (``/clock`` jumps backwards) does not fault the policy
node.
"""

from __future__ import annotations

import json
import pathlib
import time

from helpers.policy_graph import Listener, POLICY
import pytest
from vla_ros.harness.procs import NodeProcess, ros_args, wait_until
import yaml

pytestmark = [pytest.mark.ros, pytest.mark.slow]
ROOT = pathlib.Path(__file__).resolve().parents[2]
SIM = {'image_width': 64, 'image_height': 64, 'cameras': ['front'], 'seed': 1}


@pytest.mark.timeout(120)
def test_policy_survives_sim_reset(tmp_path):
    import rclpy
    from rclpy.qos import DurabilityPolicy, QoSProfile
    from std_msgs.msg import String, UInt32

    from helpers.bundles import make_random_bundle

    bundle = make_random_bundle(tmp_path / 'bundle')
    # node-specific entries of config/sim.yaml beat `-p` (wildcard) overrides: test overrides
    # go into a second params file with the node names
    overrides = tmp_path / 'overrides.yaml'
    overrides.write_text(yaml.safe_dump({
        'mujoco_sim': {'ros__parameters': SIM},
        'vla_policy': {'ros__parameters': {**POLICY, 'bundle': str(bundle)}}}))
    files = [ROOT / 'config' / 'sim.yaml', overrides]
    procs = [
        NodeProcess('mujoco_sim', ros_args(files), log_path=tmp_path / 'sim.log').start(),
        NodeProcess('vla_policy', ros_args(files), log_path=tmp_path / 'policy.log').start(),
    ]
    rclpy.init()
    probe = rclpy.create_node('sim_state_probe')
    states: list[dict] = []
    probe.create_subscription(
        String, '/sim/task_state', lambda m: states.append(json.loads(m.data)),
        QoSProfile(depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL))
    reset = probe.create_publisher(UInt32, '/sim/reset_seed', 10)
    lis = Listener(rclpy)
    lis.executor.add_node(probe)
    try:
        assert lis.wait_state('idle', 40.0), procs[1].log_tail()
        assert wait_until(lambda: states, 10.0), procs[0].log_tail()
        lis.command('pick up the red cube')
        assert lis.wait_state('running', 20.0), procs[1].log_tail()
        assert wait_until(lambda: len(lis.traj) > 10, 10.0), procs[1].log_tail()
        n_before = len(lis.traj)
        # the sim executes the policy's trajectories: the tool moves away from home
        tcp0 = states[0]['tcp_position']
        assert wait_until(lambda: max(abs(a - b) for a, b in zip(
            states[-1]['tcp_position'], tcp0)) > 0.002, 10.0), (tcp0, states[-1])
        episode = states[-1]['episode']
        reset.publish(UInt32(data=7))
        assert wait_until(lambda: states and states[-1]['episode'] == episode + 1, 10.0)
        t0 = time.monotonic()
        while time.monotonic() - t0 < 3.0:
            s = lis.last_status()
            assert s.state_name != 'fault', f'{s.reason}\n{procs[1].log_tail()}'
            time.sleep(0.05)
        assert lis.last_status().state_name in ('running', 'holding', 'idle')
        lis.command('pick up the blue cube')
        assert lis.wait_state('running', 20.0), procs[1].log_tail()
        assert wait_until(lambda: len(lis.traj) > n_before + 10, 10.0), procs[1].log_tail()
        for p in procs:
            p.check_alive()
    finally:
        lis.close()
        probe.destroy_node()
        rclpy.try_shutdown()
        codes = [p.stop() for p in procs]
    assert codes == [0, 0], [p.log_tail() for p in procs]
