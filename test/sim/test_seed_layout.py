"""Seeds of evaluation episodes: adding a task kind moves no other kind's seeds."""

from vla_ros.sim.eval_sets import eval_tasks
from vla_ros.sim.task_suite import (block_seed, CORE_KINDS, episode_seed, KIND_SEED_REGION,
                                    SEED_BLOCKS, TaskKind)


def test_core_kinds_keep_the_interleaved_layout_of_every_committed_result():
    # the layout bench eval / latency / regime map / make eval used with six kinds
    for offset in (0, 5_000, 10_000):
        for i in range(3):
            for j, kind in enumerate(CORE_KINDS):
                want = block_seed('dev', offset + 6 * i + j)
                assert episode_seed('dev', offset, i, kind) == want
    assert [k.value for k in CORE_KINDS] == [k.value for k in TaskKind][:6]


def test_a_later_kind_draws_from_a_region_of_its_own():
    later = [k for k in TaskKind if k not in CORE_KINDS]
    assert later, 'the keyword task is a later kind'
    core = {episode_seed('test', 0, i, k) for i in range(1000) for k in CORE_KINDS}
    for n, kind in enumerate(later, start=1):
        own = [episode_seed('test', 0, i, kind) for i in range(1000)]
        assert own[0] == SEED_BLOCKS['test'].start + n * KIND_SEED_REGION
        assert len(set(own)) == len(own) and not set(own) & core
        assert set(own) <= set(SEED_BLOCKS['test'])


def test_eval_sets_do_not_depend_on_the_kinds_asked_for():
    alone = eval_tasks(3, ['pick'], block='dev', seed_offset=100)
    together = eval_tasks(3, None, block='dev', seed_offset=100)
    assert [s for _, s in alone] == [s for t, s in together if t.kind is TaskKind.PICK]
    assert {t.kind for t, _ in together} == set(TaskKind)
