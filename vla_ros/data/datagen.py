"""
Fast demonstration generation: the scripted expert in lockstep with :class:`SimWorld`.

Written straight to MCAP bags with the same topics and messages a ROS recording has.

One bag per episode under ``out_dir`` (named ``<kind>_<colour>_<seed>``), plus
``episodes.jsonl`` (task, command, seed, success, duration). Failed expert episodes are
dropped (their bag deleted) and counted.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
import json
from pathlib import Path
import shutil

import numpy as np
from vla_ros import constants as C
from vla_ros.data import bagio
from vla_ros.harness.sim_config import (lockstep_setup, NodeParams, sim_node_params,
                                        write_recorded_with)
from vla_ros.sim.ik import IkSolver
from vla_ros.sim.lockstep import run_expert_episode
from vla_ros.sim.robot import ROBOT
from vla_ros.sim.task_suite import EVAL_SEED_BASE, make_task, TaskKind
from vla_ros.sim.world import SimWorld

NS = 1_000_000_000


def _ns(t: float) -> int:
    return int(round(t * NS))


class BagSink:
    """
    An :class:`~vla_ros.sim.lockstep.EpisodeSink` that writes an episode to a bag.

    It writes what ``mujoco_sim`` and the teleop publisher would put on the wire, at sim-time
    log stamps.
    """

    def __init__(self, writer: bagio.BagWriter) -> None:
        self.w = writer
        self.pads = [(p.name, p.rows, p.cols) for p in ROBOT.pads]

    def command(self, t: float, text: str) -> None:
        self.w.write(C.COMMAND_TOPIC, _ns(t), bagio.string_msg(text))

    def image(self, t: float, camera: str, rgb: np.ndarray) -> None:
        self.w.write(C.camera_topic(camera), _ns(t),
                     bagio.image_msg(_ns(t), rgb, f'{camera}_camera_optical_frame'))

    def audio(self, t_first: float, samples: np.ndarray, rate: int) -> None:
        t_end = t_first + len(samples) / rate
        self.w.write(C.AUDIO_TOPIC, _ns(t_end), bagio.audio_msg(_ns(t_first), samples, rate))

    def tactile(self, t: float, values: np.ndarray) -> None:
        self.w.write(C.TACTILE_TOPIC, _ns(t), bagio.tactile_msg(_ns(t), values, self.pads))

    def joints(self, t: float, names, q: np.ndarray, v: np.ndarray) -> None:
        self.w.write(C.JOINT_STATES_TOPIC, _ns(t), bagio.joint_state_msg(_ns(t), names, q, v))

    def arm_command(self, t: float, q: np.ndarray, time_from_start: float) -> None:
        self.w.write(bagio.ARM_TRAJECTORY_TOPIC, _ns(t), bagio.trajectory_msg(
            _ns(t), C.DEFAULT_ARM_JOINTS, q, time_from_start))

    def gripper_command(self, t: float, opening: float) -> None:
        self.w.write(bagio.GRIPPER_COMMANDS_TOPIC, _ns(t), bagio.float_array_msg([opening]))

    def gripper_effort(self, t: float, newtons: float) -> None:
        self.w.write(bagio.GRIPPER_EFFORT_COMMANDS_TOPIC, _ns(t),
                     bagio.float_array_msg([newtons]))

    def sound(self, t: float, spec: str) -> None:
        self.w.write(bagio.SOUND_TOPIC, _ns(t), bagio.string_msg(spec))


@dataclass
class EpisodeRecord:
    bag: str
    kind: str
    colour: str
    command: str
    seed: int
    success: bool
    reason: str
    duration_s: float


def generate(out_dir: str | Path, *, kinds: Sequence[str] = tuple(k.value for k in TaskKind),
             episodes_per_kind: int = 10, seed_start: int = 0, sim: NodeParams | None = None,
             noise_rad: float = 0.0,
             progress: Callable[[EpisodeRecord], None] | None = None) -> list[EpisodeRecord]:
    """
    Record ``episodes_per_kind`` successful expert demonstrations of each kind.

    ``noise_rad``: DART noise on the executed arm targets, see ``run_expert_episode``.

    ``sim``: the ``mujoco_sim`` parameters to mimic (cameras, image size, stream rates;
    default config/sim.yaml); written to ``<out_dir>/recorded_with.yaml``.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    sim = sim or sim_node_params()
    world_config, rates = lockstep_setup(sim)
    write_recorded_with(out, sim)
    world = SimWorld(world_config)
    ik = IkSolver(world.model)
    records: list[EpisodeRecord] = []
    index = (out / 'episodes.jsonl').open('a')
    try:
        for kind in kinds:
            seed, done = seed_start, 0
            while done < episodes_per_kind:
                if seed >= EVAL_SEED_BASE:
                    raise ValueError(f'training seeds must stay below {EVAL_SEED_BASE}')
                task = make_task(kind, seed)
                bag = out / f'{task.name}_{seed:06d}'
                if bag.exists():
                    shutil.rmtree(bag)
                with bagio.BagWriter(bag) as w:
                    res = run_expert_episode(world, task, seed, sink=BagSink(w), rates=rates,
                                             ik=ik, noise_rad=noise_rad)
                rec = EpisodeRecord(bag.name, kind, task.colour, task.command, seed, res.success,
                                    res.reason, round(res.duration_s, 2))
                if res.success:
                    done += 1
                    index.write(json.dumps(asdict(rec)) + '\n')
                    index.flush()
                else:
                    shutil.rmtree(bag)
                records.append(rec)
                if progress:
                    progress(rec)
                seed += 1
    finally:
        index.close()
        world.close()
    return records


def load_index(data_dir: str | Path) -> list[EpisodeRecord]:
    """Return the successful episodes listed in ``episodes.jsonl`` whose bags exist."""
    d = Path(data_dir)
    out = []
    idx = d / 'episodes.jsonl'
    if idx.exists():
        for line in idx.read_text().splitlines():
            if line.strip():
                rec = EpisodeRecord(**json.loads(line))
                if (d / rec.bag).exists():
                    out.append(rec)
    return out
