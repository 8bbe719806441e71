"""Spoken commands: voice activity detection, utterance segmentation, offline recognition."""

from __future__ import annotations

from vla_ros.core.speech.pipeline import (DEFAULT_MIN_CONFIDENCE, Heard, judge, Refusal,
                                          SpeechPipeline, to_mono_16k)
from vla_ros.core.speech.recognizer import (agreement, Recognition, RecognizerKind,
                                            SpeechRecognizer, word_errors, words)
from vla_ros.core.speech.segmenter import SegmenterConfig, Utterance, UtteranceSegmenter
from vla_ros.core.speech.vad import (make_vad, SAMPLE_RATE_HZ, SileroVad, Vad, VadKind,
                                     WebRtcVad)
from vla_ros.core.speech.vocabulary import (CommandVocabulary, intent_meaning,
                                            lexicon_vocabulary, polite_frames)

__all__ = [
    'CommandVocabulary',
    'DEFAULT_MIN_CONFIDENCE',
    'Heard',
    'Recognition',
    'RecognizerKind',
    'Refusal',
    'SAMPLE_RATE_HZ',
    'SegmenterConfig',
    'SileroVad',
    'SpeechPipeline',
    'SpeechRecognizer',
    'Utterance',
    'UtteranceSegmenter',
    'Vad',
    'VadKind',
    'WebRtcVad',
    'agreement',
    'intent_meaning',
    'judge',
    'lexicon_vocabulary',
    'make_vad',
    'polite_frames',
    'to_mono_16k',
    'word_errors',
    'words',
]
