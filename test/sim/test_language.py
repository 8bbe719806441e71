"""Held-out command language by rule: no held-out word in any training phrasing."""

import pytest
from vla_ros.errors import ConfigError
from vla_ros.sim.eval_sets import eval_tasks
from vla_ros.sim.language import (
    held_out_word_commands,
    held_out_word_task,
    HELD_OUT_WORDS,
    STOP_WORDS,
    training_vocabulary,
    VARIANTS,
    words,
)
from vla_ros.sim.task_suite import (all_phrases, COLOURS, HELD_OUT_PHRASES, make_task, TaskKind,
                                    TRAIN_PHRASES)


def test_no_held_out_word_appears_in_any_training_phrasing():
    train = training_vocabulary()
    assert 'cube' in train and 'lift' in train and 'red' in train
    assert not HELD_OUT_WORDS & train
    assert not HELD_OUT_WORDS & STOP_WORDS
    for ps in TRAIN_PHRASES.values():          # the same, phrase by phrase
        for p in ps:
            for c in COLOURS:
                assert not set(words(p.format(c=c))) & HELD_OUT_WORDS, p
    assert len(STOP_WORDS) <= 12               # the exemption stays a short list


def test_every_command_is_new_and_uses_only_listed_words():
    train, seen = training_vocabulary(), set(all_phrases())
    for kind in TaskKind:
        for colour in COLOURS:
            cmds = held_out_word_commands(kind, colour)
            assert {v for _, v in cmds} == set(VARIANTS), (kind, colour)
            for text, variant in cmds:
                ws = set(words(text))
                assert text not in seen, text
                assert ws <= train | STOP_WORDS | HELD_OUT_WORDS, text
                if variant == 'reorder':
                    assert ws - STOP_WORDS <= train, text   # order changes, words do not
                else:
                    assert ws & HELD_OUT_WORDS, text
                if variant != 'colour':
                    assert colour in ws, text
                else:
                    assert not ws & set(COLOURS), text


def test_examples_of_each_rule():
    cmds = dict(held_out_word_commands('pick', 'red'))
    assert cmds['pick up the crimson cube'] == 'colour'
    assert cmds['lift the red cuboid'] == 'noun'
    assert cmds['hoist the red cube'] == 'verb'
    assert cmds['elevate the red cube'] == 'verb'
    assert cmds['could you lift the red cube'] == 'polite'
    assert cmds['the red block, pick it up'] == 'reorder'
    assert ('shove the blue cube left', 'verb') in held_out_word_commands('push_left', 'blue')


def test_held_out_word_task_is_seeded_and_keeps_the_target():
    for kind in TaskKind:
        for seed in range(200_000, 200_012):
            t = held_out_word_task(kind, seed)
            assert t == held_out_word_task(kind, seed)
            base = make_task(kind, seed)
            assert t.colour == base.colour and t.kind is base.kind
            assert t.timeout_s == base.timeout_s and t.held_out and t.variant in VARIANTS
    assert held_out_word_task('touch', 7, variant='polite').variant == 'polite'
    with pytest.raises(ValueError, match='variant'):
        held_out_word_task('touch', 7, variant='slang')


def test_eval_tasks_with_held_out_words():
    ts = eval_tasks(4, language='held_out_words')
    held = [t for t, _ in ts if t.held_out]
    assert len(held) == 2 * len(TaskKind) and all(t.variant in VARIANTS for t in held)
    assert all(set(words(t.command)) & HELD_OUT_WORDS or t.variant == 'reorder' for t in held)
    para = eval_tasks(4)                       # same seeds, the paraphrase set
    assert [s for _, s in para] == [s for _, s in ts]
    assert all(t.command in [p.format(c=t.colour) for p in HELD_OUT_PHRASES[t.kind]]
               for t, _ in para if t.held_out)
    with pytest.raises(ConfigError, match='language'):
        eval_tasks(1, language='klingon')
