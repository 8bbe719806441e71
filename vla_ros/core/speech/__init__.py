"""Spoken commands: voice activity detection, utterance segmentation, offline recognition."""

from __future__ import annotations

from vla_ros.core.speech.pipeline import (DEFAULT_MIN_CONFIDENCE, Heard, judge, Refusal,
                                          SpeechPipeline, to_mono_16k)
from vla_ros.core.speech.recognizer import (agreement, Recognition, RecognizerKind,
                                            SpeechRecognizer, word_errors, words)
from vla_ros.core.speech.segmenter import SegmenterConfig, Utterance, UtteranceSegmenter
from vla_ros.core.speech.vad import (make_vad, SAMPLE_RATE_HZ, SileroVad, Vad, VadKind,
                                     WebRtcVad)

__all__ = [
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
    'judge',
    'make_vad',
    'to_mono_16k',
    'word_errors',
    'words',
]
