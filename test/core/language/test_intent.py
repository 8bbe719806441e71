"""
IntentIdentifier: which task a command asks for, on the sim's task table (real WordNet files).

Word evidence alone (no encoder: quick), then the default bundle's text encoder blended in as
``vla_policy`` uses it (``command_tasks``).
"""

from __future__ import annotations

import pathlib

import pytest
from vla_ros.core.bundle.competence import REFUSAL_PREFIX
from vla_ros.core.language import IntentIdentifier, open_intent, TaskTable, WordNet
from vla_ros.errors import ConfigError
from vla_ros.sim.task_suite import COLOURS, task_table, TRAIN_PHRASES

ROOT = pathlib.Path(__file__).resolve().parents[3]
DEFAULT_BUNDLE = ROOT / 'models' / 'default'


@pytest.fixture(scope='module')
def wordnet():
    wn = WordNet()
    yield wn
    wn.close()


@pytest.fixture(scope='module')
def lexical(wordnet):
    return IntentIdentifier(task_table(), None, lexicon=wordnet, lexical_weight=1.0)


def test_every_training_phrasing_maps_to_its_own_task_and_colour(lexical):
    for kind, templates in TRAIN_PHRASES.items():
        for t in templates:
            for c in COLOURS:
                it = lexical.identify(t.format(c=c))
                assert it.understood and (it.task, it.colour) == (kind.value, c), (t, it)
                assert it.canonical == templates[0].format(c=c)
                # the canonical instruction is identified as itself
                assert lexical.identify(it.canonical).canonical == it.canonical


@pytest.mark.parametrize('text, task, colour', [
    ('please hoist the crimson brick', 'pick', 'red'),
    ('the navy box, would you kindly shove it to the left', 'push_left', 'blue'),
    ('could you nudge the jade cuboid to the right', 'push_right', 'green'),
    ('carefully elevate the scarlet brick', 'gentle', 'red'),
    ('seize the azure box and lift it', 'pick', 'blue'),
    ('the emerald cuboid, please clasp it until the beep, then let go', 'beep', 'green'),
    ('Raised the RED cube!', 'pick', 'red'),   # inflection and case
])
def test_unseen_synonyms_reach_the_task_they_name(lexical, text, task, colour):
    it = lexical.identify(text)
    assert it.understood, it.reason
    assert (it.task, it.colour) == (task, colour)


@pytest.mark.parametrize('text, why', [
    ('push the red cube', 'names none of left, right'),      # left or right?
    ('prod the green block', 'push_'),   # WordNet: prod = push gently: which way?
    ('push the blue cube left and right', 'more than one of left, right (left, right)'),
    ('make me a sandwich', 'names no colour'),
    ('pick up the purple cube', 'names no colour'),
    ('lift the red cube and push the blue cube left', 'more than one colour'),
    ('dance with the green cube', 'no task of mine is to "dance"'),
    ('the red cube', 'no task matches'),
])
def test_ambiguous_and_nonsense_commands_are_refused_with_the_reason(lexical, text, why):
    it = lexical.identify(text)
    assert not it.understood and not it.task and not it.canonical
    assert it.reason.startswith(REFUSAL_PREFIX) and why in it.reason, it.reason


@pytest.mark.parametrize('text, task, colour', [
    ('push the red cube left', 'push_left', 'red'),
    ('push it right, the red cube', 'push_right', 'red'),
    ('shove the blue block to the right', 'push_right', 'blue'),
    ('push the green cube to starboard', 'push_right', 'green'),   # WordNet: similar to right
    ('pick up the blue cube', 'pick', 'blue'),
    ('lift the blue cube, but gently', 'gentle', 'blue'),
    ('lift the red cube and drop it at the beep', 'beep', 'red'),
    ('lift the red cube and drop it when I say now', 'keyword', 'red'),
    ('move the green cube to the left', 'push_left', 'green'),   # 'move': above push, slide
    ('lift the blue cube with care', 'gentle', 'blue'),           # care -> carefully
    ('slide the red box rightwards', 'push_right', 'red'),
    # keyword is pick + release at the word: 'grab' (a pick word) is how keyword starts
    ('grab the green cube, wait for the word now, then drop it', 'keyword', 'green'),
])
def test_near_misses_get_their_own_task_direction_and_colour(lexical, text, task, colour):
    it = lexical.identify(text)
    assert it.understood, it.reason
    assert (it.task, it.colour) == (task, colour)


