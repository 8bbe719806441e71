"""
The shipped default bundle still solves fresh episodes through the real nodes.

`mujoco_sim` + `vla_policy` processes over DDS, the shipped config/sim.yaml (+ the bundle's
recording overrides), `models/default`: two episodes per task kind, one with a training
phrasing and one with words no training phrasing contains. A regression in the node, the
scheduler, the safety filter or the weights that costs more than a few episodes fails here.
The seeds are a range of the dev block reserved for this test.
"""

from __future__ import annotations

import pytest

pytestmark = [pytest.mark.ros, pytest.mark.slow, pytest.mark.timeout(300)]
CI_OFFSET = 19_000        # dev-block seeds 219000.. are this test's
# "most of them": more than half of 12. The default solves 95 % on the test block; this test
# saw 11/12 alone and 8/12 inside a full CI run on the shared 2-core machine (three "never
# reached the cube" under load); a broken node or broken weights solve almost none.
MIN_SOLVED = 7


def test_default_bundle_solves_most_fresh_episodes_through_the_nodes(repo_root, tmp_path):
    from vla_ros.sim.language import held_out_word_task
    from vla_ros.sim.task_suite import block_seed, make_task
    from vla_ros.eval.episode import run_episodes
    from vla_ros.eval.kinds import trained_kinds
    kinds = trained_kinds(repo_root / 'models' / 'default')
    seeds = [block_seed('dev', CI_OFFSET + i) for i in range(len(kinds))]
    tasks = [make_task(k, s) for k, s in zip(kinds, seeds)]
    tasks += [held_out_word_task(k, s) for k, s in zip(kinds, seeds)]
    res = run_episodes(repo_root / 'models' / 'default', tasks, seeds * 2,
                       log_dir=tmp_path)
    solved = sum(r.success for r in res)
    table = '\n'.join(f'{r.task:<16} {r.command!r:<52} {r.success} {r.reason}' for r in res)
    print(f'{solved}/{len(res)} solved\n{table}')
    assert solved >= MIN_SOLVED, f'{solved}/{len(res)} solved:\n{table}'
