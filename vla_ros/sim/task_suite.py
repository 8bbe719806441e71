"""
Language-conditioned tasks of the tabletop world: commands, success checks, seeds (ROS-free).

A :class:`TaskSpec` = kind x colour + one command text. Training uses :data:`TRAIN_PHRASES`;
evaluation also uses :data:`HELD_OUT_PHRASES` (paraphrases never seen in training) or the
held-out-words set built by rule (:mod:`vla_ros.sim.language`), and seeds from a named block of
:data:`SEED_BLOCKS` (``dev`` for tuning, ``test`` for reported numbers only), all from
:data:`EVAL_SEED_BASE` upwards (training seeds stay below it); :mod:`vla_ros.sim.eval_sets`
draws the evaluation sets.

Success is judged from :class:`~vla_ros.sim.tasks.TaskState` snapshots (what ``/sim/task_state``
carries), accumulated by :class:`SuccessMonitor`, so the lockstep generator, the ROS expert and
the closed-loop evaluator judge episodes identically.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
import zlib

import numpy as np
from vla_ros.core.language.intent import TaskTable
from vla_ros.errors import ConfigError
from vla_ros.sim import hearing_tasks
from vla_ros.sim.cube_physics import FIXED_CRUSH_N
from vla_ros.sim.tasks import TaskState

COLOURS = ('red', 'green', 'blue')
OBJECT_NOUNS = ('cube', 'block')   # what the training phrasings call the object
EVAL_SEED_BASE = 100_000   # held-out evaluation seeds are >= this; training seeds below
# `make train` records from seeds 30000 and 40000 upwards (< EVAL_SEED_BASE, datagen checks).
# 100000-100029 were played while the node was tuned (learning.md): not held out any more.
TUNING_SEEDS = range(100_000, 100_030)
# Named evaluation blocks, disjoint from each other, from training and from TUNING_SEEDS (and
# from the blocks of sim_rollout 103000.., the rollout tests 107100.., bench eval 150000..).
# dev: tune and compare on it freely. test: only for the numbers a report publishes.
SEED_BLOCKS: dict[str, range] = {'dev': range(200_000, 300_000),
                                 'test': range(300_000, 400_000)}
# Seeds of a kind added after the first six come from a region of their own in a block (region
# n = the n-th later kind), so adding a kind never moves the seeds of the others.
KIND_SEED_REGION = 20_000
GENTLE_MAX_FORCE_N = FIXED_CRUSH_N  # gentle: peak summed pad force [N] when the state has none
BEEP_DELAY_S = (0.6, 1.6)  # beep this long after the cube is first lifted [s] (uniform)
START_DELAY_S = (0.3, 0.9)  # the demonstrator starts moving this long after the command [s]


class TaskKind(str, Enum):
    PICK = 'pick'              # lift the cube 5 cm
    PUSH_LEFT = 'push_left'    # slide it >= 5 cm along +y, on the table
    PUSH_RIGHT = 'push_right'  # slide it >= 5 cm along -y
    TOUCH = 'touch'            # touch it (only it)
    GENTLE = 'gentle'          # touch-dependent: close until contact force, then lift, gently
    BEEP = 'beep'              # sound-dependent: lift, hold, release at the beep, return home
    KEYWORD = 'keyword'        # hearing: lift, hold, release at the spoken 'now' (hearing_tasks)


# The first six kinds: their seeds interleave (see episode_seed), the layout every result
# committed before the keyword task used; bundles that record no kinds were trained on these.
CORE_KINDS: tuple[TaskKind, ...] = (TaskKind.PICK, TaskKind.PUSH_LEFT, TaskKind.PUSH_RIGHT,
                                    TaskKind.TOUCH, TaskKind.GENTLE, TaskKind.BEEP)


TRAIN_PHRASES: dict[TaskKind, tuple[str, ...]] = {
    TaskKind.PICK: ('pick up the {c} cube', 'lift the {c} cube', 'grab the {c} cube and lift it',
                    'pick the {c} block up'),
    TaskKind.PUSH_LEFT: ('push the {c} cube left', 'slide the {c} cube to the left',
                         'push the {c} block to the left'),
    TaskKind.PUSH_RIGHT: ('push the {c} cube right', 'slide the {c} cube to the right',
                          'push the {c} block to the right'),
    TaskKind.TOUCH: ('touch the {c} cube', 'tap the {c} cube', 'touch the {c} block'),
    TaskKind.GENTLE: ('gently pick up the {c} cube', 'carefully lift the {c} cube',
                      'softly grasp the {c} cube and lift it'),
    TaskKind.BEEP: ('pick up the {c} cube and drop it at the beep',
                    'lift the {c} cube and release it when you hear the beep',
                    'hold the {c} cube until the beep, then let go'),
    TaskKind.KEYWORD: hearing_tasks.TRAIN_PHRASES,
}
HELD_OUT_PHRASES: dict[TaskKind, tuple[str, ...]] = {
    TaskKind.PICK: ('please raise the {c} cube', 'can you pick up the {c} box'),
    TaskKind.PUSH_LEFT: ('shove the {c} cube towards the left', 'move the {c} box left'),
    TaskKind.PUSH_RIGHT: ('shove the {c} cube towards the right', 'move the {c} box right'),
    TaskKind.TOUCH: ('poke the {c} cube', 'put your fingers on the {c} box'),
    TaskKind.GENTLE: ('delicately pick up the {c} block', 'lift the {c} cube very gently'),
    TaskKind.BEEP: ('raise the {c} block and let it go at the beep',
                    'pick up the {c} cube, drop it when the beep sounds'),
    TaskKind.KEYWORD: hearing_tasks.HELD_OUT_PHRASES,
}


@dataclass(frozen=True)
class TaskSpec:
    """One episode's task: kind, target colour, command text, time limit [s] (sim time)."""

    kind: TaskKind
    colour: str
    command: str
    timeout_s: float = 12.0
    held_out: bool = False   # the command is held out (a paraphrase or held-out words)
    variant: str = ''        # which held-out rule made the command ('' = none / paraphrase)

    def __post_init__(self) -> None:
        object.__setattr__(self, 'kind', TaskKind(self.kind))
        if self.colour not in COLOURS:
            raise ConfigError(f'colour must be one of {COLOURS}, got {self.colour!r}')
        if self.timeout_s <= 0:
            raise ConfigError(f'timeout_s must be > 0, got {self.timeout_s!r}')

    @property
    def obj(self) -> str:
        return f'{self.colour}_cube'

    @property
    def name(self) -> str:
        return f'{self.kind.value}_{self.colour}'


