"""
The LeRobot round trip for tests, built once per session and shared.

Two sim demos (64 px) -> ``vla-ros dataset export`` -> LeRobot ACT (tiny, a few steps) ->
``export --from-lerobot``; and a reduced random SmolVLA / Diffusion Policy saved by LeRobot ->
their bundles.

Skips with the reason when the LeRobot tooling venv is missing (``make setup`` creates it).
"""

from __future__ import annotations

import atexit
import contextlib
from dataclasses import dataclass
import functools
import io
import json
from pathlib import Path
import re
import shutil
import tempfile

import pytest

SIM_OVERRIDES = {'image_width': 64, 'image_height': 64, 'camera_rate_hz': 10.0,
                 'tactile_rate_hz': 50.0, 'joint_rate_hz': 50.0}
TRAIN_STEPS = 20
_PARITY_STD: dict[str, float] = {}  # policy type -> the parity its export printed [action std]


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
    printed = io.StringIO()
    with contextlib.redirect_stdout(printed):
        code = main(['export', '--from-lerobot', str(ckpt), '--out', str(out), '--fps', '10'])
    print(printed.getvalue(), end='')
    assert code == 0, printed.getvalue()
    parity = re.search(r'parity with LeRobot: max \|diff\| (\S+) action std', printed.getvalue())
    assert parity, f'the export printed no parity: {printed.getvalue()}'
    _PARITY_STD[kind] = float(parity.group(1))
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


def real_vla_cache(out: Path) -> Path:
    """
    Lay the reduced SmolVLA / Diffusion checkpoints and bundles out as bench_real_vla's cache.

    ``<type>_ckpt`` and ``<type>_fp32`` link to :func:`smolvla_checkpoint` / :func:`smolvla_bundle`
    (and Diffusion's), ``<type>_export.json`` holds the export's parity: the bench smoke
    (``VLA_BENCH_REAL_VLA_CACHE``) then serves, quantizes and times the very exports the LeRobot
    tests checked instead of building the same reduced policies again. Returns ``out``.
    """
    out.mkdir(parents=True, exist_ok=True)
    for kind, ckpt, bundle in (('smolvla', smolvla_checkpoint, smolvla_bundle),
                               ('diffusion', diffusion_checkpoint, diffusion_bundle)):
        b = bundle()  # builds the checkpoint too
        (out / f'{kind}_ckpt').symlink_to(ckpt())
        (out / f'{kind}_fp32').symlink_to(b)
        (out / f'{kind}_export.json').write_text(json.dumps({'parity_std': _PARITY_STD[kind]}))
    return out
