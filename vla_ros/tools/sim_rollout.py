"""Closed-loop policy rollouts in lockstep with SimWorld, without ROS (a fast diagnostic).

The same sync core and runtime as the node (MultimodalSynchronizer -> Frame ->
PolicyRuntime.infer), the same controller semantics as the sim node; what is missing is DDS,
the node's threads and its scheduler: a new chunk is inferred every ``replan`` control ticks
and its actions are sent one per tick. Used to tell model problems from deployment problems.
"""

from __future__ import annotations

import numpy as np

from vla_ros.core.frame import TactileLayout
from vla_ros.core.runtime import PolicyRuntime
from vla_ros.core.sync import MultimodalSynchronizer
from vla_ros.errors import SyncError
from vla_ros.model.dataset import sync_config_for
from vla_ros.model.config import PolicyConfig
from vla_ros.sim.lockstep import SimControllers, StreamRates
from vla_ros.sim.robot import ROBOT
from vla_ros.sim.task_suite import SuccessMonitor, TaskSpec
from vla_ros.sim.world import SimWorld

NS = 1_000_000_000


def rollout(world: SimWorld, runtime: PolicyRuntime, cfg: PolicyConfig, task: TaskSpec,
            seed: int, *, replan: int = 3, rates: StreamRates = StreamRates(),
            mask=()) -> SuccessMonitor:
    """One episode; returns the judged :class:`SuccessMonitor`."""
    from vla_ros.core.masking import mask_frame
    world.reset(seed)
    sync = MultimodalSynchronizer(sync_config_for(cfg))
    layout = TactileLayout(tuple(p.name for p in ROBOT.pads),
                           tuple((p.rows, p.cols, 1) for p in ROBOT.pads))
    mon = SuccessMonitor(task, seed)
    _, q0, _ = world.joint_state()
    ctl = SimControllers(q0)
    ts, dt = world.model.opt.timestep, 1.0 / rates.control_rate_hz
    periods = {'audio': 1 / rates.audio_chunk_rate_hz, 'tactile': 1 / rates.tactile_rate_hz,
               'joints': 1 / rates.joint_rate_hz, 'control': dt}
    due = dict.fromkeys(periods, 0.0)
    n_audio = int(round(world.config.mic.sample_rate / rates.audio_chunk_rate_hz))
    sync.set_command(task.command, 1)
    chunk, k = None, 0
    while True:
        t = world.time
        eps = 0.5 * ts
        ns = int(round(t * NS))
        if t + eps >= due['audio']:
            due['audio'] += periods['audio']
            a = world.audio(n_audio)
            if ns > 0:
                sync.add_audio(max(1, ns - n_audio * NS // world.config.mic.sample_rate),
                               a[:, None], world.config.mic.sample_rate)
        if t + eps >= due['tactile']:
            due['tactile'] += periods['tactile']
            if ns > 0:
                sync.add_tactile(ns, world.tactile(), layout)
        if t + eps >= due['joints']:
            due['joints'] += periods['joints']
            names, q, v = world.joint_state()
            if ns > 0:
                sync.add_joints(ns, names, q, v)
        if t + eps >= due['control']:
            due['control'] += dt
            st = world.task_state()
            if mon.update(st):
                return mon
            if mon.beep_due(t):
                world.play_sound('beep')
                mon.beep_time = t
            if ns > 0:
                for cam in cfg.cameras:
                    sync.add_image(cam, ns, world.render(cam))
                if chunk is None or k >= replan:
                    try:
                        frame = mask_frame(sync.assemble(ns), mask)
                        chunk, k = runtime.infer(frame).actions, 0
                    except SyncError:
                        pass
                if chunk is not None and k < len(chunk):
                    ctl.arm_point(t, chunk[k, :6], dt)
                    ctl.gripper = float(chunk[k, 6])
                    k += 1
        arm, grip = ctl.setpoint(t)
        world.set_arm_command(arm)
        world.set_gripper_command(grip)
        world.step(1)


def main() -> None:
    import argparse

    from vla_ros.core.bundle import load_bundle
    from vla_ros.model.config import PolicyConfig
    from vla_ros.sim.task_suite import EVAL_SEED_BASE, TaskKind, make_task
    from vla_ros.sim.world import WorldConfig
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument('bundle')
    p.add_argument('--episodes', type=int, default=2)
    p.add_argument('--replan', type=int, default=3)
    p.add_argument('--kinds', default='all')
    p.add_argument('--mask', action='append', default=[])
    a = p.parse_args()
    rt = PolicyRuntime.from_bundle(a.bundle)
    cfg = PolicyConfig.from_dict(load_bundle(a.bundle).manifest.provenance['config'])
    world = SimWorld(WorldConfig(image_width=96, image_height=96))
    kinds = [k.value for k in TaskKind] if a.kinds == 'all' else a.kinds.split(',')
    ok = n = 0
    for i in range(a.episodes):
        for j, kind in enumerate(kinds):
            seed = EVAL_SEED_BASE + 3000 + i * 6 + j
            task = make_task(kind, seed, held_out=i % 2 == 1)
            m = rollout(world, rt, cfg, task, seed, replan=a.replan, mask=a.mask)
            ok += m.success
            n += 1
            print(f'{"OK  " if m.success else "FAIL"} {task.name:18s} {task.command!r}: '
                  f'{m.reason} [{m.last_time:.1f} s]', flush=True)
    print(f'success {ok}/{n}')


if __name__ == '__main__':
    main()