def _rng(seed: int, salt: str) -> np.random.Generator:
    return np.random.default_rng([int(seed), zlib.crc32(salt.encode())])


def make_task(kind: TaskKind | str, seed: int, *, held_out: bool = False,
              colour: str | None = None) -> TaskSpec:
    """Return the task of ``kind`` for ``seed``: colour and phrasing drawn from the seed."""
    kind = TaskKind(kind)
    rng = _rng(seed, kind.value)
    colour = colour or COLOURS[int(rng.integers(len(COLOURS)))]
    phrases = (HELD_OUT_PHRASES if held_out else TRAIN_PHRASES)[kind]
    text = phrases[int(rng.integers(len(phrases)))].format(c=colour)
    timeout = {TaskKind.BEEP: 16.0, TaskKind.TOUCH: 10.0,
               TaskKind.KEYWORD: hearing_tasks.TIMEOUT_S}.get(kind, 12.0)
    return TaskSpec(kind, colour, text, timeout, held_out)


def task_table() -> TaskTable:
    """Return the training phrasings as a task table (what ``config/command_tasks.yaml`` holds)."""
    return TaskTable({k.value: ts for k, ts in TRAIN_PHRASES.items()}, COLOURS, OBJECT_NOUNS)


def block_seed(block: str, index: int) -> int:
    """Return the ``index``-th seed of the named block of :data:`SEED_BLOCKS`."""
    if block not in SEED_BLOCKS:
        raise ConfigError(f'seed block must be one of {sorted(SEED_BLOCKS)}, got {block!r}')
    seeds = SEED_BLOCKS[block]
    if not 0 <= index < len(seeds):
        raise ConfigError(f'seed index {index} outside the {block} block '
                          f'({seeds.start}-{seeds.stop - 1})')
    return seeds[index]


