"""One closed-loop episode's outcome, as :mod:`vla_ros.eval.episode` reports it."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np


@dataclass
class EpisodeResult:
    """One closed-loop episode. Times: ``duration_s`` sim time, ``wall_s`` wall time."""

    task: str
    kind: str
    colour: str
    command: str
    seed: int
    success: bool
    reason: str
    duration_s: float
    wall_s: float
    latency_ms: float          # mean policy run() time [ms] (from ~/status)
    e2e_ms: float              # mean frame stamp -> chunk ready [ms]
    control_rate_hz: float
    frame_rate_hz: float
    chunks: int
    mask: tuple[str, ...] = ()
    held_out: bool = False     # the command was held out (paraphrase or held-out words)
    variant: str = ''          # held-out-words rule of the command (vla_ros.sim.language)
    policy_command: str = ''   # the command ~/status reported while running ('' = never ran)
    # largest velocity step at a chunk boundary [rad/s], commanded and planned, and the
    # boundaries, from ~/status (vla_ros/core/control/boundary_steps.py defines them)
    boundary_step_max: float = 0.0
    boundary_step_max_planned: float = 0.0
    chunk_boundaries: int = 0
    frames: list[np.ndarray] = field(default_factory=list, repr=False)
