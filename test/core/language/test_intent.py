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
    ('push the red cube', 'it could be push_'),              # left or right?
    ('prod the green block', 'push_'),           # WordNet: prod = push (gently), which way?
    ('push the blue cube left and right', 'it could be push_'),
    ('make me a sandwich', 'names no colour'),
    ('pick up the purple cube', 'names no colour'),
    ('lift the red cube and push the blue cube left', 'more than one colour'),
    ('dance with the green cube', 'no task matches'),
    ('the red cube', 'no task matches'),
])
def test_ambiguous_and_nonsense_commands_are_refused_with_the_reason(lexical, text, why):
    it = lexical.identify(text)
    assert not it.understood and not it.task and not it.canonical
    assert it.reason.startswith(REFUSAL_PREFIX) and why in it.reason, it.reason


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
