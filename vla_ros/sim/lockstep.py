"""
Lockstep episodes on :class:`SimWorld` (ROS-free).

The expert drives the world tick by tick and every stream the ``mujoco_sim`` node would publish
is handed to a sink at its rate.

The controller semantics are the node's: an arm joint_trajectory point is interpolated from
the current setpoint (:class:`TrajectoryFollower`), a gripper forward command overrides the
gripper, a gripper effort command sets the fingers' max effort until the next one (a reset
restores the full effort). The recorder turns the sink calls into the same MCAP messages a
ROS recording has.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from vla_ros.errors import ConfigError
from vla_ros.sim.expert import ScriptedExpert
from vla_ros.sim.ik import IkSolver
from vla_ros.sim.task_suite import start_delay, SuccessMonitor, TaskSpec
from vla_ros.sim.trajectory import TrajectoryFollower
from vla_ros.sim.world import SimWorld


NOISY_PHASES = frozenset({'approach', 'retreat', 'up', 'home'})  # expert phases with DART noise


@dataclass(frozen=True)
class StreamRates:
    """Publish rates [Hz, sim time] (the ``mujoco_sim`` parameters of the same names)."""

    camera_rate_hz: float = 10.0
    audio_chunk_rate_hz: float = 50.0
    tactile_rate_hz: float = 50.0
    joint_rate_hz: float = 50.0
    control_rate_hz: float = 10.0   # expert command rate

    def __post_init__(self) -> None:
        for k, v in self.__dict__.items():
            if not 0 < v <= 1000:
                raise ConfigError(f'{k} must be in (0, 1000] Hz, got {v!r}')


class EpisodeSink(Protocol):
    """Receives what the node would publish (``t`` = sim time [s])."""

    def command(self, t: float, text: str) -> None: ...
    def image(self, t: float, camera: str, rgb: np.ndarray) -> None: ...
    def audio(self, t_first: float, samples: np.ndarray, rate: int) -> None: ...
    def tactile(self, t: float, values: np.ndarray) -> None: ...
    def joints(self, t: float, names, q: np.ndarray, v: np.ndarray) -> None: ...
    def arm_command(self, t: float, q: np.ndarray, time_from_start: float) -> None: ...
    def gripper_command(self, t: float, opening: float) -> None: ...
    def gripper_effort(self, t: float, newtons: float) -> None: ...  # only when commanded
    def sound(self, t: float, spec: str) -> None: ...


@dataclass
class EpisodeOutcome:
    success: bool
    reason: str
    duration_s: float
    steps: int
    monitor: SuccessMonitor = field(repr=False)


class SimControllers:
    """
    The sim's controllers with the node's semantics.

    arm_controller (joint_trajectory), gripper_controller (forward command, opening [m]) and
    gripper_effort_controller (forward command, max effort [N]).
    """

    def __init__(self, q0: np.ndarray) -> None:
        self.follower = TrajectoryFollower(q0)
        self.gripper: float | None = None
        self.effort: float | None = None  # last max effort command [N] (None: none yet)

    def set_effort(self, world: SimWorld, newtons: float) -> None:
        """Take a max effort command [N] and apply it to ``world`` (it stays until the next)."""
        world.set_gripper_effort(newtons)
        self.effort = float(newtons)

    def arm_point(self, now: float, q: np.ndarray, time_from_start: float) -> None:
        full = np.append(np.asarray(q, float), 0.0)[None, :]
        mask = np.array([True] * 6 + [False])
        self.follower.set_trajectory(now, now, np.array([time_from_start]), full, None, mask)

    def setpoint(self, t: float) -> tuple[np.ndarray, float]:
        q = self.follower.sample(t)
        return q[:6], float(q[6]) if self.gripper is None else self.gripper


def run_expert_episode(world: SimWorld, task: TaskSpec, seed: int, *,
                       sink: EpisodeSink | None = None, rates: StreamRates = StreamRates(),
                       settle_s: float = 1.0, ik: IkSolver | None = None,
                       react: bool = True, noise_rad: float = 0.0,
                       expert: ScriptedExpert | None = None) -> EpisodeOutcome:
    """
    Reset to ``seed``, command ``task`` and let the expert act until success or the timeout.

    After success it continues the demonstration for ``settle_s``. With ``react`` the expert starts
    moving :func:`start_delay` after the command (frames at rest precede every motion).

    ``noise_rad`` > 0 injects noise into the executed arm targets (DART, Laskey et al. 2017):
    the arm follows the expert's target plus a smooth random offset (std ``noise_rad`` per
    joint, ~0.5 s correlation; only while travelling, :data:`NOISY_PHASES`: noise while
    grasping mostly knocks the cube away) while the sink records the expert's clean target,
    so the data shows how to get back onto the path from the states a learned policy drifts
    into.

    ``expert``: another demonstrator for ``task`` (default: :class:`ScriptedExpert`); one that
    listens (``expert.listens``) gets every microphone chunk, the stream the policy gets.
    """
    world.reset(seed)
    ik = ik or IkSolver(world.model)
    dt_ctl = 1.0 / rates.control_rate_hz
    expert = expert or ScriptedExpert(task, ik, world.home, dt_ctl)
    monitor = SuccessMonitor(task, seed)
    _, q0, _ = world.joint_state()
    ctl = SimControllers(q0)
    ts = world.model.opt.timestep
    periods = {'camera': 1 / rates.camera_rate_hz, 'audio': 1 / rates.audio_chunk_rate_hz,
               'tactile': 1 / rates.tactile_rate_hz, 'joints': 1 / rates.joint_rate_hz,
               'control': dt_ctl}
    due = dict.fromkeys(periods, 0.0)
    n_audio = int(round(world.config.mic.sample_rate / rates.audio_chunk_rate_hz))
    end_t, steps, decided = task.timeout_s, 0, False
    delay = start_delay(seed) if react else 0.0
    noise = _ArmNoise(noise_rad, seed)
    if sink:
        sink.command(0.0, task.command)
    while True:
        t = world.time
        eps = 0.5 * ts
        for stream in ('camera', 'audio', 'tactile', 'joints'):
            if (sink or (stream == 'audio' and expert.listens)
                    or (stream == 'tactile' and expert.feels)) and t + eps >= due[stream]:
                due[stream] += periods[stream]
                _emit(world, sink, stream, t, n_audio, expert)
        if t + eps >= due['control']:
            due['control'] += dt_ctl
            st = world.task_state()
            if not decided and monitor.update(st):
                decided = True
                end_t = t + (settle_s if monitor.success else 0.0)
            sounds = monitor.sounds_due(t)
            for spec in sounds:
                world.play_sound(spec)
                if sink:
                    sink.sound(t, spec)
            if sounds:
                st = world.task_state()
            if t >= end_t - eps:
                break
            if t >= delay - eps:  # the demonstrator reacts after a moment
                cmd = expert.act(st)
                off = noise.step() if expert.phase in NOISY_PHASES else 0.0
                ctl.arm_point(t, cmd.arm + off, dt_ctl)
                ctl.gripper = cmd.gripper
                if cmd.gripper_effort is not None:
                    ctl.set_effort(world, cmd.gripper_effort)
                if sink:
                    sink.arm_command(t, cmd.arm, dt_ctl)
                    sink.gripper_command(t, cmd.gripper)
                    if cmd.gripper_effort is not None:
                        sink.gripper_effort(t, cmd.gripper_effort)
        arm, grip = ctl.setpoint(t)
        world.set_arm_command(arm)
        world.set_gripper_command(grip)
        world.step(1)
        steps += 1
    if not decided:
        monitor.update(world.task_state())
    return EpisodeOutcome(monitor.success, monitor.reason, world.time, steps, monitor)


class _ArmNoise:
    """
    Ornstein-Uhlenbeck offsets per control tick.

    Stationary std ``std`` [rad], AR(1) coefficient ``rho`` (0.8 at 10 Hz: ~0.45 s correlation
    time).
    """

    def __init__(self, std: float, seed: int, rho: float = 0.8, joints: int = 6) -> None:
        self.std, self.rho = std, rho
        self.rng = np.random.default_rng([seed, 7])
        self.x = np.zeros(joints) if std <= 0 else self.rng.normal(0.0, std, joints)

    def step(self) -> np.ndarray:
        if self.std <= 0:
            return self.x
        self.x = self.rho * self.x + np.sqrt(1 - self.rho ** 2) * self.rng.normal(
            0.0, self.std, self.x.shape)
        return self.x


def _emit(world: SimWorld, sink: EpisodeSink | None, stream: str, t: float, n_audio: int,
          expert: ScriptedExpert) -> None:
    if stream == 'audio':
        rate = world.config.mic.sample_rate
        samples = world.audio(n_audio)
        if sink:
            sink.audio(max(0.0, t - n_audio / rate), samples, rate)
        expert.hear(t, samples, rate)
    elif stream == 'camera':
        for cam in world.config.cameras:
            sink.image(t, cam, world.render(cam))
    elif stream == 'tactile':
        taxels = world.tactile()
        if sink:
            sink.tactile(t, taxels)
        expert.feel(t, taxels)
    else:
        names, q, v = world.joint_state()
        sink.joints(t, names, q, v)
