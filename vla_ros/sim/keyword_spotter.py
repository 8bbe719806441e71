"""
A keyword spotter on the microphone stream: log-mel template matching (numpy; ROS-free).

The scripted expert of the hearing tasks (:mod:`vla_ros.sim.hearing_tasks`) listens with it to
the same mono stream the policy gets (``/audio/chunk``). The sim speaks with one espeak-ng
voice, so a template of the keyword in that voice, matched by Pearson correlation of log-mel
patches, separates it from the distractor words, the motor hum, clicks and beeps (the margins
are in ``test/sim/test_hearing_tasks.py``). A different voice would need other templates or a
recognizer (:mod:`vla_ros.core.speech`).
"""

from __future__ import annotations

from collections import deque

import numpy as np
from vla_ros.core.features.audio import log_mel, MelConfig
from vla_ros.errors import ConfigError
from vla_ros.sim.audio import speak

MATCH_THRESHOLD = 0.75     # Pearson correlation of a log-mel patch with the template
TEMPLATE_DB_RANGE = 40.0   # template frames within this of the loudest frame [dB]
MIN_SPEECH_DB = 10.0       # a matched patch must be this much louder than the noise floor [dB]
CHECK_EVERY_S = 0.05       # correlate after this much new audio [s]


def _mel_config(sample_rate: int) -> MelConfig:
    """Return 10 ms hops, 32 mel bands: fine enough in time for one short word."""
    hop = sample_rate // 100
    return MelConfig(sample_rate=sample_rate, window_s=1.0, n_fft=4 * hop, hop_length=hop,
                     n_mels=32, fmax=min(8000.0, sample_rate / 2))


def _patches(mel: np.ndarray, width: int) -> np.ndarray:
    """Return every ``width``-frame patch of ``mel`` [n_mels, T], flattened: [T-width+1, n]."""
    win = np.lib.stride_tricks.sliding_window_view(mel, width, axis=1)  # mels x P x width
    return win.transpose(1, 0, 2).reshape(win.shape[1], -1)


def _zscore(x: np.ndarray) -> np.ndarray:
    x = x - x.mean(axis=-1, keepdims=True)
    return x / np.maximum(np.linalg.norm(x, axis=-1, keepdims=True), 1e-9)


class KeywordSpotter:
    """
    Spots one keyword in consecutive microphone chunks.

    :meth:`feed` says whether the keyword is in the last ~0.5 s (re-checked every
    :data:`CHECK_EVERY_S`; the caller latches what it needs).

    :param keyword: the word (espeak-ng speaks the template once, at construction).
    :param sample_rate: of the fed audio [Hz].
    :param threshold: minimum correlation of a patch with the template (0..1).
    """

    def __init__(self, keyword: str, sample_rate: int, *,
                 threshold: float = MATCH_THRESHOLD) -> None:
        if not 0.0 < threshold < 1.0:
            raise ConfigError(f'threshold must be in (0, 1), got {threshold!r}')
        self.keyword, self.threshold = keyword, threshold
        self.cfg = _mel_config(sample_rate)
        mel = self._mel(speak(keyword, sample_rate))
        loud = mel.mean(axis=0)
        keep = np.where(loud >= loud.max() - TEMPLATE_DB_RANGE / 10 * np.log(10))[0]
        self.template = mel[:, keep[0]:keep[-1] + 1]                  # n_mels x W
        self._t = _zscore(self.template.reshape(1, -1))[0]
        self.width = self.template.shape[1]
        self.keep = int((self.width + 8) * self.cfg.hop_length + self.cfg.n_fft)
        self.buffer: deque[np.ndarray] = deque()
        self.buffered = self.since_check = 0
        self.heard = False  # the last check's verdict
        self.best = -1.0   # highest correlation so far (diagnostics)

    @property
    def template_s(self) -> float:
        """Return the keyword's length in the template [s]."""
        return self.width * self.cfg.hop_length / self.cfg.sample_rate

    def _mel(self, samples: np.ndarray) -> np.ndarray:
        cfg = MelConfig(**{**self.cfg.to_dict(),
                           'window_s': max(len(samples), self.cfg.n_fft) / self.cfg.sample_rate})
        return log_mel(samples, cfg)

    def reset(self) -> None:
        self.buffer.clear()
        self.buffered = self.since_check = 0
        self.heard, self.best = False, -1.0

    def feed(self, samples: np.ndarray) -> bool:
        """Add mono float32 samples [n]; return True while the keyword is in the buffer."""
        x = np.asarray(samples, np.float32).reshape(-1)
        self.buffer.append(x)
        self.buffered += x.size
        self.since_check += x.size
        while self.buffered - self.buffer[0].size >= self.keep:
            self.buffered -= self.buffer.popleft().size
        if self.since_check >= CHECK_EVERY_S * self.cfg.sample_rate:
            self.since_check = 0
            self.heard = self.score(np.concatenate(self.buffer)) >= self.threshold
        return self.heard

    def score(self, audio: np.ndarray) -> float:
        """Return the best template correlation over ``audio`` [n] (-1 when too short/quiet)."""
        if audio.size < self.keep // 2:
            return -1.0
        mel = self._mel(audio)
        if mel.shape[1] < self.width:
            return -1.0
        p = _patches(mel, self.width)
        floor = np.percentile(mel, 10)
        loud = p.mean(axis=1) >= floor + MIN_SPEECH_DB / 10 * np.log(10)
        if not loud.any():
            return -1.0
        best = float((_zscore(p[loud]) @ self._t).max())
        self.best = max(self.best, best)
        return best
