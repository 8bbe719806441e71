"""
Foreign VLA exports drive the MuJoCo arm: mujoco_sim + vla_policy over DDS, on sim time.

The ACT-, pi0- and Diffusion-shaped reference graphs (random weights,
vla_ros/model/reference_graphs.py) made into bundles with ``vla-ros bundle init`` + a person's
edits (vla_ros/model/reference_bundles.py) each run a short episode. Random weights: the tests
assert the contract (chunk horizon, names, absolute targets for the delta chunk), timing,
chunks published and the safety limits respected -- not task success. One simulator
serves the module; each bundle gets its own vla_policy process, started with the same params
files as the launch files.
"""

from __future__ import annotations

import pathlib
import time

from helpers.policy_graph import Listener, POLICY
import numpy as np
import pytest
from vla_ros.harness.procs import NodeProcess, ros_args, wait_until
import yaml

pytestmark = [pytest.mark.ros, pytest.mark.slow]
ROOT = pathlib.Path(__file__).resolve().parents[2]
SIM = {'image_width': 64, 'image_height': 64, 'cameras': ['front', 'wrist'], 'seed': 1}
CAMERAS = {'cameras': ['front', 'wrist'], 'required_cameras': ['front']}
EPISODE_S = 2.5  # of commanded motion per bundle (wall time)
LIMITS = yaml.safe_load((ROOT / 'config' / 'sim.yaml').read_text())[
    '/**/vla_policy']['ros__parameters']['limits']


@pytest.fixture(scope='module')
def sim(tmp_path_factory):
    import rclpy

    tmp = tmp_path_factory.mktemp('sim')
    files = _files(tmp, {'mujoco_sim': SIM})
    proc = NodeProcess('mujoco_sim', ros_args(files), log_path=tmp / 'sim.log').start()
    rclpy.init()
    lis = Listener(rclpy)
    try:
        yield lis, proc
    finally:
        lis.close()
        rclpy.try_shutdown()
        assert proc.stop() == 0, proc.log_tail()


def _files(tmp: pathlib.Path, sections: dict) -> list[pathlib.Path]:
    # node-specific entries of config/sim.yaml beat `-p` overrides: a second params file
    overrides = tmp / 'overrides.yaml'
    overrides.write_text(yaml.safe_dump({k: {'ros__parameters': v} for k, v in sections.items()}))
    return [ROOT / 'config' / 'sim.yaml', overrides]


def _episode(sim, tmp: pathlib.Path, bundle: pathlib.Path,
             remote: bool = False) -> tuple[list, list, object]:
    """
    Run vla_policy on ``bundle`` for one command; (trajectories, chunks, last status).

    ``remote``: vla_inference (its own process) computes the chunks, vla_policy sends it frames.
    """
    lis, sim_proc = sim
    policy = {**POLICY, **CAMERAS, 'bundle': str(bundle),
              'inference': 'remote' if remote else 'local'}
    files = _files(tmp, {'vla_policy': policy})
    server = NodeProcess('vla_inference', ros_args(params={'bundle': str(bundle)}),
                         log_path=tmp / 'inference.log').start() if remote else None
    proc = NodeProcess('vla_policy', ros_args(files), log_path=tmp / 'policy.log').start()
    try:
        t_start = time.monotonic()
        assert wait_until(lambda: any(
            s.state_name == 'idle' and s.model_id == bundle.name
            for _, s in lis.since(lis.status, t_start)), 40.0), proc.log_tail()
        if server is not None:
            assert wait_until(lambda: 'serving' in server.log_tail(20000), 60.0), \
                server.log_tail()
        _run(lis, proc, server)
        t0 = time.monotonic()
        assert wait_until(lambda: time.monotonic() - t0 > EPISODE_S
                          and len(lis.since(lis.chunks, t0)) >= 3, 20.0), proc.log_tail()
        status = lis.last_status()
        assert status.state_name != 'fault', status.reason
        traj, chunks = lis.since(lis.traj, t0), lis.since(lis.chunks, t0)
        lis.command('stop')
        assert wait_until(lambda: lis.last_status().state_name == 'idle', 10.0)
        sim_proc.check_alive()
    finally:
        code = proc.stop()
        server_code = server.stop() if server is not None else 0
    assert code == 0, proc.log_tail()
    assert server_code == 0, server.log_tail()
    return traj, chunks, status


def _run(lis: Listener, proc: NodeProcess, server: NodeProcess | None,
         attempts: int = 3) -> None:
    """
    Command until the policy runs with chunks coming in.

    A remote policy whose first requests went out before DDS matched vla_inference holds after
    ``hold_latch_s`` without a chunk and waits for a new command: send it again.
    """
    for _ in range(attempts):
        t_cmd = time.monotonic()
        lis.command('pick up the red cube')
        if wait_until(lambda: lis.last_status().state_name == 'running'
                      and lis.since(lis.chunks, t_cmd), 20.0):
            return
    raise AssertionError(proc.log_tail() + (server.log_tail() if server else ''))


