"""
Spoken commands: microphone audio -> VAD -> utterances -> recognizer -> verdict (ROS-free).

:class:`SpeechPipeline` is the whole chain in one call (benchmarks, tests); the
``speech_command`` node runs the same pieces split over two threads (segmentation in the audio
callback, :meth:`SpeechPipeline.hear` on a worker). A recognition below ``min_confidence`` or
with no words is refused: it is reported, never commanded.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum

import numpy as np
from vla_ros.core.speech.recognizer import Recognition, SpeechRecognizer
from vla_ros.core.speech.segmenter import SegmenterConfig, Utterance, UtteranceSegmenter
from vla_ros.core.speech.vad import SAMPLE_RATE_HZ, Vad
from vla_ros.core.sync.audio_ring import mix_down, resample_linear
from vla_ros.errors import ConfigError

DEFAULT_MIN_CONFIDENCE = 0.75   # agreement of the two command searches (bench speech)


class Refusal(str, Enum):
    NOTHING = 'nothing recognized'
    LOW_CONFIDENCE = 'confidence below threshold'


@dataclass(frozen=True)
class Heard:
    """One utterance's outcome: the words, confidence [0, 1], speech span [ns], verdict."""

    text: str
    confidence: float
    start_ns: int
    end_ns: int
    accepted: bool
    reason: str          # '' when accepted, else a :class:`Refusal` value with detail
    recognize_ms: float


def judge(utterance: Utterance, rec: Recognition, min_confidence: float) -> Heard:
    """Accept ``rec`` as a command when it has words and ``confidence >= min_confidence``."""
    if not rec.text:
        reason = Refusal.NOTHING.value
    elif rec.confidence < min_confidence:
        reason = f'{Refusal.LOW_CONFIDENCE.value} ({rec.confidence:.2f} < {min_confidence:.2f})'
    else:
        reason = ''
    return Heard(rec.text, rec.confidence, utterance.start_ns, utterance.end_ns, not reason,
                 reason, rec.recognize_ms)


def to_mono_16k(samples: np.ndarray, sample_rate: int) -> np.ndarray:
    """[n] or [n, channels] float audio at ``sample_rate`` [Hz] -> float32 [m] mono 16 kHz."""
    return resample_linear(mix_down(np.asarray(samples, np.float32)), int(sample_rate),
                           SAMPLE_RATE_HZ)


class SpeechPipeline:
    """VAD + segmenter + recognizer + confidence threshold, driven by :meth:`push`."""

    def __init__(self, vad: Vad, recognizer: SpeechRecognizer, *,
                 segmenter: SegmenterConfig = SegmenterConfig(),
                 min_confidence: float = DEFAULT_MIN_CONFIDENCE) -> None:
        if not 0.0 <= min_confidence <= 1.0:
            raise ConfigError(f'min_confidence must be in [0, 1], got {min_confidence}')
        self.segmenter = UtteranceSegmenter(vad, segmenter)
        self.recognizer = recognizer
        self.min_confidence = min_confidence

    def push(self, samples: np.ndarray, stamp_ns: int, sample_rate: int = SAMPLE_RATE_HZ
             ) -> list[Heard]:
        """Add one chunk ([n] or [n, ch], first sample at ``stamp_ns``); returns what ended."""
        utts = self.segmenter.push(to_mono_16k(samples, sample_rate), stamp_ns)
        return [self.hear(u) for u in utts]

    def flush(self) -> list[Heard]:
        """Recognize the utterance in progress, if any (end of a recording)."""
        u = self.segmenter.flush()
        return [] if u is None else [self.hear(u)]

    def hear(self, utterance: Utterance) -> Heard:
        """Recognize one utterance and judge it."""
        return judge(utterance, self.recognizer.recognize(utterance.samples),
                     self.min_confidence)