def episode_seed(block: str, offset: int, episode: int, kind: TaskKind | str) -> int:
    """
    Return the seed of ``episode`` (0, 1, ...) of ``kind`` in a set ``offset`` into ``block``.

    The :data:`CORE_KINDS` interleave (index ``offset + 6 episode + j``); a later kind ``n``
    (``n = 1, 2, ...`` after them) takes index ``n KIND_SEED_REGION + offset + episode``. The
    seed of (episode, kind) depends neither on the other kinds asked for nor on kinds added
    to :class:`TaskKind` later.
    """
    kind = TaskKind(kind)
    if kind in CORE_KINDS:
        index = offset + episode * len(CORE_KINDS) + CORE_KINDS.index(kind)
    else:
        later = [k for k in TaskKind if k not in CORE_KINDS]
        index = (later.index(kind) + 1) * KIND_SEED_REGION + offset + episode
    return block_seed(block, index)


def beep_delay(seed: int) -> float:
    """Seconds after the first lift at which the beep sounds (BEEP tasks)."""
    return float(_rng(seed, 'beep').uniform(*BEEP_DELAY_S))


def start_delay(seed: int) -> float:
    """
    Seconds between the command and the demonstrator's first motion.

    A teleoperator reacts after a moment, and the policy must learn to start from rest (no
    copycat).
    """
    return float(_rng(seed, 'start').uniform(*START_DELAY_S))


def all_phrases(held_out: bool = False) -> list[str]:
    table = HELD_OUT_PHRASES if held_out else TRAIN_PHRASES
    return [p.format(c=c) for ps in table.values() for p in ps for c in COLOURS]


