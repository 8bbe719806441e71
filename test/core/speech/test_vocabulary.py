"""The recognizer's vocabulary widened by the intent lexicon (WordNet), on real audio."""

from __future__ import annotations

import numpy as np
import pytest
from vla_ros.core.language import IntentIdentifier, WordNet
from vla_ros.core.speech import (DEFAULT_MIN_CONFIDENCE, intent_meaning, lexicon_vocabulary,
                                 make_vad, polite_frames, SpeechPipeline, SpeechRecognizer)
from vla_ros.sim.audio import MicConfig, MicrophoneSynth
from vla_ros.sim.task_suite import COLOURS, task_table, TRAIN_PHRASES

CHUNK = 320      # 20 ms at 16 kHz, as the sim publishes
NS = 1_000_000_000


@pytest.fixture(scope='module')
def vocab():
    return lexicon_vocabulary(task_table(), WordNet())


@pytest.fixture(scope='module')
def meaning():
    return intent_meaning(IntentIdentifier(task_table(), None, lexicon=WordNet(),
                                           lexical_weight=1.0))


@pytest.fixture(scope='module')
def recognizer(vocab, meaning) -> SpeechRecognizer:
    """As speech_command runs with command_tasks: the lexicon vocabulary, meaning agreement."""
    return SpeechRecognizer('commands+grammar', vocabulary=vocab, meaning=meaning)


def hear(recognizer: SpeechRecognizer, say: str, *, seconds: float = 4.5):
    """Feed the sim microphone (noise + ``say`` at 0.5 s) through VAD and ``recognizer``."""
    pipe = SpeechPipeline(make_vad('silero'), recognizer)
    syn = MicrophoneSynth(MicConfig(), seed=3)
    heard = []
    for i in range(int(seconds * 50)):
        if i == 25 and say:
            syn.say(say)
        heard += pipe.push(syn.synthesize(CHUNK, 0.0, 0.0), i * CHUNK * NS // 16000)
    return heard + pipe.flush()


def test_every_training_phrasing_is_in_the_language_model(vocab):
    sentences = set(vocab.sentences())
    for ps in TRAIN_PHRASES.values():
        for p in ps:
            for c in COLOURS:
                assert ' '.join(p.format(c=c).replace(',', ' ').lower().split()) in sentences


def test_widened_words_are_words_the_intent_layer_places(vocab):
    """Each added word maps back to a training word (colours: to that colour); objects stay."""
    table = task_table()
    ident = IntentIdentifier(table, None, lexicon=WordNet(), lexical_weight=1.0)
    for slot in vocab.slots.values():
        assert slot.alternatives[0] == slot.words
        for w in slot.alternatives[1:]:
            assert ident.rewrite([w])[0] in ident.content, (slot.words, w)
    for colour, ws in vocab.colours.items():
        assert ws[0] == colour and len(ws) > 3
        assert all(ident.colour_of([w])[1] == {colour} for w in ws), colour
    assert vocab.objects == table.objects
    assert {'raise', 'hoist'} <= set(vocab.slots['lift'].alternatives)
    assert 'scarlet' in vocab.colours['red'] and 'azure' in vocab.colours['blue']
    assert 'could you {}' in polite_frames()


def test_without_a_lexicon_only_the_tables_words_and_frames():
    vocab = lexicon_vocabulary(task_table(), None)
    frame_words = {w for f in polite_frames() for w in f.format('').split()}
    assert vocab.vocabulary() == task_table().vocabulary() | frame_words
    assert 'the {c} {obj} {lift} it' in vocab.templates   # the object first


def test_an_utterance_of_held_out_words_is_heard(recognizer):
    """Unseen verb and colour (neither in any training phrasing) come through as said."""
    heard = hear(recognizer, 'hoist the scarlet cube')
    assert len(heard) == 1 and heard[0].accepted, heard
    assert heard[0].text == 'hoist the scarlet cube'


def test_decodes_that_differ_in_words_but_ask_the_same_agree(vocab, recognizer, meaning):
    """
    Two decodes that differ in words but ask the same task agree (meaning agreement).

    The LM once heard 'could you' as 'cull the', refused without meaning agreement; 'cull' has
    left the vocabulary since (WordNet's pick / pluck / cull is not 'pick up', the intent
    layer's phrasal rule), so the words may agree now.
    """
    words_only = SpeechRecognizer('commands+grammar', vocabulary=vocab)
    said = 'could you lift the red cube'
    plain = hear(words_only, said)
    assert len(plain) == 1
    assert (plain[0].text == said) if plain[0].accepted else plain[0].confidence < 0.75
    heard = hear(recognizer, said)
    assert len(heard) == 1 and heard[0].accepted and heard[0].confidence == 1.0
    assert meaning(heard[0].text) == ('pick', 'red')


def test_other_speech_and_noise_stay_refused(recognizer):
    assert hear(recognizer, '', seconds=2.0) == []
    for said in ('what a lovely day it is today', 'the meeting starts at nine',
                 'turn on the radio'):
        heard = hear(recognizer, said)
        assert heard and not any(h.accepted for h in heard), said


def test_noise_straight_into_the_recognizer_is_no_command(recognizer):
    """Past the VAD too: the wider vocabulary decodes noise and hum to nothing confident."""
    syn = MicrophoneSynth(MicConfig(), seed=5)
    for speed in (0.0, 0.8):     # ambient noise; with the arm's motor hum
        noise = np.concatenate([syn.synthesize(CHUNK, speed, 0.0) for _ in range(100)])
        got = recognizer.recognize(noise)
        assert got.confidence < DEFAULT_MIN_CONFIDENCE, (speed, got)
        # no posterior pass: it took ~9 s CPU on these 2 s of noise (0.25 s without)
        assert got.cpu_ms < 3000, got