def _assert_contract_and_limits(traj, chunks, status, *, horizon: int,
                                extra: tuple[str, ...] = ()) -> np.ndarray:
    from vla_ros.model.reference_bundles import JOINTS

    names = [*JOINTS, *extra]
    assert len(chunks) >= 3 and status.chunks >= 3
    for _, c in chunks:
        assert c.horizon == horizon and list(c.action_names) == names
        assert c.kind == 'absolute_joint_position' and len(c.values) == horizon * len(names)
    # timing: small graphs, a loaded 2-core machine
    assert 0 < status.inference_latency_ms < 500, status.inference_latency_ms
    names = list(traj[0][1].joint_names)
    idx = [LIMITS['joints'].index(n) for n in names]
    lower, upper = np.array(LIMITS['lower'])[idx], np.array(LIMITS['upper'])[idx]
    vmax = np.array(LIMITS['max_velocity'])[idx]
    pos = np.array([list(m.points[0].positions) for _, m in traj])
    t = np.array([ts for ts, _ in traj])
    assert len(pos) > 20, len(pos)
    assert np.all(pos >= lower - 1e-9) and np.all(pos <= upper + 1e-9)
    # a step per control tick is at most max_velocity * period (gaps: messages lost here)
    period = 1.0 / POLICY['control_rate_hz']
    allowed = vmax * np.maximum(np.diff(t), period)[:, None] * 1.5 + 1e-6
    assert np.all(np.abs(np.diff(pos, axis=0)) <= allowed)
    return np.array([np.array(c.values).reshape(c.horizon, -1) for _, c in chunks])


@pytest.mark.timeout(150)
def test_act_bundle_drives_the_sim(sim, tmp_path):
    from vla_ros.model.reference_bundles import make_act_bundle

    bundle = make_act_bundle(tmp_path / 'act_policy')
    _assert_contract_and_limits(*_episode(sim, tmp_path, bundle), horizon=50)


@pytest.mark.timeout(150)
def test_pi0_bundle_drives_the_sim_with_absolute_targets(sim, tmp_path):
    from vla_ros.model.reference_bundles import make_pi0_bundle

    bundle = make_pi0_bundle(tmp_path / 'pi0_policy')
    traj, chunks, status = _episode(sim, tmp_path, bundle)
    values = _assert_contract_and_limits(traj, chunks, status, horizon=50)
    # delta_from_state: a delta of +-0.1 rad at most (std 0.02) added to the measured state,
    # so the elbow target is near the 1.3 rad home pose, never near the raw delta (~0)
    assert np.all(np.abs(values[:, :, 2] - 1.3) < 0.5), values[:, :, 2].min()


@pytest.mark.timeout(150)
def test_history_bundle_drives_the_sim(sim, tmp_path):
    from vla_ros.model.reference_bundles import make_diffusion_bundle

    bundle = make_diffusion_bundle(tmp_path / 'dp_policy')
    _assert_contract_and_limits(*_episode(sim, tmp_path, bundle), horizon=16)


@pytest.mark.timeout(400)
def test_lerobot_act_checkpoint_drives_the_sim(sim, tmp_path):
    """
    End the LeRobot round trip: a LeRobot ACT checkpoint drives vla_policy over DDS.

    The checkpoint is tiny (a few steps on two demos), exported by ``export --from-lerobot``.
    """
    from helpers.lerobot_chain import act_bundle
    from vla_ros.constants import GRIPPER_EFFORT_ACTION

    # the demos command the gripper's max effort: the LeRobot dataset carries it as an 8th
    # action and the ACT checkpoint predicts it
    _assert_contract_and_limits(*_episode(sim, tmp_path, act_bundle()), horizon=10,
                                extra=(GRIPPER_EFFORT_ACTION,))


@pytest.mark.timeout(400)
def test_lerobot_smolvla_checkpoint_drives_the_sim(sim, tmp_path):
    """
    A LeRobot SmolVLA checkpoint (reduced, random weights) drives vla_policy over DDS.

    Its bundle takes tokens of the command, noise and the padded state (contract v2); the
    episode's command reaches it as tokens, the chunk comes back absolute and limited.
    """
    from helpers.lerobot_chain import smolvla_bundle

    _assert_contract_and_limits(*_episode(sim, tmp_path, smolvla_bundle()), horizon=10)


@pytest.mark.timeout(400)
def test_lerobot_smolvla_checkpoint_served_remotely(sim, tmp_path):
    """
    The same SmolVLA bundle served by vla_inference: vla_policy sends frames, gets chunks.

    The split deployment (docs/distributed.md) with a real VLA: tokens and noise are made on
    the inference side from the frame's command and stamp; the robot gets absolute, limited
    targets as in the local case.
    """
    from helpers.lerobot_chain import smolvla_bundle

    _assert_contract_and_limits(*_episode(sim, tmp_path, smolvla_bundle(), remote=True),
                                horizon=10)


@pytest.mark.timeout(400)
def test_lerobot_diffusion_checkpoint_drives_the_sim(sim, tmp_path):
    """
    A LeRobot Diffusion Policy checkpoint (reduced, random weights) drives vla_policy over DDS.

    Its bundle takes two observations 0.1 s apart (the sync core's history) and the noise of
    the unrolled DDPM loop (contract v2); the chunk is the n_action_steps LeRobot executes.
    """
    from helpers.lerobot_chain import diffusion_bundle

    _assert_contract_and_limits(*_episode(sim, tmp_path, diffusion_bundle()), horizon=8)