@dataclass
class SuccessMonitor:
    """
    Accumulates task-state snapshots of one episode and judges it.

    ``update`` returns True once the episode is decided (success or an unrecoverable failure);
    ``success`` and ``reason`` give the verdict. ``beep_due(t)`` says when a BEEP task's beep
    should be played (sim time, after the first lift); ``sounds_due(t)`` hands out every sound
    due (the beep, a KEYWORD task's words), each once.
    """

    task: TaskSpec
    seed: int
    success: bool = False
    reason: str = 'timeout'
    peak_force: float = 0.0
    lift_time: float | None = None
    beep_time: float | None = None
    released_before_beep: bool = False
    wrong_object: str = ''
    t0: float = 0.0              # sim time of the command; the timeout counts from here
    last_time: float = 0.0
    _history: list[str] = field(default_factory=list)
    hearing: hearing_tasks.KeywordJudge | None = None   # KEYWORD tasks: words and judge

    def __post_init__(self) -> None:
        if self.task.kind is TaskKind.KEYWORD and self.hearing is None:
            self.hearing = hearing_tasks.KeywordJudge(self.seed)

    def sounds_due(self, t: float) -> list[str]:
        """Return the ``/sim/sound`` specs to play at sim time ``t`` [s]; marks them played."""
        out = []
        if self.beep_due(t):
            self.beep_time = t
            out.append('beep')
        if self.hearing is not None:
            out += self.hearing.sounds_due(t, self.lift_time)
        return out

    def beep_due(self, t: float) -> bool:
        return (self.task.kind is TaskKind.BEEP and self.beep_time is None
                and self.lift_time is not None and t >= self.lift_time + beep_delay(self.seed))

    def update(self, st: TaskState) -> bool:
        p, obj, k = st.predicates, self.task.obj, self.task.kind
        self.last_time = st.sim_time
        self.peak_force = max(self.peak_force, sum(st.pad_force.values()) if
                              st.pad_force_peak is None else st.pad_force_peak)
        if any(e.get('name') == 'beep' for e in st.events) and self.beep_time is None:
            self.beep_time = st.sim_time
        lifted = p.get(f'{obj}_lifted', False)
        if lifted and self.lift_time is None:
            self.lift_time = st.sim_time
        others = [o for o in st.objects if o != obj]
        for o in others:
            moved = np.linalg.norm(np.subtract(st.objects[o]['position'][:2],
                                               st.objects[o]['initial_position'][:2]))
            if p.get(f'{o}_lifted') or moved > 0.04 or (
                    k is TaskKind.TOUCH and p.get(f'{o}_touched')):
                self.wrong_object = o
                return self._done(False, f'disturbed {o}')
        if p.get(f'{obj}_off_table'):
            return self._done(False, 'cube fell off the table')
        if k is TaskKind.PICK and lifted:
            return self._done(True, 'lifted')
        if k is TaskKind.PUSH_LEFT:
            if p.get(f'{obj}_pushed_left'):
                return self._done(True, 'pushed left')
            if p.get(f'{obj}_pushed_right'):
                return self._done(False, 'pushed the wrong way')
        if k is TaskKind.PUSH_RIGHT:
            if p.get(f'{obj}_pushed_right'):
                return self._done(True, 'pushed right')
            if p.get(f'{obj}_pushed_left'):
                return self._done(False, 'pushed the wrong way')
        if k is TaskKind.TOUCH and p.get(f'{obj}_touched'):
            return self._done(True, 'touched')
        if k is TaskKind.GENTLE:
            limit = float(st.objects[obj].get('crush_n', GENTLE_MAX_FORCE_N))
            if self.peak_force > limit:
                return self._done(False, f'squeezed too hard ({self.peak_force:.1f} N > '
                                         f'{limit:.1f} N)')
            if lifted:
                return self._done(True, f'lifted gently ({self.peak_force:.1f} N)')
        if k is TaskKind.BEEP:
            if self.lift_time is not None and self.beep_time is None and not lifted:
                return self._done(False, 'released before the beep')
            if (self.beep_time is not None and not lifted and p.get('gripper_open')
                    and p.get('arm_at_home')):
                return self._done(True, 'released at the beep and returned home')
        if self.hearing is not None:
            verdict = self.hearing.judge(st.sim_time, self.lift_time, lifted,
                                         p.get('gripper_open', False),
                                         p.get('arm_at_home', False))
            if verdict is not None:
                return self._done(*verdict)
        if st.sim_time - self.t0 >= self.task.timeout_s:
            return self._done(False, self._timeout_reason(p))
        return False

    def _timeout_reason(self, p: dict[str, bool]) -> str:
        obj, k = self.task.obj, self.task.kind
        if k is TaskKind.BEEP and self.beep_time is not None:
            return 'timeout after the beep (not released or not home)'
        if self.hearing is not None and self.hearing.timeout_reason():
            return self.hearing.timeout_reason()
        if k in (TaskKind.PICK, TaskKind.GENTLE, TaskKind.BEEP, TaskKind.KEYWORD):
            return 'timeout: grasped but not lifted' if p.get(f'{obj}_touched') \
                else 'timeout: never reached the cube'
        if k in (TaskKind.PUSH_LEFT, TaskKind.PUSH_RIGHT):
            return 'timeout: touched but not pushed far enough' if p.get(f'{obj}_touched') \
                else 'timeout: never reached the cube'
        return 'timeout: never reached the cube'

    def _done(self, ok: bool, reason: str) -> bool:
        self.success, self.reason = ok, reason
        return True
