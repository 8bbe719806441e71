"""
The LeRobot round trip for tests, built once per session and shared.

Two sim demos (64 px) -> ``vla-ros dataset export`` -> LeRobot ACT (tiny, a few steps) ->
``export --from-lerobot``; and a reduced random SmolVLA / Diffusion Policy saved by LeRobot ->
their bundles.

Skips with the reason when the LeRobot tooling venv is missing (``make setup`` creates it).
"""

from __future__ import annotations

import atexit
from dataclasses import dataclass
import functools
from pathlib import Path
import shutil
import tempfile

import pytest

SIM_OVERRIDES = {'image_width': 64, 'image_height': 64, 'camera_rate_hz': 10.0,
                 'tactile_rate_hz': 50.0, 'joint_rate_hz': 50.0}
TRAIN_STEPS = 20


def require_lerobot() -> None:
    from vla_ros.errors import LeRobotEnvError
    from vla_ros.lerobot_io.runner import lerobot_python

    try:
        lerobot_python()
    except LeRobotEnvError as e:
        pytest.skip(f'LeRobot tooling venv missing ({e})')


@dataclass(frozen=True)
class Chain:
    root: Path
    demos: Path
    dataset: Path


@functools.cache
def chain() -> Chain:
    """Demos + the exported LeRobotDataset (built on first use)."""
    from vla_ros.cli.main import main
    from vla_ros.data.datagen import generate
    from vla_ros.harness.sim_config import sim_node_params

    require_lerobot()
    root = Path(tempfile.mkdtemp(prefix='vla_ros_lerobot_test_'))
    atexit.register(shutil.rmtree, root, True)
    demos = root / 'demos'
    recs = generate(demos, kinds=['pick', 'beep'], episodes_per_kind=1,
                    sim=sim_node_params(SIM_OVERRIDES))
    assert all(r.success for r in recs)
    assert main(['dataset', 'export', str(demos), '--out', str(root / 'dataset')]) == 0
    return Chain(root, demos, root / 'dataset')


@functools.cache
def act_run() -> tuple[Path, list[tuple[int, float]]]:
    """Train a tiny LeRobot ACT on the chain's dataset; (checkpoint dir, logged losses)."""
    from vla_ros.lerobot_io.runner import run_worker
    from vla_ros.lerobot_io.train import checkpoint_dir, SMALL_ACT, train_lerobot

    c = chain()
    out = c.root / 'act_run'
    losses = train_lerobot(c.dataset, out, run_worker=run_worker, steps=TRAIN_STEPS,
                           batch_size=8, chunk_size=10, log_freq=5, extra=SMALL_ACT, quiet=True)
    return checkpoint_dir(out), losses


@functools.cache
def act_bundle() -> Path:
    """``vla-ros export --from-lerobot`` of :func:`act_run`'s checkpoint."""
    from vla_ros.cli.main import main

    ckpt, _ = act_run()
    out = chain().root / 'lerobot-act'  # the directory name is the model_id the test awaits
    assert main(['export', '--from-lerobot', str(ckpt), '--out', str(out)]) == 0
    return out


@functools.cache
def smolvla_checkpoint() -> Path:
    """Save a reduced random SmolVLA with LeRobot's classes (no sim data needed)."""
    from vla_ros.lerobot_io.runner import run_worker

    require_lerobot()
    root = Path(tempfile.mkdtemp(prefix='vla_ros_smolvla_test_'))
    atexit.register(shutil.rmtree, root, True)
    run_worker(['smolvla-checkpoint', str(root / 'ckpt'), '--reduced', '--camera',
                'front=96x128'], quiet=True)
    return root / 'ckpt'


def _export(ckpt: Path, kind: str) -> Path:
    """``vla-ros export --from-lerobot`` of ``ckpt`` (10 Hz, 7 joints) beside it."""
    from vla_ros.cli.main import main

    out = ckpt.parent / f'lerobot-{kind}'  # the directory name is the model_id
    assert main(['export', '--from-lerobot', str(ckpt), '--out', str(out), '--fps', '10']) == 0
    return out


@functools.cache
def smolvla_bundle() -> Path:
    """``vla-ros export --from-lerobot`` of :func:`smolvla_checkpoint` (10 Hz, 7 joints)."""
    return _export(smolvla_checkpoint(), 'smolvla')


@functools.cache
def diffusion_checkpoint() -> Path:
    """Save a reduced random Diffusion Policy with LeRobot's classes (no sim data needed)."""
    from vla_ros.lerobot_io.runner import run_worker

    require_lerobot()
    root = Path(tempfile.mkdtemp(prefix='vla_ros_diffusion_test_'))
    atexit.register(shutil.rmtree, root, True)
    run_worker(['diffusion-checkpoint', str(root / 'ckpt'), '--reduced'], quiet=True)
    return root / 'ckpt'


@functools.cache
def diffusion_bundle() -> Path:
    """``vla-ros export --from-lerobot`` of :func:`diffusion_checkpoint` (10 Hz, 7 joints)."""
    return _export(diffusion_checkpoint(), 'diffusion')
