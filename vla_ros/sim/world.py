"""
The MuJoCo tabletop world: seeded reset, position-controlled arm and gripper, sensors, tasks.

Cameras, tactile pads, microphone and task predicates. ROS-free; the ``mujoco_sim`` node wraps
it.

Units: m, rad, s, N. Joint order: ``constants.DEFAULT_ARM_JOINTS`` then ``gripper_joint``
(finger opening per finger [m], 0 = closed).
"""

from __future__ import annotations

from dataclasses import dataclass, field
import math
import threading

import mujoco  # noqa: I001
import numpy as np
from vla_ros import constants as C
from vla_ros.errors import ConfigError
import vla_ros.sim  # noqa: F401  (selects the headless GL backend before mujoco)
from vla_ros.sim.audio import MicConfig, MicrophoneSynth
from vla_ros.sim.cube_physics import (cube_props, CubePhysics, CubeProps, PEAK_FILTER_S,
                                      VARIED_MAX_YAW)
from vla_ros.sim.mjcf import SceneConfig, TABLE_TOP_Z, world_mjcf
from vla_ros.sim.robot import ROBOT
from vla_ros.sim.tasks import TaskState, TaskThresholds, TaskTracker

JOINT_NAMES = (*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT)


@dataclass(frozen=True)
class WorldConfig:
    """World parameters. Object region in world x/y [m]; yaw range [rad]."""

    scene: SceneConfig = field(default_factory=SceneConfig)
    image_width: int = 224
    image_height: int = 224
    cameras: tuple[str, ...] = C.DEFAULT_CAMERAS
    object_x: tuple[float, float] = (0.32, 0.52)
    object_y: tuple[float, float] = (-0.18, 0.18)
    min_separation: float = 0.09
    max_yaw: float = math.pi / 4
    thresholds: TaskThresholds = field(default_factory=TaskThresholds)
    mic: MicConfig = field(default_factory=MicConfig)
    cube_physics: str = CubePhysics.FIXED.value   # hidden mass / friction / size per episode

    def __post_init__(self) -> None:
        cube_props(self.cube_physics, 0, 'cube')  # raises ConfigError on an unknown mode
        w, h = self.scene.max_image_size
        if not (16 <= self.image_width <= w and 16 <= self.image_height <= h):
            raise ConfigError(f'image size must be within 16..{w} x 16..{h} px, got '
                              f'{self.image_width}x{self.image_height}')
        known = {c.name for c in ROBOT.cameras}
        if not set(self.cameras) <= known:
            raise ConfigError(f'cameras must be a subset of {sorted(known)}, got '
                              f'{self.cameras}')
        for name in ('object_x', 'object_y'):
            lo, hi = getattr(self, name)
            if not lo < hi:
                raise ConfigError(f'{name} must be (low, high) with low < high, got {lo, hi}')


