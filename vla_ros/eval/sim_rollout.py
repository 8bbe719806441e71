"""
Closed-loop policy rollouts in lockstep with SimWorld, without ROS (a fast diagnostic).

The node's decisions run here unchanged: the same sync core (MultimodalSynchronizer ->
Frame), the same :class:`~vla_ros.core.control.loop.PolicyLoop` built by the same factory
(:func:`~vla_ros.core.policy.build_policy`: bundle checks, tactile and history fitting,
scheduler, safety filter with the limits of ``config/sim.yaml``, holds, masking) and the same
controller semantics as the sim node. What is missing is DDS and the node's threads:
inference takes no simulated time (``latency_s`` adds it back), so it tells model problems
from deployment problems.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
import pathlib

from vla_ros.core.control.from_params import policy_config_from_file
from vla_ros.core.control.loop import PolicyLoop
from vla_ros.core.control.outcomes import InferenceResult
from vla_ros.core.frame import TactileLayout
from vla_ros.core.policy import build_policy
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.core.sync.synchronizer import MultimodalSynchronizer
from vla_ros.errors import SyncError
from vla_ros.harness.locate import config_file
from vla_ros.harness.sim_config import bundle_sim_params, lockstep_setup
from vla_ros.sim.corruption import Corruption
from vla_ros.sim.lockstep import SimControllers, StreamRates
from vla_ros.sim.robot import ROBOT
from vla_ros.sim.task_suite import SuccessMonitor, TaskSpec
from vla_ros.sim.world import SimWorld

NS = 1_000_000_000
SIM_CONFIG = config_file()


def lockstep_world(runtime: PolicyRuntime,
                   config_file: str | pathlib.Path = SIM_CONFIG) -> tuple[SimWorld, StreamRates]:
    """(world, stream rates) as ``mujoco_sim`` runs for this bundle: config + recorded_with."""
    world_config, rates = lockstep_setup(bundle_sim_params(runtime.manifest.provenance,
                                                           params_file=config_file))
    return SimWorld(world_config), rates


def rollout(world: SimWorld, runtime: PolicyRuntime, task: TaskSpec, seed: int, *,
            rates: StreamRates = StreamRates(camera_rate_hz=30.0),
            mask=(), config_file: str | pathlib.Path = SIM_CONFIG,
            latency_s: float = 0.0,
            policy_overrides: Mapping[str, object] | None = None,
            on_chunk: Callable[[float, InferenceResult], None] | None = None,
            corrupt: Corruption | None = None,
            on_done: Callable[[PolicyLoop], None] | None = None) -> SuccessMonitor:
    """
    Run one episode with the node's configuration (``config_file`` + ``policy_overrides``).

    Returns the judged :class:`SuccessMonitor`. ``latency_s``: simulated inference time [s]
    from the frame that requested a chunk to the chunk reaching the scheduler. ``on_chunk(t,
    result)``: called with the sim time [s] and every chunk that entered the scheduler.
    ``corrupt``: a sensor fault applied to the streams before the sync core sees them.
    ``on_done(loop)``: called with the episode's loop once it is judged (e.g. its
    ``boundary_steps``: the velocity steps at chunk boundaries, as the node reports them).
    """
    world.reset(seed)
    policy_cfg, sync_cfg = policy_config_from_file(config_file, overrides={
        **(policy_overrides or {}), 'bundle': str(runtime.bundle.path)})
    now = {'ns': 0}  # the simulated node clock [ns]
    stack = build_policy(runtime, policy_cfg, clock=lambda: now['ns'], sync_config=sync_cfg,
                         mask=mask)
    loop, sync_cfg = stack.loop, stack.sync_config
    sync = MultimodalSynchronizer(sync_cfg, clock=lambda: now['ns'])
    loop.activate()
    layout = TactileLayout(tuple(p.name for p in ROBOT.pads),
                           tuple((p.rows, p.cols, 1) for p in ROBOT.pads))
    mon = SuccessMonitor(task, seed)
    _, q0, _ = world.joint_state()
    ctl = SimControllers(q0)
    ts = world.model.opt.timestep
    periods = {'camera': 1 / rates.camera_rate_hz, 'audio': 1 / rates.audio_chunk_rate_hz,
               'tactile': 1 / rates.tactile_rate_hz, 'joints': 1 / rates.joint_rate_hz,
               'control': loop.period_s}
    due = dict.fromkeys(periods, 0.0)
    n_audio = int(round(world.config.mic.sample_rate / rates.audio_chunk_rate_hz))
    pending_infer_at: float | None = None
    pending_frame = None
    commanded = False
    while True:
        t = world.time
        eps = 0.5 * ts
        ns = now['ns'] = int(round(t * NS))
        if ns > 0 and not commanded:
            loop.on_command(task.command, ns)
            sync.set_command(loop.command, ns)
            commanded = True
        if t + eps >= due['audio']:
            due['audio'] += periods['audio']
            a = world.audio(n_audio)
            a = a if corrupt is None else corrupt.audio(a, t)
            if ns > 0 and a is not None:
                sync.add_audio(max(1, ns - n_audio * NS // world.config.mic.sample_rate),
                               a[:, None], world.config.mic.sample_rate)
        if t + eps >= due['tactile']:
            due['tactile'] += periods['tactile']
            tac = world.tactile()
            tac = tac if corrupt is None else corrupt.tactile(tac, t)
            if ns > 0 and tac is not None:
                sync.add_tactile(ns, tac, layout)
        if t + eps >= due['joints']:
            due['joints'] += periods['joints']
            names, q, v = world.joint_state()
            if ns > 0:
                sync.add_joints(ns, names, q, v)
                loop.on_joint_state(names, q)
        if t + eps >= due['camera']:
            due['camera'] += periods['camera']
            if ns > 0:
                for cam in sync_cfg.cameras:
                    img = world.render(cam.name)
                    img = img if corrupt is None else corrupt.image(img, t)
                    if img is not None:
                        sync.add_image(cam.name, ns, img)
                try:
                    frame = sync.assemble(ns)
                except SyncError as e:
                    loop.on_reject('frame', f'frame: {e}')
                else:
                    if loop.on_frame(frame) and pending_infer_at is None:
                        # the chunk of this frame reaches the scheduler latency_s later
                        pending_infer_at, pending_frame = t + latency_s, frame
        if pending_infer_at is not None and t + eps >= pending_infer_at:
            pending_infer_at = None
            res = loop.infer(pending_frame)  # raises on a fault: a diagnostic should stop there
            if on_chunk is not None and res is not None:
                on_chunk(t, res)
        if t + eps >= due['control']:
            due['control'] += periods['control']
            if mon.update(world.task_state()):
                if on_done is not None:
                    on_done(loop)
                return mon
            for spec in mon.sounds_due(t):   # the beep, a keyword task's words
                world.play_sound(spec)
            out = loop.tick(ns)
            if out.command is not None:
                ctl.arm_point(t, out.command.points[0], float(out.command.times_s[0]))
                if out.command.gripper is not None:
                    ctl.gripper = out.command.gripper
                if out.command.effort is not None:  # bundles with the effort action
                    ctl.set_effort(world, out.command.effort)
        arm, grip = ctl.setpoint(t)
        world.set_arm_command(arm)
        world.set_gripper_command(grip)
        world.step(1)
