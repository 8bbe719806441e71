"""
``BENCH eval success=... episodes=...``: the default bundle, closed loop in the real processes.

The loop runs through ``mujoco_sim`` + ``vla_policy``, one held-out episode per task kind (a
different seed block than ``vla-ros eval`` uses, half of them held-out paraphrases).

ratio = success / 0.8 (the target: >= 1 meets it). ``--episodes N`` per kind for more.
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

TARGET = 0.8


def main() -> int:
    p = argparse.ArgumentParser()
    p.add_argument('--bundle', default=str(ROOT / 'models' / 'default'))
    p.add_argument('--episodes', type=int, default=1, help='episodes per task kind')
    args = p.parse_args()
    from vla_ros.sim.task_suite import EVAL_SEED_BASE, TaskKind, make_task
    from vla_ros.tools.episode import run_episodes
    if not (pathlib.Path(args.bundle) / 'bundle.yaml').exists():
        print(f'no bundle at {args.bundle}; run `make train`', file=sys.stderr)
        return 1
    kinds = [k.value for k in TaskKind]
    tasks, seeds = [], []
    for i in range(args.episodes):
        for j, k in enumerate(kinds):
            seed = EVAL_SEED_BASE + 50_000 + i * len(kinds) + j
            tasks.append(make_task(k, seed, held_out=(i + j) % 2 == 1))
            seeds.append(seed)
    t0 = time.monotonic()
    res = run_episodes(args.bundle, tasks, seeds)
    ok = sum(r.success for r in res)
    lat = sum(r.latency_ms for r in res) / len(res)
    succ = ok / len(res)
    print(f'BENCH eval success={succ:.2f} episodes={len(res)} '
          f'per_kind={",".join(f"{r.kind}:{int(r.success)}" for r in res[:len(kinds)])} '
          f'run_ms={lat:.1f} wall_s={time.monotonic() - t0:.0f} ratio={succ / TARGET:.2f}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