class SimWorld:
    """One MuJoCo world. Not thread-safe: call everything from one thread (GL context)."""

    def __init__(self, config: WorldConfig = WorldConfig(), seed: int = 0) -> None:
        self.config = config
        self.model = mujoco.MjModel.from_xml_string(world_mjcf(config.scene))
        self.data = mujoco.MjData(self.model)
        m = self.model
        jid = [mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, n) for n in JOINT_NAMES]
        self.qadr = np.array([m.jnt_qposadr[j] for j in jid])
        self.dadr = np.array([m.jnt_dofadr[j] for j in jid])
        self.right_finger_qadr = m.jnt_qposadr[
            mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_JOINT, 'right_finger_joint')]
        self.arm_limits = np.array([(ROBOT.joint(n).lower, ROBOT.joint(n).upper)
                                    for n in C.DEFAULT_ARM_JOINTS])
        gj = ROBOT.joint(C.DEFAULT_GRIPPER_JOINT)
        self.gripper_limits = (gj.lower, gj.upper)
        self.gripper_max_effort = float(gj.effort)
        self.gripper_actuators = [  # the position servos are named <joint>_act (mjcf.py)
            mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_ACTUATOR, f'{j.name}_act')
            for j in ROBOT.joints if j.kind == 'prismatic']
        self.objects = tuple(f'{c}_cube' for c in config.scene.colours)
        self.obj_body = {o: mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, o)
                         for o in self.objects}
        self.obj_qadr = {o: m.jnt_qposadr[m.body_jntadr[b]] for o, b in self.obj_body.items()}
        self.obj_geom = {o: mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_GEOM, o)
                         for o in self.objects}
        self.cube_props: dict[str, CubeProps] = {}
        self.varied = CubePhysics(config.cube_physics) is CubePhysics.VARIED
        self._grip_alpha = math.exp(-m.opt.timestep / PEAK_FILTER_S)
        self._grip_filtered = self._grip_peak = 0.0
        robot_bodies = {mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, lk.name)
                        for lk in ROBOT.links}
        self.geom_is_robot = np.isin(m.geom_bodyid, list(robot_bodies))
        self.geom_object = np.full(m.ngeom, -1)
        for i, o in enumerate(self.objects):
            self.geom_object[m.geom_bodyid == self.obj_body[o]] = i
        self.geom_finger = np.full(m.ngeom, -1)
        for i, pad in enumerate(ROBOT.pads):
            b = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_BODY, pad.link)
            self.geom_finger[m.geom_bodyid == b] = i
        self.taxel_adr = np.concatenate([
            [m.sensor_adr[mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SENSOR, g.name)]
             for g in pad.taxel_geoms()] for pad in ROBOT.pads])
        self.pad_sizes = [pad.rows * pad.cols for pad in ROBOT.pads]
        self.tcp_site = mujoco.mj_name2id(m, mujoco.mjtObj.mjOBJ_SITE, 'tcp')
        self.home = ROBOT.home_positions()
        self.tracker = TaskTracker(self.objects, config.thresholds)
        self.mic = MicrophoneSynth(config.mic)
        self.events: list[dict] = []
        self.episode = 0
        self.seed = seed
        self._renderer: mujoco.Renderer | None = None
        self._renderer_thread: int | None = None
        self.reset(seed)

    # --- episode -----------------------------------------------------------------------------
    def sample_object_positions(self, seed: int) -> dict[str, tuple[float, float, float]]:
        """Seeded (x, y, yaw) per object, at least ``min_separation`` apart."""
        rng = np.random.default_rng(seed)
        c = self.config
        max_yaw = c.max_yaw if not self.varied else min(c.max_yaw, VARIED_MAX_YAW)
        placed: dict[str, tuple[float, float, float]] = {}
        for obj in self.objects:
            for _ in range(1000):
                x, y = rng.uniform(*c.object_x), rng.uniform(*c.object_y)
                if all(math.hypot(x - px, y - py) >= c.min_separation
                       for px, py, _ in placed.values()):
                    break
            placed[obj] = (x, y, rng.uniform(-max_yaw, max_yaw))
        return placed

    def reset(self, seed: int | None = None) -> None:
        """Home pose, open gripper, objects at seeded random poses, sim time 0."""
        self.seed = self.seed if seed is None else int(seed)
        self.episode += 1
        m, d = self.model, self.data
        self._apply_cube_props()   # before the state: mj_setConst resets qpos to qpos0
        mujoco.mj_resetData(m, d)
        d.qpos[self.qadr[:6]] = self.home
        d.qpos[self.qadr[6]] = d.qpos[self.right_finger_qadr] = self.gripper_limits[1]
        for obj, (x, y, yaw) in self.sample_object_positions(self.seed).items():
            a = self.obj_qadr[obj]
            d.qpos[a:a + 3] = (x, y, TABLE_TOP_Z + self.cube_props[obj].size_m / 2)
            d.qpos[a + 3:a + 7] = (math.cos(yaw / 2), 0, 0, math.sin(yaw / 2))
        self.arm_command = self.home.copy()
        self.gripper_command = self.gripper_limits[1]
        self.set_gripper_effort(self.gripper_max_effort)
        self._apply_ctrl()
        mujoco.mj_forward(m, d)
        self.tracker.reset(self.object_positions())
        self._grip_filtered = self._grip_peak = 0.0
        self.mic.reset(self.seed)
        self.events = []

    def _apply_cube_props(self) -> None:
        """Mass, inertia, friction and size of every cube for this episode's seed."""
        m = self.model
        for obj in self.objects:
            props = cube_props(self.config.cube_physics, self.seed, obj,
                               size_m=self.config.scene.cube_size)
            self.cube_props[obj] = props
            b, g, half = self.obj_body[obj], self.obj_geom[obj], props.size_m / 2
            m.body_mass[b] = props.mass_kg
            m.body_inertia[b] = props.mass_kg * (2 * half) ** 2 / 6
            m.geom_friction[g, 0] = props.friction
            m.geom_size[g] = half
            m.geom_rbound[g] = half * math.sqrt(3)
            m.geom_aabb[g] = (0, 0, 0, half, half, half)
        mujoco.mj_setConst(m, self.data)   # derived constants (subtree masses, inverse weights)

    # --- control -----------------------------------------------------------------------------
    def set_arm_command(self, q: np.ndarray) -> None:
        """Arm joint position targets [rad] (6, constants order), clipped to the limits."""
        q = np.asarray(q, float)
        if q.shape != (6,) or not np.all(np.isfinite(q)):
            raise ConfigError(f'arm command must be 6 finite values, got {q}')
        self.arm_command = np.clip(q, self.arm_limits[:, 0], self.arm_limits[:, 1])

    def set_gripper_command(self, opening: float) -> None:
        """Finger opening per finger [m] (0 = closed), clipped to the joint limits."""
        if not math.isfinite(opening):
            raise ConfigError(f'gripper command must be finite, got {opening}')
        self.gripper_command = float(np.clip(opening, *self.gripper_limits))

    def set_gripper_effort(self, newtons: float) -> None:
        """
        Max effort of each finger's position servo [N], clipped to [0, the joint's effort].

        What ros2_control's gripper action controller takes as ``max_effort``: the fingers
        close towards the commanded opening but never push harder than this. Reset restores
        the joint's effort limit.
        """
        if not math.isfinite(newtons):
            raise ConfigError(f'gripper effort must be finite, got {newtons}')
        e = float(np.clip(newtons, 0.0, self.gripper_max_effort))
        self.gripper_effort = e
        for a in self.gripper_actuators:
            self.model.actuator_forcerange[a] = (-e, e)

    def _apply_ctrl(self) -> None:
        self.data.ctrl[:6] = self.arm_command
        self.data.ctrl[6:8] = self.gripper_command  # both fingers: the mimic joint follows

    def step(self, n: int = 1) -> None:
        """Advance ``n`` physics steps (``scene.timestep`` each), tracking contacts."""
        self._apply_ctrl()
        a = self._grip_alpha
        for _ in range(n):
            mujoco.mj_step(self.model, self.data)
            self._track_contacts()
            if self.varied:   # the squeeze on a held cube, between task-state snapshots
                f = (float(np.abs(self.data.actuator_force[self.gripper_actuators]).sum())
                     if self.tracker.grasped else 0.0)
                self._grip_filtered = a * self._grip_filtered + (1.0 - a) * f
                self._grip_peak = max(self._grip_peak, self._grip_filtered)

    def _track_contacts(self) -> None:
        d = self.data
        if d.ncon == 0:
            self.tracker.update_contacts(set(), set())
            return
        g1, g2 = d.contact.geom1, d.contact.geom2
        touching, pads = set(), {}
        for a, b in ((g1, g2), (g2, g1)):
            hit = self.geom_is_robot[a] & (self.geom_object[b] >= 0)
            for ga, gb in zip(a[hit], b[hit]):
                obj = self.objects[self.geom_object[gb]]
                touching.add(obj)
                if self.geom_finger[ga] >= 0:
                    pads.setdefault(obj, set()).add(int(self.geom_finger[ga]))
        self.tracker.update_contacts(touching, {o for o, f in pads.items() if len(f) == 2})

    # --- sensing -----------------------------------------------------------------------------
    @property
    def time(self) -> float:
        """Sim time since reset [s]."""
        return float(self.data.time)

    def joint_state(self) -> tuple[tuple[str, ...], np.ndarray, np.ndarray]:
        """(names, positions [7], velocities [7]) in ``JOINT_NAMES`` order."""
        return JOINT_NAMES, self.data.qpos[self.qadr].copy(), self.data.qvel[self.dadr].copy()

    def tactile(self) -> np.ndarray:
        """Taxel normal forces [N], float32 [32]: left pad then right pad, row-major."""
        return self.data.sensordata[self.taxel_adr].astype(np.float32)

    def pad_forces(self) -> dict[str, float]:
        t, out, i = self.tactile(), {}, 0
        for pad, n in zip(ROBOT.pads, self.pad_sizes):
            out[pad.name] = float(t[i:i + n].sum())
            i += n
        return out

    def object_positions(self) -> dict[str, np.ndarray]:
        return {o: self.data.xpos[b].copy() for o, b in self.obj_body.items()}

    def object_yaw(self, obj: str) -> float:
        w, _, _, z = self.data.xquat[self.obj_body[obj]]
        return 2.0 * math.atan2(z, w)

    def tcp_pose(self) -> tuple[np.ndarray, np.ndarray]:
        """Tool centre point position [3] and rotation [3x3] in the world."""
        return (self.data.site_xpos[self.tcp_site].copy(),
                self.data.site_xmat[self.tcp_site].reshape(3, 3).copy())

    def render(self, camera: str) -> np.ndarray:
        """RGB image of ``camera``, uint8 [height, width, 3] (a new array)."""
        if self._renderer is None or self._renderer_thread != threading.get_ident():
            self._renderer = mujoco.Renderer(self.model, self.config.image_height,
                                             self.config.image_width)
            self._renderer_thread = threading.get_ident()
        self._renderer.update_scene(self.data, camera=camera)
        return self._renderer.render()

    def audio(self, n: int) -> np.ndarray:
        """Next ``n`` microphone samples, float32 in [-1, 1]."""
        speed = float(np.abs(self.data.qvel[self.dadr[:6]]).sum())
        return self.mic.synthesize(n, speed, sum(self.pad_forces().values()))

    def play_sound(self, spec: str) -> None:
        """``beep``, ``beep:<hz>:<seconds>`` or ``say:<text>``; logged in the task events."""
        kind, _, arg = spec.partition(':')
        if kind == 'beep':
            parts = [float(v) for v in arg.split(':')] if arg else []
            self.mic.beep(*parts[:2])
            self.events.append({'name': 'beep', 't': self.time})
        elif kind == 'say' and arg:
            self.mic.say(arg)
            self.events.append({'name': 'say', 't': self.time, 'text': arg})
        else:
            raise ConfigError(f"sound must be 'beep', 'beep:<hz>:<s>' or 'say:<text>', "
                              f'got {spec!r}')

    def play_speech(self, samples: np.ndarray, text: str) -> None:
        """Mix pre-synthesized speech (``audio.speak``) in; logged as a ``say`` event."""
        self.mic.play(self.config.mic.speech_gain * np.asarray(samples, np.float32))
        self.events.append({'name': 'say', 't': self.time, 'text': text})

    def task_state(self) -> TaskState:
        _, q, _ = self.joint_state()
        pos = self.object_positions()
        preds = self.tracker.predicates(pos, q[:6], self.home, q[6], self.gripper_limits[1])
        objects = {o: {'position': [round(float(v), 4) for v in pos[o]],
                       'initial_position': [round(float(v), 4) for v in self.tracker.initial[o]],
                       'yaw': round(self.object_yaw(o), 4),
                       'crush_n': round(self.cube_props[o].crush_n, 3)}
                   for o in self.objects}
        return TaskState(
            seed=self.seed, episode=self.episode, sim_time=round(self.time, 4),
            predicates=preds, objects=objects,
            tcp_position=[round(float(v), 4) for v in self.tcp_pose()[0]],
            gripper_opening=round(float(q[6]), 5),
            pad_force={k: round(v, 4) for k, v in self.pad_forces().items()},
            events=list(self.events), pad_force_peak=self._take_grip_peak())

    def _take_grip_peak(self) -> float | None:
        """
        Varied cubes: the peak squeeze since the last call [N], low-passed over 20 ms.

        The squeeze is the fingers' servo forces while both pads touch a cube: what a gripper
        presses a held object with. The taxels' own contact forces are not used here: MuJoCo's
        box-on-taxel contacts spike for milliseconds (to 10x the grip) when a pad slides along
        a cube edge, which no real object would feel.
        """
        if not self.varied:
            return None
        peak, self._grip_peak = self._grip_peak, self._grip_filtered
        return round(peak, 3)

    def close(self) -> None:
        if self._renderer is not None:
            self._renderer.close()
            self._renderer = None
