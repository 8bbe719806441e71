"""
``python -m vla_ros.cli.sim_rollout BUNDLE``: lockstep rollouts of a bundle, no ROS (diagnostic).

Runs :func:`vla_ros.eval.sim_rollout.rollout` (the node's sync core and PolicyLoop against
SimWorld in lockstep) on held-out seeds of every task kind and prints one line per episode and
the success rate. A maintainer tool, not a ``vla-ros`` subcommand.
"""

from __future__ import annotations

import sys

import numpy as np
from vla_ros.cli.common import ArgumentParser
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.eval.kinds import trained_kinds
from vla_ros.eval.sim_rollout import rollout, SIM_CONFIG
from vla_ros.harness.sim_config import bundle_sim_params, lockstep_setup
from vla_ros.sim.task_suite import EVAL_SEED_BASE, make_task, TaskKind
from vla_ros.sim.world import SimWorld


def main(argv: list[str] | None = None) -> int:
    p = ArgumentParser(prog='python -m vla_ros.cli.sim_rollout',
                       description=__doc__.strip().splitlines()[0])
    p.add_argument('bundle', help='policy bundle directory')
    p.add_argument('--episodes', type=int, default=2, help='episodes per task kind')
    p.add_argument('--kinds', default='trained',
                   help="comma-separated task kinds, 'all', or 'trained' (the bundle's)")
    p.add_argument('--mask', action='append', default=[], help='modality to mask (repeat)')
    p.add_argument('--latency', type=float, default=0.0, help='simulated inference time [s]')
    p.add_argument('--config', default=str(SIM_CONFIG), help='params file of vla_policy')
    a = p.parse_args(argv)
    rt = PolicyRuntime.from_bundle(a.bundle)
    # the sim as eval runs it for this bundle: config + provenance.recorded_with, printed
    sim = bundle_sim_params(rt.manifest.provenance, params_file=a.config)
    print(f'parameters: {sim.describe()}', flush=True)
    world_config, rates = lockstep_setup(sim)
    world = SimWorld(world_config)
    kinds = (trained_kinds(a.bundle) if a.kinds == 'trained' else
             [k.value for k in TaskKind] if a.kinds == 'all' else a.kinds.split(','))
    ok = n = 0
    for i in range(a.episodes):
        for j, kind in enumerate(kinds):
            seed = EVAL_SEED_BASE + 3000 + i * 6 + j
            task = make_task(kind, seed, held_out=i % 2 == 1)
            m = rollout(world, rt, task, seed, rates=rates, mask=a.mask,
                        config_file=a.config, latency_s=a.latency)
            ok += m.success
            n += 1
            print(f'{"OK  " if m.success else "FAIL"} {task.name:18s} {task.command!r}: '
                  f'{m.reason} [{m.last_time:.1f} s]', flush=True)
    print(f'success {ok}/{n} ({np.mean([ok / max(n, 1)]) * 100:.0f} %)')
    return 0


if __name__ == '__main__':
    sys.exit(main())
