"""
Scripted IK expert for the task suite (ROS-free; the demonstrator of the training data).

The expert sees what a teleoperator sees in the task state (object poses, pad forces, sound
events, its own last command) and emits one command per control tick: arm joint position
targets [rad] (reached one tick later, as a joint_trajectory point) and the finger opening [m].
Motions are Cartesian segments with cosine easing, solved by the DLS IK tick by tick.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import numpy as np
from vla_ros.sim import gentle_grip
from vla_ros.sim.cube_physics import VARIED_MAX_YAW
from vla_ros.sim.hearing_tasks import KEYWORD
from vla_ros.sim.ik import grasp_yaw, IkSolver, top_down_rotation
from vla_ros.sim.keyword_spotter import KeywordSpotter
from vla_ros.sim.mjcf import TABLE_TOP_Z
from vla_ros.sim.task_suite import TaskKind, TaskSpec
from vla_ros.sim.tasks import TaskState

OPEN, CLOSED = 0.04, 0.0        # finger opening per finger [m]
HOVER_Z = TABLE_TOP_Z + 0.11    # tcp height above cubes while travelling [m]
GRASP_Z = TABLE_TOP_Z + 0.026   # tcp height when grasping (finger tips just above the table)
PUSH_Z = TABLE_TOP_Z + 0.03     # tcp height when pushing
TOUCH_ABOVE_TOP = 0.018         # tcp this far above the cube top: closed tips press on it [m]
LIFT_Z = TABLE_TOP_Z + 0.15
PUSH_BACK, PUSH_THROUGH = 0.065, 0.045  # start behind / end past the cube centre [m]
SPEED = 0.25                    # Cartesian travel speed [m/s]
GENTLE_CLOSE_SPEED = 0.01       # finger closing speed in the gentle task until contact [m/s]
GENTLE_PREOPEN = 0.003          # gentle: close at once to this far outside the cube's face [m]
PROBE_DZ = 0.010                # gentle: raise the gripped cube this much to feel a slip [m]
SETTLE_S = 0.3                  # gentle: let the grip settle before a reference / probe [s]
GENTLE_LIFT_S = 1.4             # gentle: the lift's duration (peak acceleration ~ the probe's) [s]
GRASP_DWELL_S = 0.2             # wait at grasp height before closing [s]
GRIP_EFFORT_N = 5.0             # max effort per finger outside the gentle task [N] (holds the
#                                 heaviest varied cube, 0.72 kg at friction 0.9, 1.3x over)


@dataclass
class ExpertCommand:
    arm: np.ndarray   # [6] joint position targets [rad]
    gripper: float    # finger opening [m]
    gripper_effort: float | None = None   # max effort per finger [N]; None = leave as is


@dataclass
class _Segment:
    p0: np.ndarray
    p1: np.ndarray
    t0: float
    duration: float

    def at(self, t: float) -> np.ndarray:
        s = min(1.0, max(0.0, (t - self.t0) / self.duration))
        s = 0.5 - 0.5 * math.cos(math.pi * s)
        return self.p0 + s * (self.p1 - self.p0)

    def done(self, t: float) -> bool:
        return t >= self.t0 + self.duration - 1e-9


class ScriptedExpert:
    """
    A phase machine per task kind. ``act(state)`` once per control tick (``dt`` apart).

    :param task: the episode's task.
    :param ik: an :class:`IkSolver` on the world's model.
    :param home_q: the arm's home pose [6] (``ROBOT.home_positions()``).
    :param dt: control period [s].
    :param align_yaw: turn the fingers to the cube's faces. Off by default: the fingers (8 cm
        open) take a 4 cm cube in any yaw top-down and closing squares it, so the
        demonstrations depend on where the cube is, not on its yaw, which a learner reads
        from images far less reliably.
    """

    def __init__(self, task: TaskSpec, ik: IkSolver, home_q: np.ndarray, dt: float = 0.1,
                 reaction_s: float = 0.2, align_yaw: bool = False) -> None:
        self.task, self.ik, self.dt = task, ik, dt
        self.align_yaw = align_yaw
        self.home_q = np.asarray(home_q, float)
        self.reaction_s = reaction_s
        self.q = self.home_q.copy()
        self.gripper = OPEN
        self.phase = 'start'
        self.seg: _Segment | None = None
        self.hold_q: np.ndarray | None = None
        # the max effort commanded [N]: gentle starts light (gentle_grip), the others firm
        self.effort = (gentle_grip.EFFORT0_N if task.kind is TaskKind.GENTLE
                       else GRIP_EFFORT_N)
        self.taxels: np.ndarray | None = None  # the latest /tactile forces (feel) [N] x 32
        self.slip = gentle_grip.SlipSense()
        self.grasp_tcp: np.ndarray | None = None
        self.beep_at: float | None = None   # when the cue was heard (beep; KEYWORD: the word)
        self.listener: KeywordSpotter | None = None
        self.lifted_seen = False
        self.phase_t0 = 0.0
        self.yaw = 0.0
        self.tcp, _ = ik.forward(self.home_q)

    # -- helpers ------------------------------------------------------------------------------
    def _move(self, t: float, target: np.ndarray, min_s: float = 0.6) -> None:
        dist = float(np.linalg.norm(target - self.tcp))
        self.seg = _Segment(self.tcp.copy(), np.asarray(target, float), t,
                            max(min_s, dist / SPEED))

    def _track(self, t: float) -> bool:
        """Follow the current segment; True when it is finished."""
        p = self.seg.at(t + self.dt)   # the target is reached one tick later
        res = self.ik.solve(p, top_down_rotation(self.yaw), self.q)
        self.q = res.q
        self.tcp = p
        return self.seg.done(t + self.dt)

    def _phase(self, name: str, t: float) -> None:
        self.phase, self.phase_t0 = name, t

    @property
    def listens(self) -> bool:
        """Return whether the task needs the microphone stream (:meth:`hear`)."""
        return self.task.kind is TaskKind.KEYWORD

    def hear(self, t: float, samples: np.ndarray, sample_rate: int) -> None:
        """
        Take the microphone chunk ending at sim time ``t`` [s] (float32 [n], the policy's stream).

        KEYWORD tasks: the keyword heard while the cube is up is the cue to release it.
        """
        if not self.listens:
            return
        if self.listener is None:
            self.listener = KeywordSpotter(KEYWORD, sample_rate)
        if self.listener.feed(samples) and self.lifted_seen and self.beep_at is None:
            self.beep_at = t

    @property
    def feels(self) -> bool:
        """Return whether the task needs the taxel stream (:meth:`feel`)."""
        return self.task.kind is TaskKind.GENTLE

    def feel(self, t: float, taxels: np.ndarray) -> None:
        """Take the taxel forces published at sim time ``t`` (float32 [32], [N])."""
        if self.feels:
            self.taxels = np.asarray(taxels, float).copy()

    # -- policy -------------------------------------------------------------------------------
    def act(self, st: TaskState) -> ExpertCommand:
        t = st.sim_time
        obj = st.objects[self.task.obj]
        pos, yaw = np.array(obj['position']), float(obj['yaw'])
        k = self.task.kind
        self.lifted_seen |= bool(st.predicates.get(f'{self.task.obj}_lifted'))
        if self.phase == 'start':
            # a light (gentle) grip cannot square a cube standing beyond VARIED_MAX_YAW: turn
            # the fingers to its faces (only fixed cubes stand so far; cube_physics.py)
            square = self.align_yaw or (k is TaskKind.GENTLE and abs(yaw) > VARIED_MAX_YAW + 0.05)
            self.yaw = grasp_yaw(yaw, 0.0) if square else 0.0
            if k in (TaskKind.PUSH_LEFT, TaskKind.PUSH_RIGHT):
                sign = 1.0 if k is TaskKind.PUSH_LEFT else -1.0
                self.push = (pos[:2], sign)
                self.yaw = 0.0
                self.gripper = CLOSED
                self._move(t, np.array([pos[0], pos[1] - sign * PUSH_BACK, HOVER_Z]), 0.8)
            else:
                if k is TaskKind.TOUCH:
                    self.gripper = CLOSED
                self._move(t, np.array([pos[0], pos[1], HOVER_Z]), 0.8)
            self._phase('approach', t)
        getattr(self, f'_{k.value}' if k not in (TaskKind.PUSH_LEFT, TaskKind.PUSH_RIGHT)
                else '_push')(t, st, pos)
        return ExpertCommand(self.q.copy(), float(self.gripper), self.effort)

    def _descend_then(self, t: float, pos: np.ndarray, z: float, nxt: str) -> None:
        if self.phase == 'approach' and self._track(t):
            self._move(t, np.array([pos[0], pos[1], z]), 0.5)
            self._phase('descend', t)
        elif self.phase == 'descend' and self._track(t):
            self._phase(nxt, t)

    def _pick(self, t: float, st: TaskState, pos: np.ndarray) -> None:
        self._descend_then(t, pos, GRASP_Z, 'close')
        if self.phase == 'close' and t - self.phase_t0 >= GRASP_DWELL_S:
            self.gripper = CLOSED   # once the arm has settled at grasp height
            if t - self.phase_t0 >= GRASP_DWELL_S + 0.5:
                self._move(t, np.array([self.tcp[0], self.tcp[1], LIFT_Z]), 0.8)
                self._phase('lift', t)
        elif self.phase == 'lift':
            self._track(t)

    def _gentle(self, t: float, st: TaskState, pos: np.ndarray) -> None:
        """
        Grip with a small max effort, raise the cube a few mm, feel; tighten on a slip.

        A slip (the load leaving the pad's upper rows) means the grip is too light for the
        hidden weight: tighten, go back down to the grasp height (the cube still stands on the
        table) and probe again. No slip: lift. The effort never rises faster than
        :data:`gentle_grip.EFFORT_GAIN` per slip, so it stops below the crush limit.
        """
        self._descend_then(t, pos, GRASP_Z, 'close')
        feel = self.taxels if self.taxels is not None else np.zeros(32)
        if self.phase == 'close' and t - self.phase_t0 >= GRASP_DWELL_S:
            if self.grasp_tcp is None:   # close quickly to just outside the faces, then slowly
                half = pos[2] - TABLE_TOP_Z
                self.gripper = min(OPEN, half + GENTLE_PREOPEN)
                self.grasp_tcp = self.tcp.copy()
            elif gentle_grip.both_pads_touch(feel, self.effort):
                self.gripper = CLOSED   # the effort limit, not the opening, sets the squeeze
                self._phase('squeeze', t)
            else:
                self.gripper = max(CLOSED, self.gripper - GENTLE_CLOSE_SPEED * self.dt)
        elif self.phase in ('squeeze', 'settle') and t - self.phase_t0 >= SETTLE_S:
            self.slip.reference(feel)
            self._move(t, self.grasp_tcp + (0.0, 0.0, PROBE_DZ), 0.4)
            self._phase('probe', t)
        elif self.phase == 'probe':
            done = self._track(t)
            if self.slip.slipped(feel):
                self.effort = gentle_grip.tighter(self.effort)
                self._move(t, self.grasp_tcp, 0.3)
                self._phase('regrip', t)
            elif done and t - self.phase_t0 >= 0.6:   # no faster than the probe rose
                self._move(t, np.array([self.tcp[0], self.tcp[1], LIFT_Z]), GENTLE_LIFT_S)
                self._phase('lift', t)
        elif self.phase == 'regrip' and self._track(t):
            self._phase('settle', t)
        elif self.phase == 'lift':
            self._track(t)

    def _beep(self, t: float, st: TaskState, pos: np.ndarray) -> None:
        if self.beep_at is None and any(e.get('name') == 'beep' for e in st.events):
            self.beep_at = t
        self._hold_release(t, st, pos)

    def _keyword(self, t: float, st: TaskState, pos: np.ndarray) -> None:
        self._hold_release(t, st, pos)   # beep_at: set by hear() when the keyword is heard

    def _hold_release(self, t: float, st: TaskState, pos: np.ndarray) -> None:
        """Pick, hold, release ``reaction_s`` after the cue (``beep_at``), go home."""
        if self.phase in ('approach', 'descend', 'close', 'lift'):
            self._pick(t, st, pos)
            if self.phase == 'lift' and self.seg.done(t + self.dt):
                self._phase('hold', t)
        elif self.phase == 'hold':
            if self.beep_at is not None and t >= self.beep_at + self.reaction_s:
                self.gripper = OPEN
                self._phase('release', t)
        elif self.phase == 'release' and t - self.phase_t0 >= 0.4:
            self._phase('home', t)
            self.home_from = (self.q.copy(), t)
        elif self.phase == 'home':
            q0, t0 = self.home_from
            s = min(1.0, (t + self.dt - t0) / 1.5)
            s = 0.5 - 0.5 * math.cos(math.pi * s)
            self.q = q0 + s * (self.home_q - q0)
            self.tcp, _ = self.ik.forward(self.q)

    def _touch(self, t: float, st: TaskState, pos: np.ndarray) -> None:
        touch_z = 2.0 * pos[2] - TABLE_TOP_Z + TOUCH_ABOVE_TOP   # the cube's top, seen
        self._descend_then(t, pos, touch_z, 'press')
        if self.phase == 'press' and t - self.phase_t0 >= 0.3:
            self._move(t, np.array([self.tcp[0], self.tcp[1], touch_z + 0.04]), 0.5)
            self._phase('up', t)
        elif self.phase == 'up':
            self._track(t)

    def _push(self, t: float, st: TaskState, pos: np.ndarray) -> None:
        (cx, cy), sign = self.push
        if self.phase == 'approach' and self._track(t):
            self._move(t, np.array([cx, cy - sign * PUSH_BACK, PUSH_Z]), 0.5)
            self._phase('descend', t)
        elif self.phase == 'descend' and self._track(t):
            self._move(t, np.array([cx, cy + sign * PUSH_THROUGH, PUSH_Z]), 1.0)
            self._phase('push', t)
        elif self.phase == 'push' and self._track(t):
            self._move(t, np.array([self.tcp[0], self.tcp[1], HOVER_Z]), 0.5)
            self._phase('retreat', t)
        elif self.phase == 'retreat':
            self._track(t)
