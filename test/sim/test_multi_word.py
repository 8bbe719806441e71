"""The multi-word held-out rule: several unseen words at once, reproducible per seed."""

from __future__ import annotations

import pathlib

from vla_ros.core.language import load_task_table
from vla_ros.sim.eval_sets import eval_tasks
from vla_ros.sim.language import (HELD_OUT_WORDS, MULTI_WORD, multi_word_task, STOP_WORDS,
                                  training_vocabulary, words)
from vla_ros.sim.task_suite import block_seed, make_task, task_table, TaskKind

ROOT = pathlib.Path(__file__).resolve().parents[2]
SEEDS = [block_seed('dev', i) for i in range(60)]


def test_multi_word_commands_combine_held_out_words_never_trained_on():
    train = training_vocabulary()
    assert not HELD_OUT_WORDS & train
    for seed in SEEDS:
        for kind in TaskKind:
            t = multi_word_task(kind, seed)
            ws = set(words(t.command))
            assert ws <= train | STOP_WORDS | HELD_OUT_WORDS, t.command
            # a verb, a noun and a colour synonym plus a polite word: >= 4 unseen words
            assert len(ws & HELD_OUT_WORDS) >= 4, t.command
            assert (t.held_out, t.variant) == (True, MULTI_WORD)
            base = make_task(kind, seed)   # same world: kind, colour and time limit
            assert (t.kind, t.colour, t.timeout_s) == (base.kind, base.colour, base.timeout_s)


def test_multi_word_commands_are_reproducible_and_varied():
    a = [multi_word_task('pick', s).command for s in SEEDS]
    assert a == [multi_word_task('pick', s).command for s in SEEDS]
    assert len(set(a)) > 20
    assert any(c.startswith('the ') and ', ' in c for c in a)     # object first, some
    assert any(not c.startswith('the ') for c in a)


def test_eval_sets_offer_multi_word():
    tasks = eval_tasks(2, ['pick', 'touch'], language='multi_word')
    held = [t for t, _ in tasks if t.held_out]
    assert held and all(t.variant == MULTI_WORD for t in held)


def test_the_shipped_task_table_is_the_training_phrasings():
    assert load_task_table(ROOT / 'config' / 'command_tasks.yaml') == task_table()
