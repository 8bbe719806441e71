"""
Feed synthetic frames through the real :class:`PolicyRuntime` (``vla-ros bundle check``).

Torch- and ROS-free. The frames carry what the manifest asks for: a random 640x480 image per
camera, joint positions around the manifest's state mean, tactile / audio of the right size,
a command, and a full history. Every input is built and checked exactly as on the robot, the
graph runs, and every output is compared with the manifest. A disagreement the loader cannot
see (a symbolic graph dimension that the graph refuses at run time, an output of another
shape) raises :class:`~vla_ros.errors.ContractCheckError` naming the input or output.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
from vla_ros.core.bundle.contract import InputKind, Manifest
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.frame import Frame, TactileLayout
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.errors import ContractCheckError, InferenceError

PHASES = ('preprocess', 'run', 'postprocess', 'total')
COMMAND = 'pick up the red cube'


@dataclass(frozen=True)
class InputReport:
    """One built input: shape, dtype and value range [min, max]."""

    name: str
    kind: str
    shape: tuple[int, ...]
    dtype: str
    low: float
    high: float


@dataclass(frozen=True)
class CheckReport:
    """
    What ``bundle check`` measured.

    :ivar timings_ms: phase -> (p50, p95) [ms] over ``runs`` chunks (after one warm-up).
    :ivar action_low / action_high: per action, min / max over the chunks (physical units).
    """

    model_id: str
    format_version: int
    inputs: tuple[InputReport, ...]
    timings_ms: dict[str, tuple[float, float]]
    runs: int
    action_names: tuple[str, ...]
    action_low: tuple[float, ...]
    action_high: tuple[float, ...]


def _joint_names(m: Manifest) -> list[str]:
    names: list[str] = []
    for s in m.inputs:
        if s.kind == InputKind.JOINTS.value:
            names += list(s.preprocessing['joint_names'])
    if m.action_post is not None:
        names += list(m.action_post.delta_joints)
    return list(dict.fromkeys(names))


def synthetic_frame(m: Manifest, stamp_ns: int, rng: np.random.Generator, *,
                    image_size: tuple[int, int] = (480, 640)) -> Frame:
    """Make a frame with every modality of ``m`` present (no history)."""
    names = _joint_names(m)
    pos = np.zeros(len(names))
    for s in m.inputs:
        if s.kind == InputKind.JOINTS.value:
            pre = s.preprocessing
            idx = [names.index(n) for n in pre['joint_names']]
            pos[idx] = np.asarray(pre['position_mean']) + 0.5 * np.asarray(
                pre['position_std']) * rng.standard_normal(len(idx))
    tactile = next((s for s in m.inputs if s.kind == InputKind.TACTILE.value), None)
    n_tac = int(np.prod(tactile.shape[1:])) if tactile else 0
    cams = m.cameras
    return Frame(
        stamp_ns=stamp_ns,
        images={c: rng.integers(0, 256, (*image_size, 3), dtype=np.uint8) for c in cams},
        audio=rng.uniform(-0.3, 0.3, 16000).astype(np.float32),
        tactile=rng.uniform(0, 1, n_tac).astype(np.float32) if n_tac else None,
        tactile_layout=TactileLayout(('synthetic',), ((n_tac, 1, 1),)) if n_tac else None,
        joint_names=tuple(names), joint_positions=pos,
        joint_velocities=0.01 * rng.standard_normal(len(names)), command=COMMAND,
        present={**{f'image/{c}': True for c in cams}, 'audio': True,
                 'tactile': bool(n_tac), 'joints': True, 'language': True})


def _with_history(m: Manifest, frame: Frame, rng: np.random.Generator) -> Frame:
    if m.history is None:
        return frame
    step = int(m.history.spacing_s * 1e9)
    frame.history = tuple(synthetic_frame(m, frame.stamp_ns - i * step, rng)
                          for i in range(m.history.frames - 1, 0, -1))
    return frame


def check_bundle_dir(path: str | Path, *, runs: int = 20, verify_hashes: bool = True,
                     image_size: tuple[int, int] = (480, 640), seed: int = 0) -> CheckReport:
    """
    Load, open and run a bundle ``runs`` times on synthetic frames; return the report.

    Raises the loader's BundleError subclasses, or ContractCheckError where the graph
    disagrees with the contract when it runs.
    """
    rt = PolicyRuntime(load_bundle(path, verify_hashes=verify_hashes))
    m = rt.manifest
    rng = np.random.default_rng(seed)
    frames = [_with_history(m, synthetic_frame(m, 1_000_000_000 + i * 100_000_000, rng,
                                               image_size=image_size), rng)
              for i in range(min(runs, 4))]
    try:
        feeds = rt.build_inputs(frames[0])
        outs = rt.run_raw(feeds)
    except InferenceError as e:
        raise ContractCheckError(f'contract and graph disagree: {e}') from e
    for o in m.outputs:
        got = outs[o.name].shape
        if len(got) != len(o.shape) or any(w not in (-1, g) for g, w in zip(got, o.shape)):
            raise ContractCheckError(f'output {o.name!r}: the graph returns shape {list(got)},'
                                     f' the manifest says {list(o.shape)}')
    reports = tuple(InputReport(s.name, s.kind, tuple(feeds[s.name].shape),
                                str(feeds[s.name].dtype), float(np.min(feeds[s.name])),
                                float(np.max(feeds[s.name]))) for s in m.inputs)
    times: dict[str, list[float]] = {p: [] for p in PHASES}
    chunks = []
    try:
        rt.infer(frames[0])  # warm-up
        for i in range(runs):
            out = rt.infer(frames[i % len(frames)])
            chunks.append(out.actions)
            for p in PHASES:
                times[p].append(out.timings_ms[p])
    except InferenceError as e:
        raise ContractCheckError(f'contract and graph disagree: {e}') from e
    acts = np.concatenate(chunks)
    return CheckReport(
        model_id=m.model_id, format_version=m.format_version, inputs=reports, runs=runs,
        timings_ms={p: (float(np.percentile(v, 50)), float(np.percentile(v, 95)))
                    for p, v in times.items()},
        action_names=m.action_names, action_low=tuple(acts.min(axis=0).tolist()),
        action_high=tuple(acts.max(axis=0).tolist()))
