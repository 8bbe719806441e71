"""
Utterance segmentation: stamped audio chunks -> VAD frames -> utterances (ROS-free).

An utterance starts after ``start_s`` of speech frames in a row (its audio keeps
``pre_roll_s`` before that) and ends after ``hangover_s`` of non-speech; shorter than
``min_speech_s`` of speech (a click, a beep) it is dropped, longer than ``max_utterance_s`` it
is cut and emitted. Times are the stamps of the chunks' first samples carried through
(nanoseconds on the microphone's clock); the reported span runs from the first to the end of
the last speech frame.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass

import numpy as np
from vla_ros.core.speech.vad import SAMPLE_RATE_HZ, Vad
from vla_ros.errors import ConfigError

NS = 1_000_000_000


@dataclass(frozen=True)
class SegmenterConfig:
    threshold: float = 0.5         # P(speech) at or above it: a speech frame
    start_s: float = 0.09          # speech this long in a row starts an utterance [s]
    hangover_s: float = 0.45       # non-speech this long ends it [s]
    pre_roll_s: float = 0.2        # audio kept before the start [s]
    min_speech_s: float = 0.35     # shorter speech spans are dropped [s]
    max_utterance_s: float = 8.0   # longer ones are cut and emitted [s]

    def __post_init__(self) -> None:
        if not 0.0 < self.threshold < 1.0:
            raise ConfigError(f'vad threshold must be in (0, 1), got {self.threshold}')
        bad = {k: v for k, v in vars(self).items() if k != 'threshold' and v < 0}
        if bad:
            raise ConfigError(f'segmenter durations must be >= 0 s, got {bad}')
        if self.max_utterance_s <= self.min_speech_s:
            raise ConfigError(f'max_utterance_s {self.max_utterance_s} must exceed '
                              f'min_speech_s {self.min_speech_s}')


@dataclass(frozen=True)
class Utterance:
    """One segment: float32 [n] audio at 16 kHz (pre-roll and hangover included), span [ns]."""

    samples: np.ndarray
    start_ns: int        # first speech frame
    end_ns: int          # end of the last speech frame
    cut: bool = False    # True: ended by max_utterance_s, not by silence

    @property
    def speech_s(self) -> float:
        return (self.end_ns - self.start_ns) / NS


class UtteranceSegmenter:
    """Feeds a :class:`~vla_ros.core.speech.vad.Vad` frame by frame; call :meth:`push`."""

    def __init__(self, vad: Vad, config: SegmenterConfig = SegmenterConfig()) -> None:
        self.vad, self.config = vad, config
        self.frame = vad.frame_samples
        self.frame_ns = self.frame * NS // SAMPLE_RATE_HZ
        frame_s = self.frame / SAMPLE_RATE_HZ

        def frames(s: float) -> int:
            return max(1, int(np.ceil(s / frame_s - 1e-9)))

        self._start_n, self._hang_n = frames(config.start_s), frames(config.hangover_s)
        self._pre_n = int(round(config.pre_roll_s / frame_s))
        self._max_n = frames(config.max_utterance_s)
        self.reset()

    def reset(self) -> None:
        """Forget all audio and state (the VAD's too)."""
        self.vad.reset()
        self._pending = np.zeros(0, np.float32)
        self._pending_ns: int | None = None
        self._idle: deque[tuple[np.ndarray, int, bool]] = deque(
            maxlen=self._pre_n + self._start_n)
        self._run = 0                  # speech frames in a row while idle
        self._active: list[np.ndarray] | None = None
        self._start_ns = self._last_end_ns = 0
        self._silence = 0
        self.frames_seen = 0

    @property
    def in_speech(self) -> bool:
        return self._active is not None

    def push(self, samples: np.ndarray, stamp_ns: int) -> list[Utterance]:
        """
        Add float32 [n] mono 16 kHz samples whose first sample was captured at ``stamp_ns``.

        Returns the utterances that ended in them (usually none).
        """
        x = np.asarray(samples, np.float32).reshape(-1)
        if not len(self._pending):
            self._pending_ns = int(stamp_ns)
        self._pending = np.concatenate([self._pending, x])
        out = []
        while len(self._pending) >= self.frame:
            frame, self._pending = self._pending[:self.frame], self._pending[self.frame:]
            ns = self._pending_ns
            self._pending_ns = ns + self.frame_ns
            utt = self._step(frame, ns)
            if utt is not None:
                out.append(utt)
        return out

    def flush(self) -> Utterance | None:
        """End the utterance in progress now (e.g. at shutdown); None when none qualifies."""
        return self._finish(cut=False) if self._active is not None else None

    def _step(self, frame: np.ndarray, ns: int) -> Utterance | None:
        self.frames_seen += 1
        speech = self.vad.speech_prob(frame) >= self.config.threshold
        if self._active is None:
            self._idle.append((frame, ns, speech))
            self._run = self._run + 1 if speech else 0
            if self._run >= self._start_n:
                held = list(self._idle)
                self._active = [f for f, _, _ in held]
                self._start_ns = held[len(held) - self._run][1]
                self._last_end_ns = ns + self.frame_ns
                self._silence = 0
                self._idle.clear()
                self._run = 0
            return None
        self._active.append(frame)
        if speech:
            self._silence = 0
            self._last_end_ns = ns + self.frame_ns
        else:
            self._silence += 1
            if self._silence >= self._hang_n:
                return self._finish(cut=False)
        if len(self._active) >= self._max_n:
            return self._finish(cut=True)
        return None

    def _finish(self, *, cut: bool) -> Utterance | None:
        audio = np.concatenate(self._active)
        self._active = None
        utt = Utterance(audio, self._start_ns, self._last_end_ns, cut)
        return utt if utt.speech_s >= self.config.min_speech_s else None
