"""
The hearing task ``keyword``: seeded word schedule, the judge, the expert's keyword spotter.

Real components: TaskState snapshots as ``/sim/task_state`` carries them, the sim's microphone
synthesizer with espeak-ng speech, WordNet for the intent check. No MuJoCo (quick).
"""

from __future__ import annotations

import numpy as np
import pytest
from vla_ros.core.language import IntentIdentifier, WordNet
from vla_ros.sim.audio import MicConfig, MicrophoneSynth
from vla_ros.sim.hearing_tasks import (
    blind_success,
    DISTRACTORS,
    FIRST_WORD_S,
    first_word_success,
    KEYWORD,
    MAX_DISTRACTORS,
    REACT_MAX_S,
    WORD_GAP_S,
    word_schedule,
)
from vla_ros.sim.keyword_spotter import KeywordSpotter, MATCH_THRESHOLD
from vla_ros.sim.language import multi_word_task
from vla_ros.sim.task_suite import (block_seed, COLOURS, HELD_OUT_PHRASES, make_task,
                                    SuccessMonitor, task_table, TaskKind)
from vla_ros.sim.tasks import TaskState

SEEDS = [block_seed('dev', 15_000 + i) for i in range(200)]
RATE = 16000
CHUNK = 320   # 20 ms, the sim's audio chunk


def test_the_word_schedule_is_fixed_per_seed_and_ends_with_the_keyword():
    counts = set()
    for seed in SEEDS:
        words = word_schedule(seed)
        assert words == word_schedule(seed)
        assert words[-1].text == KEYWORD and words[-1].keyword
        assert all(w.text in DISTRACTORS and not w.keyword for w in words[:-1])
        assert FIRST_WORD_S[0] <= words[0].t <= FIRST_WORD_S[1]
        gaps = np.diff([w.t for w in words])
        assert np.all((gaps >= WORD_GAP_S[0] - 1e-3) & (gaps <= WORD_GAP_S[1] + 1e-3))
        counts.add(len(words) - 1)
    assert counts == set(range(MAX_DISTRACTORS + 1))
    assert len({word_schedule(s)[-1].t for s in SEEDS}) > 150   # the keyword time varies


def test_neither_a_fixed_timing_nor_the_first_word_solves_the_task():
    assert max(blind_success(SEEDS, 0.1 * i) for i in range(120)) <= 0.5
    assert first_word_success(SEEDS) <= 0.35


def _state(t: float, *, lifted: bool, home: bool = False, opened: bool = False,
           colour: str = 'red') -> TaskState:
    objects = {f'{c}_cube': {'position': [0.4, 0.1 * i, 0.42], 'initial_position':
                             [0.4, 0.1 * i, 0.42]} for i, c in enumerate(COLOURS)}
    preds = {f'{colour}_cube_lifted': lifted, 'arm_at_home': home, 'gripper_open': opened}
    return TaskState(seed=0, episode=1, sim_time=t, predicates=preds, objects=objects,
                     tcp_position=[0.4, 0.0, 0.5], gripper_opening=0.04 if opened else 0.0,
                     pad_force={'left': 0.0, 'right': 0.0})


def _run(seed: int, release_after_keyword: float, *, early: bool = False):
    """
    Play a synthetic episode and judge it.

    Lifted at 3 s; down ``release_after_keyword`` after the keyword (``early``: at the first
    word), home 1 s after that.
    """
    task = make_task(TaskKind.KEYWORD, seed, colour='red')
    mon = SuccessMonitor(task, seed)
    played: list[tuple[float, str]] = []
    for t in np.round(np.arange(0.0, task.timeout_s + 0.1, 0.1), 1):
        t = float(t)
        said, kt = mon.hearing.said, mon.hearing.keyword_time
        down_at = said[0][0] if early and said else (
            kt + release_after_keyword if kt is not None and not early else None)
        up = t >= 3.0 and (down_at is None or t < down_at)
        down = down_at is not None and t >= down_at
        if mon.update(_state(t, lifted=up, opened=down, home=down and t >= down_at + 1.0)):
            return mon, played
        played += [(t, s) for s in mon.sounds_due(t)]
    return mon, played


def test_the_words_are_played_after_the_lift_each_once():
    seed = next(s for s in SEEDS if len(word_schedule(s)) == 3)
    mon, played = _run(seed, 0.8)
    sched = word_schedule(seed)
    assert [s for _, s in played] == [f'say:{w.text}' for w in sched]
    assert all(abs(t - (3.0 + w.t)) <= 0.1 + 1e-9 for (t, _), w in zip(played, sched))


def test_release_soon_after_the_keyword_then_home_succeeds():
    mon, _ = _run(SEEDS[0], 0.8)
    assert mon.success, mon.reason
    assert mon.reason.startswith('released 0.8 s after the keyword')


def test_release_at_a_distractor_fails_and_says_which():
    seed = next(s for s in SEEDS if len(word_schedule(s)) >= 2)
    mon, _ = _run(seed, 0.0, early=True)
    first = word_schedule(seed)[0].text
    assert not mon.success and mon.reason == f'released before the keyword (after "{first}")'


def test_holding_on_past_the_reaction_limit_fails():
    mon, _ = _run(SEEDS[0], REACT_MAX_S + 1.0)
    assert not mon.success
    assert mon.reason == f'not released within {REACT_MAX_S:.1f} s of the keyword'


def _listen(spotter: KeywordSpotter, text: str | None, *, speed: float = 0.0,
            beep: bool = False) -> bool:
    """Speak ``text`` (or beep) into the sim microphone; True if the spotter fired."""
    mic = MicrophoneSynth(MicConfig(sample_rate=RATE), seed=3)
    if text:
        mic.say(text)
    if beep:
        mic.beep()
    spotter.reset()
    hits = [spotter.feed(mic.synthesize(CHUNK, speed, 0.0)) for _ in range(75)]
    return any(hits)


@pytest.fixture(scope='module')
def spotter() -> KeywordSpotter:
    return KeywordSpotter(KEYWORD, RATE)


def test_the_spotter_hears_the_keyword_over_the_motor_hum(spotter):
    for speed in (0.0, 1.0):
        assert _listen(spotter, KEYWORD, speed=speed)
        assert spotter.best >= MATCH_THRESHOLD + 0.1


@pytest.mark.parametrize('text', [*DISTRACTORS, 'no', None])
def test_the_spotter_ignores_distractors_the_beep_and_the_hum(spotter, text):
    assert not _listen(spotter, text, speed=1.0, beep=text is None)
    assert spotter.best <= MATCH_THRESHOLD - 0.05


@pytest.fixture(scope='module')
def identifier():
    wn = WordNet()
    yield IntentIdentifier(task_table(), None, lexicon=wn, lexical_weight=1.0)
    wn.close()


def test_held_out_phrasings_are_identified_as_the_keyword_task(identifier):
    texts = [p.format(c='green') for p in HELD_OUT_PHRASES[TaskKind.KEYWORD]]
    texts += [multi_word_task(TaskKind.KEYWORD, s).command for s in SEEDS[:5]]
    for text in texts:
        it = identifier.identify(text)
        assert it.task != TaskKind.BEEP.value, (text, it)
        assert not it.understood or it.task == TaskKind.KEYWORD.value, (text, it)
    assert identifier.identify(HELD_OUT_PHRASES[TaskKind.KEYWORD][0].format(c='red')
                               ).task == TaskKind.KEYWORD.value
