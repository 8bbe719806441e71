"""
Multi-process: the expert recorded through the ROS graph, and closed-loop episodes.

The episodes run through the real mujoco_sim + vla_policy processes (tiny random bundle: the
plumbing, not skill).
"""

from __future__ import annotations

import os

import pytest
from vla_ros import constants as C
from vla_ros.data import bagio
from vla_ros.model.dataset import bag_samples
from vla_ros.model.train import default_policy_config
from vla_ros.sim.task_suite import TaskSpec


@pytest.mark.slow
@pytest.mark.timeout(150)
def test_expert_through_ros_graph_records_a_trainable_bag(tmp_path):
    from vla_ros.data.expert_ros import record_expert_ros
    from vla_ros.harness.sim_config import sim_node_params
    sim = sim_node_params({'image_width': 64, 'image_height': 64})
    res = record_expert_ros(tmp_path / 'bag', 'touch', 11, sim=sim)
    assert res['success'], res
    assert set(res['counts']) >= {bagio.bag_topic(t) for t in (  # bags: root names
        C.camera_topic('front'), C.camera_topic('wrist'), C.AUDIO_TOPIC, C.TACTILE_TOPIC,
        C.JOINT_STATES_TOPIC, C.COMMAND_TOPIC, C.ARM_TRAJECTORY_TOPIC,
        C.GRIPPER_COMMANDS_TOPIC)}
    s = bag_samples(tmp_path / 'bag', default_policy_config())
    assert len(s) > 5 and s.commands[0] == res['command']


@pytest.mark.slow
@pytest.mark.timeout(180)
def test_closed_loop_episodes_reuse_the_processes(tmp_path):
    from helpers.bundles import make_random_bundle
    from vla_ros.eval.episode import EpisodeRunner
    bundle = make_random_bundle(tmp_path / 'b', cameras=('front', 'wrist'), horizon=10,
                                dt=0.1)
    # config/sim.yaml with a smaller camera (2 cores); the override is what the runner reports
    runner = EpisodeRunner(bundle, mask=['audio'], log_dir=tmp_path / 'logs',
                           sim_overrides={'image_width': 96, 'image_height': 96})
    assert runner.overrides == {
        'mujoco_sim': {'image_width': 96, 'image_height': 96},
        'vla_policy': {'bundle': str(bundle.resolve()), 'mask_modalities': ['audio']}}
    domain_before = os.environ.get('ROS_DOMAIN_ID')
    with runner:
        # its own domain for the nodes and its context; this process's environment untouched
        assert os.environ.get('ROS_DOMAIN_ID') == domain_before
        assert runner.procs[0].env['ROS_DOMAIN_ID'] == str(runner.domain_id)
        sim_pid = runner.procs[0].proc.pid
        results = [runner.run(TaskSpec('touch', 'red', 'touch the red cube', 2.0), seed,
                              record_video=True) for seed in (100_001, 100_002)]
        assert runner.procs[0].proc.pid == sim_pid   # the sim is reset, not restarted
    for seed, r in zip((100_001, 100_002), results):
        assert r.seed == seed and r.mask == ('audio',)
        assert r.reason  # judged: success or a failure reason
        assert r.duration_s >= 1.9 and r.chunks > 0 and r.control_rate_hz > 5
        assert r.frames and r.frames[0].shape == (96, 192, 3)  # front | wrist
        assert r.policy_command == 'touch the red cube'   # what the policy ran, per ~/status
