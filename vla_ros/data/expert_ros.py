"""
The scripted expert as a teleoperator through the real ROS graph.

``mujoco_sim`` as a process, expert commands over DDS, recorded from the wire into an MCAP bag
(``vla-ros record --expert ros``).
"""

from __future__ import annotations

from pathlib import Path
import time

import rclpy
from rclpy.executors import MultiThreadedExecutor
from std_msgs.msg import UInt32
from vla_ros import constants as C
from vla_ros.data import bagio
from vla_ros.errors import ProcessError
from vla_ros.harness.domains import claim_domain
from vla_ros.harness.procs import NodeProcess, wait_until
from vla_ros.harness.sim_config import NodeParams, sim_node_params
from vla_ros.qos import RELIABLE_QOS
from vla_ros.sim.robot import ROBOT
from vla_ros.sim.task_suite import make_task

EXPERT_DOMAINS = (20, 200)  # ROS_DOMAIN_IDs of the recording's sim and recorder (inclusive)


def record_expert_ros(out: Path, kind: str, seed: int, *, sim: NodeParams | None = None,
                      settle_s: float = 1.0, log_dir: Path | None = None) -> dict:
    """
    One expert episode through the ROS graph into bag ``out``; returns a summary.

    ``sim``: the ``mujoco_sim`` parameters (default: config/sim.yaml); the seed is added.
    """
    # optional heavy dependency: mujoco (via vla_ros.sim.world)
    from vla_ros.sim.world import SimWorld, WorldConfig
    from vla_ros.data.recorder import ExpertTeleop, TopicRecorder
    claim = claim_domain(*EXPERT_DOMAINS)  # released when the episode is recorded
    domain = claim.domain_id
    task = make_task(kind, seed)
    model = SimWorld(WorldConfig(image_width=32, image_height=32)).model  # IK model only
    log = (log_dir or out.parent) / f'{out.name}.mujoco_sim.log'
    params = sim or sim_node_params()
    params = sim_node_params({**params.overrides, 'seed': seed}, params_file=params.params_file)
    log.parent.mkdir(parents=True, exist_ok=True)
    sim = NodeProcess('mujoco_sim', params.ros_args(log.parent / f'{out.name}.params'),
                      env={'ROS_DOMAIN_ID': str(domain)}, log_path=log).start()
    ctx = rclpy.Context()
    rclpy.init(context=ctx, domain_id=domain)
    node = rclpy.create_node('vla_expert_recorder', context=ctx, parameter_overrides=[
        rclpy.parameter.Parameter('use_sim_time', value=True)])
    ex = MultiThreadedExecutor(num_threads=2, context=ctx)
    ex.add_node(node)
    try:
        teleop = ExpertTeleop(node, model, ROBOT.home_positions(), task, seed)
        reset = node.create_publisher(UInt32, C.SIM_RESET_SEED_TOPIC, RELIABLE_QOS)
        spin = lambda: ex.spin_once(timeout_sec=0.05)  # noqa: E731
        if not wait_until(lambda: spin() or sim.check() or teleop.last_state is not None,
                          30.0):
            raise ProcessError(f'no /sim/task_state from mujoco_sim within 30 s (log: {log})')
        ep = teleop.last_state.episode
        reset.publish(UInt32(data=seed))
        wait_until(lambda: spin() or teleop.last_state.episode > ep, 10.0)
        with bagio.BagWriter(out) as writer:
            rec = TopicRecorder(node, writer)
            wait_until(lambda: spin() or False, 0.3)
            teleop.start()
            t_end = time.monotonic() + 3 * task.timeout_s + 10
            while time.monotonic() < t_end:
                spin()
                sim.check()
                st = teleop.last_state
                if teleop.done_at is not None and st.sim_time >= teleop.done_at + settle_s:
                    break
            rec.recording = False
    finally:
        ex.shutdown()
        node.destroy_node()
        ctx.try_shutdown()
        sim.stop()
        claim.release()
    m = teleop.monitor
    return {'bag': str(out), 'task': task.name, 'command': task.command, 'seed': seed,
            'success': m.success, 'reason': m.reason, 'counts': rec.counts}
