"""
The hearing task family: release the cube at a spoken keyword, not at the words around it.

``keyword`` (:class:`~vla_ros.sim.task_suite.TaskKind`): lift the cube, hold it while a voice
(the sim's espeak-ng, into the microphone) says distractor words -- "wait", "not yet", "hold
on", ... -- at random times, and release it when it says "now"; then go home. What was said
decides *when* to act, not only that something was said: 0 to :data:`MAX_DISTRACTORS`
distractors come first (uniform), so "release at the first word" solves a quarter of the
episodes, and the keyword time spreads over ~7 s, so no fixed timing solves more than about a
third (``bench/bench_hearing_task.py`` measures both; docs/learning.md).

The schedule is drawn from the seed (:func:`word_schedule`; times after the cube is first
lifted); :class:`KeywordJudge` plays it and judges the release (ROS- and MuJoCo-free; the
:class:`~vla_ros.sim.task_suite.SuccessMonitor` of the task holds one, so the lockstep
generator, the ROS expert and the evaluator judge alike). The policy sees the last second of
audio (the default bundle's mel window, 1.0 s): the keyword (~0.4 s of speech) lies whole in
it for ~0.6 s, six 10 Hz control ticks.
"""

from __future__ import annotations

from dataclasses import dataclass, field
import functools
import zlib

import numpy as np

KEYWORD = 'now'
DISTRACTORS = ('wait', 'not yet', 'hold on', 'steady', 'keep holding')
MAX_DISTRACTORS = 3            # 0..3 distractor words before the keyword (uniform)
FIRST_WORD_S = (0.8, 1.5)      # the first word this long after the cube is lifted [s]
WORD_GAP_S = (1.3, 2.0)        # from one word's start to the next [s] (words last <= 0.9 s)
REACT_MAX_S = 2.0              # release within this long after the keyword starts [s]
TIMEOUT_S = 20.0               # episode time limit [s] (sim time)
SOUND_SAY = 'say:'             # /sim/sound prefix of spoken words
HEARING_KINDS = ('beep', 'keyword')   # task kinds solved only by listening (bench eval)

TRAIN_PHRASES = ('pick up the {c} cube and drop it when I say now',
                 'lift the {c} cube and release it when you hear the word now',
                 'hold the {c} cube until I say now, then let go')
HELD_OUT_PHRASES = ('raise the {c} block and let it go once I say now',
                    'grab the {c} cube, wait for the word now, then drop it')


@dataclass(frozen=True)
class SpokenWord:
    """One utterance of the schedule: start [s] after the first lift, text, keyword or not."""

    t: float
    text: str
    keyword: bool


@functools.lru_cache(maxsize=4096)
def word_schedule(seed: int) -> tuple[SpokenWord, ...]:
    """Return the words of ``seed``'s episode, distractors first, ending with the keyword."""
    rng = np.random.default_rng([int(seed), zlib.crc32(b'keyword')])
    n = int(rng.integers(MAX_DISTRACTORS + 1))
    texts = [DISTRACTORS[int(i)] for i in rng.choice(len(DISTRACTORS), n, replace=False)]
    t = float(rng.uniform(*FIRST_WORD_S))
    out = []
    for text in texts:
        out.append(SpokenWord(round(t, 3), text, False))
        t += float(rng.uniform(*WORD_GAP_S))
    out.append(SpokenWord(round(t, 3), KEYWORD, True))
    return tuple(out)


def keyword_delay(seed: int) -> float:
    """Return when the keyword starts, [s] after the first lift."""
    return word_schedule(seed)[-1].t


@dataclass
class KeywordJudge:
    """
    Plays ``seed``'s words after the lift and judges the release.

    ``said``: (sim time [s], text) of every word handed out by :meth:`sounds_due` (the
    referee's clock, as the beep's); ``release_time``: when the lifted cube first came down.
    """

    seed: int
    words: tuple[SpokenWord, ...] = field(init=False)
    said: list[tuple[float, str]] = field(default_factory=list)
    release_time: float | None = None

    def __post_init__(self) -> None:
        self.words = word_schedule(self.seed)

    @property
    def keyword_time(self) -> float | None:
        """Return the sim time [s] the keyword was played at (None: not yet)."""
        return next((t for t, w in self.said if w == KEYWORD), None)

    def sounds_due(self, t: float, lift_time: float | None) -> list[str]:
        """Return the ``/sim/sound`` specs due at sim time ``t`` [s], each once."""
        out: list[str] = []
        if lift_time is None or self.release_time is not None:
            return out
        while len(self.said) < len(self.words) and \
                t >= lift_time + self.words[len(self.said)].t - 1e-9:
            self.said.append((round(t, 4), self.words[len(self.said)].text))
            out.append(SOUND_SAY + self.said[-1][1])
        return out

    def judge(self, t: float, lift_time: float | None, lifted: bool, gripper_open: bool,
              at_home: bool) -> tuple[bool, str] | None:
        """Return (success, reason) once decided, else None; call at every task state."""
        if lift_time is None:
            return None
        kt = self.keyword_time
        if self.release_time is None and not lifted:
            self.release_time = t
            if kt is None:
                last = f' (after "{self.said[-1][1]}")' if self.said else ''
                return False, f'released before the keyword{last}'
            if t - kt > REACT_MAX_S + 1e-6:   # came down between two task states
                return False, f'released {t - kt:.1f} s after the keyword (> {REACT_MAX_S} s)'
        if self.release_time is None and kt is not None and t - kt > REACT_MAX_S + 1e-6:
            return False, f'not released within {REACT_MAX_S:.1f} s of the keyword'
        if self.release_time is not None and gripper_open and at_home:
            return True, (f'released {self.release_time - kt:.1f} s after the keyword and '
                          'returned home')
        return None

    def timeout_reason(self) -> str | None:
        """Return why a timeout happened after the release (None: the usual reasons)."""
        return 'timeout after the keyword (not home)' if self.release_time is not None \
            else None


def blind_success(seeds: list[int], release_after_lift_s: float) -> float:
    """
    Return the share of ``seeds`` a blind release ``release_after_lift_s`` after the lift wins.

    The cube comes down that long after the lift whatever was said: it succeeds when that lies
    in [keyword, keyword + REACT_MAX_S] (the timing part of :meth:`KeywordJudge.judge`).
    """
    d = float(release_after_lift_s)
    ok = [k <= d <= k + REACT_MAX_S for k in map(keyword_delay, seeds)]
    return sum(ok) / max(1, len(ok))


def first_word_success(seeds: list[int]) -> float:
    """Return the share of ``seeds`` whose first word is the keyword ("release at any word")."""
    return sum(word_schedule(s)[0].keyword for s in seeds) / max(1, len(seeds))
