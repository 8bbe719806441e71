"""
``BENCH touch_task expert_success=... blind_success=...``: the gentle task needs touch.

The ``gentle`` task with ``cube_physics: varied`` (:mod:`vla_ros.sim.cube_physics`: hidden mass
and friction, a crush limit 2.5x the grip each cube needs) on ``--episodes`` seeds of the *dev*
block, lockstep sim (:func:`~vla_ros.sim.lockstep.run_expert_episode`, the judge of
:class:`~vla_ros.sim.task_suite.SuccessMonitor`):

- expert_success: the scripted expert, which feels the taxel stream the policy gets: it grips
  with a small max effort, raises the cube 10 mm, and tightens when the load slides towards
  the fingertips (:mod:`vla_ros.sim.gentle_grip`);
- blind_success: the best touch-free strategy -- the same motions with one fixed max effort
  -- searched over :data:`BLIND_EFFORTS_N` on the same seeds (blind_effort_n: the best);
- numb_success: the expert with the taxels zeroed (it never feels contact, so never squeezes).

Rates with 95 % Wilson intervals (``_lo`` / ``_hi``). Per-episode JSON:
``docs/results/touch/dev_<episodes>.json``.

    python bench/bench_touch_task.py --episodes 40      # ~6 min on 2 busy cores
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))
import _smoke as S  # noqa: E402, I100

DEV_OFFSET = 17_000          # index into the dev block reserved for this benchmark
BLIND_EFFORTS_N = tuple(round(0.3 * 1.25 ** i, 3) for i in range(13))  # 0.3 .. 4.4 [N]
SMOKE_TIMEOUT_S = 2.0        # smoke: episodes of 2 s sim time (nothing is solved)


def _experts():
    from vla_ros.sim.expert import ScriptedExpert

    class BlindGrip(ScriptedExpert):
        """The expert with one fixed max effort that never feels a slip (contact it may feel)."""

        fixed_effort = 1.0

        def __init__(self, *args, **kwargs) -> None:
            super().__init__(*args, **kwargs)
            self.slip.slipped = _no_slip

        def act(self, st):
            cmd = super().act(st)
            if self.effort is not None:
                self.effort = self.fixed_effort
                cmd = dataclasses.replace(cmd, gripper_effort=self.fixed_effort)
            return cmd

    class NumbGrip(ScriptedExpert):
        """The expert fed zeros for taxels."""

        def feel(self, t, taxels):
            super().feel(t, np.zeros_like(taxels))

    return BlindGrip, NumbGrip


def _no_slip(taxels) -> bool:
    return False


def _episode(world, ik, seed: int, expert, timeout_s: float) -> dict:
    from vla_ros.sim.lockstep import run_expert_episode
    out = run_expert_episode(world, expert.task, seed, ik=ik, settle_s=0.0, expert=expert)
    props = world.cube_props[expert.task.obj]
    return {'seed': seed, 'success': out.success, 'reason': out.reason,
            'peak_n': round(out.monitor.peak_force, 3), 'crush_n': round(props.crush_n, 3),
            'grip_needed_n': round(props.grip_needed_n, 3), 'mass_kg': round(props.mass_kg, 4),
            'friction': round(props.friction, 3), 'size_m': round(props.size_m, 4),
            'final_effort_n': expert.effort, 'duration_s': round(out.duration_s, 2)}


def main() -> int:
    """Run the episodes and print the summary line."""
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument('--episodes', type=int, default=40)
    p.add_argument('--json', default=None, help='per-episode JSON (default: '
                   'docs/results/touch/dev_<episodes>.json; smoke: a temporary file)')
    args = p.parse_args()
    from vla_ros.eval.stats import rate_tokens
    from vla_ros.sim.expert import ScriptedExpert
    from vla_ros.sim.ik import IkSolver
    from vla_ros.sim.task_suite import block_seed, make_task
    from vla_ros.sim.world import SimWorld, WorldConfig
    t0, load0 = time.monotonic(), os.getloadavg()[0]
    n = S.pick(args.episodes, 1)
    timeout = S.pick(None, SMOKE_TIMEOUT_S)   # None: the task's own time limit
    efforts = S.pick(BLIND_EFFORTS_N, BLIND_EFFORTS_N[:2])
    seeds = [block_seed('dev', DEV_OFFSET + i) for i in range(n)]
    world = SimWorld(WorldConfig(image_width=32, image_height=32, cube_physics='varied'))
    ik = IkSolver(world.model)
    blind_cls, numb_cls = _experts()

    def task(seed: int):
        t = make_task('gentle', seed)
        return t if timeout is None else dataclasses.replace(t, timeout_s=timeout)

    def play(cls, **attrs) -> list[dict]:
        rows = []
        for s in seeds:
            ex = cls(task(s), ik, world.home, 0.1)
            for k, v in attrs.items():
                setattr(ex, k, v)
            rows.append(_episode(world, ik, s, ex, timeout))
        return rows

    expert = play(ScriptedExpert)
    numb = play(numb_cls)
    blind = {}
    for e in efforts:
        blind[e] = play(blind_cls, fixed_effort=e)
    world.close()
    best = max(blind, key=lambda e: sum(r['success'] for r in blind[e]))

    def rate(rs: list[dict], key: str) -> str:
        return rate_tokens(sum(r['success'] for r in rs), len(rs), key)

    line = (f'BENCH touch_task {rate(expert, "expert_success")} '
            f'{rate(blind[best], "blind_success")} blind_effort_n={best:g} '
            f'{rate(numb, "numb_success")} episodes={n} block=dev seeds={seeds[0]}..{seeds[-1]}'
            f' load={load0:.1f}/{os.getloadavg()[0]:.1f} wall_s={time.monotonic() - t0:.0f}'
            + S.tag())
    out = pathlib.Path(args.json) if args.json and not S.SMOKE else (
        S.out_dir(ROOT / 'docs' / 'results' / 'touch') / f'dev_{n}.json')
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({
        'summary': line, 'expert': expert, 'numb': numb,
        'blind': {str(e): rows for e, rows in blind.items()},
        'blind_success_by_effort': {str(e): sum(r['success'] for r in rows) / n
                                    for e, rows in blind.items()}}, indent=1))
    print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
