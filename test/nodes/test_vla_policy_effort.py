"""
vla_policy with a bundle that has the gripper max-effort action, in a graph.

The effort goes out on ``gripper_effort_controller/commands`` clipped to ``gripper.max_effort``
and is never sent while the robot holds (the controller keeps the last effort).
"""

from __future__ import annotations

from helpers.policy_graph import Listener, start_graph
import pytest
from vla_ros import constants as C
from vla_ros.harness.procs import wait_until

pytestmark = [pytest.mark.ros, pytest.mark.slow]
MAX_EFFORT = 4.0   # [N]; the random bundle's efforts are around 10 N: most get clipped


@pytest.mark.timeout(90)
def test_effort_is_sent_clipped_while_running_and_not_on_a_hold(tmp_path):
    import rclpy
    from helpers.bundles import make_random_bundle

    bundle = make_random_bundle(tmp_path / 'bundle', extra_actions=(C.GRIPPER_EFFORT_ACTION,))
    rclpy.init()
    procs = start_graph(tmp_path, bundle, policy={
        'gripper.effort_controller': 'gripper_effort_controller',
        'gripper.max_effort': MAX_EFFORT})
    lis = Listener(rclpy)
    try:
        assert lis.wait_state('idle', 30.0), procs[1].log_tail()
        lis.command('pick up the red cube')
        assert lis.wait_state('running', 15.0), procs[1].log_tail()
        assert wait_until(lambda: len(lis.effort) >= 20, 10.0), procs[1].log_tail()
        values = [m.data.tolist() for _, m in lis.effort]
        assert all(len(v) == 1 and 0.0 <= v[0] <= MAX_EFFORT for v in values), values
        assert max(v[0] for v in values) == MAX_EFFORT
        lis.estop(True)
        assert lis.wait_state('estopped', 5.0)
        t_hold = lis.traj[-1][0]
        assert wait_until(lambda: len(lis.since(lis.traj, t_hold)) >= 10, 5.0)  # holding
        held = lis.since(lis.traj, t_hold)
        # no effort command during the hold (one may have been in flight at the e-stop)
        assert len(lis.since(lis.effort, held[1][0])) == 0
    finally:
        lis.close()
        for p in procs:
            p.stop()
        rclpy.try_shutdown()