@pytest.mark.parametrize('text, why', [
    ('do not push the red cube left', 'it says "not"'),
    ("don't lift the blue cube", 'it says "don\'t"'),
    ('never touch the green cube', 'it says "never"'),
    ('lift the red cube and push it left', 'but "lift"'),
    ('pick up the red cube and touch it', 'but "pick"'),
    ('grab the green cube and push it to the right', 'but "grab"'),
    # 'correct' is 'right' only in the sense 'no error', not the direction (no antonym left)
    ('push the red cube to the correct place', 'no task of mine is to "correct place"'),
    ('rotate the red cube left', 'no task of mine is to "rotate"'),   # not push_left
    ('move the red cube', 'no task matches'),     # 'move' is above push, lift, ...: names none
    ('lift the red cube to the left', 'but "lift"'),
    ('grasp the red cube and lift it up', 'names none of carefully, gently, softly'),  # gentle?
    ('now lift the green cube', 'reads as keyword but names none of say, word'),
    ('clean the red cube', 'command not understood'),   # pick as in cleaning a chicken
    ('open your hand over the green cube', 'no task of mine is to "open"'),
    ('kick the green cube left', 'but "kick" is not how push_left goes'),
    ('pick up the red cube and drop it', 'reads as beep but names none of beep'),
    ('hold the blue cube', 'names none of beep'),
    ('pick up the red cube and drop it when I say go', 'reads as keyword but names none of now'),
])
def test_a_negation_two_tasks_or_a_task_without_its_cue_is_refused(lexical, text, why):
    it = lexical.identify(text)
    assert not it.understood and not it.task, it
    assert it.reason.startswith(REFUSAL_PREFIX) and why in it.reason, it.reason


def test_the_words_that_set_tasks_apart_come_from_the_table():
    table = task_table()
    assert table.parameter_groups() == (frozenset({'left', 'right'}),)   # not touch / lift
    assert table.defining_words('beep') == [{'beep'}]
    assert table.defining_words('keyword') == [{'now'}, {'say', 'word'}]   # 'now lift it': no
    assert table.defining_words('pick') == []
    assert table.modifiers('gentle') == {'gently', 'carefully'}   # pick + a manner
    assert table.contains('keyword', 'pick') and not table.contains('pick', 'keyword')
    assert table.phrasal(lambda p: p in ('pick up', 'let go')) == {
        'pick': 'pick up', 'let': 'let go', 'go': 'let go'}
    assert table.needs('push_left', frozenset({'left', 'right'}))
    assert not table.needs('pick', frozenset({'left', 'right'}))


def test_without_a_lexicon_unseen_words_are_refused_not_guessed():
    plain = IntentIdentifier(task_table(), None, lexical_weight=1.0)
    assert plain.identify('lift the red cube').task == 'pick'
    assert not plain.identify('hoist the red cube').understood   # no evidence for any task
    assert not plain.identify('lift the crimson cube').understood  # colour unknown


def test_a_bad_task_table_is_a_config_error(tmp_path):
    with pytest.raises(ConfigError, match='exactly one'):
        TaskTable({'pick': ('pick up the cube',)}, ('red',))
    bad = tmp_path / 'tasks.yaml'
    bad.write_text('tasks: [a, b]\n')
    with pytest.raises(ConfigError, match=str(bad)):
        open_intent(str(bad), encoder=None, competence=None, min_score=0.45, margin=0.06)
    assert open_intent('', encoder=None, competence=None, min_score=0.45, margin=0.06) is None


@pytest.mark.skipif(not (DEFAULT_BUNDLE / 'bundle.yaml').exists(), reason='no models/default')
def test_with_the_bundle_encoder_an_unmapped_word_counts_by_its_meaning():
    from vla_ros.core.bundle.manifest import load_bundle
    from vla_ros.core.runtime.policy_runtime import open_language
    enc, comp = open_language(load_bundle(DEFAULT_BUNDLE), ['CPUExecutionProvider'])
    ident = open_intent(str(ROOT / 'config' / 'command_tasks.yaml'), encoder=enc,
                        competence=comp, lexicon_dir='/usr/share/wordnet', min_score=0.45,
                        margin=0.06)
    # WordNet has no path from 'delicately' to a training word; the encoder puts it near
    # softly / gently: the gentle task, not a plain pick (which would squeeze too hard)
    it = ident.identify('delicately pick up the red block')
    assert (it.understood, it.task, it.colour) == (True, 'gentle', 'red'), it
    assert ident.identify('please hoist the crimson brick').canonical == 'pick up the red cube'
    assert not ident.identify('make me a sandwich').understood
