"""
The round-trip figure of docs/lerobot.md (matplotlib).

One recorded episode -> LeRobotDataset -> bags -> the sync core again, source and round trip
side by side: ``python -m vla_ros.cli.lerobot_figure BAG --png docs/img/lerobot_round_trip.png``.
The round trip is the one ``vla-ros dataset export`` and ``vla-ros dataset import`` run.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from vla_ros.lerobot_io.from_bags import stage_bags
from vla_ros.lerobot_io.runner import run_worker
from vla_ros.lerobot_io.staging import read_episode
from vla_ros.lerobot_io.to_bags import staging_to_bags

REPO_ID = 'local/vla_ros'  # the dataset repo_id (as vla-ros dataset's default)


def _psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = float(np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2))
    return 99.0 if mse == 0 else float(10 * np.log10(255.0 ** 2 / mse))


def round_trip(bag: Path, work: Path) -> tuple[dict, dict, dict]:
    """
    (source episode, round-tripped episode, numbers) of one bag; ``work``: scratch directory.

    bag -> staging -> LeRobotDataset (the LeRobot venv's worker) -> staging -> bag -> staging.
    """
    meta = stage_bags([bag], work / 'src')
    run_worker(['write', str(work / 'src'), str(work / 'ds'), '--repo-id', REPO_ID])
    run_worker(['read', str(work / 'ds'), str(work / 'staging'), '--repo-id', REPO_ID])
    staging_to_bags(work / 'staging', work / 'bags')
    stage_bags([work / 'bags' / 'episode_000000'], work / 'back')
    a, b = read_episode(work / 'src', 0), read_episode(work / 'back', 0)
    nums = {f'psnr_{c}_db': float(np.mean([_psnr(x, y) for x, y in zip(
        a[f'image.{c}'], b[f'image.{c}'])])) for c in meta.cameras}
    for k in ('state', 'action', 'audio', 'tactile'):
        nums[f'max_abs_{k}'] = float(np.max(np.abs(a[k] - b[k])))
    nums['frames'] = len(a['action'])
    nums['dataset_mb'] = sum(f.stat().st_size for f in (work / 'ds').rglob('*')
                             if f.is_file()) / 1e6
    nums['bag_mb'] = sum(f.stat().st_size for f in bag.rglob('*') if f.is_file()) / 1e6
    return a, b, nums


def plot(a: dict, b: dict, nums: dict, png: Path, fps: int = 10) -> None:
    """Draw the round-trip figure (frames, state, action, audio, tactile) to ``png``."""
    import matplotlib  # optional heavy dependency: matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt

    n = len(a['action'])
    picks = np.linspace(0, n - 1, 4).astype(int)
    fig = plt.figure(figsize=(11, 7.5))
    gs = fig.add_gridspec(4, 4, height_ratios=[1, 1, 1.1, 1.1], hspace=0.6)
    for j, i in enumerate(picks):
        for r, (ep, name) in enumerate(((a, 'bag'), (b, 'round trip'))):
            ax = fig.add_subplot(gs[r, j])
            ax.imshow(ep['image.front'][i])
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(f'{name}, t={i / fps:.1f} s', fontsize=8)
    t = np.arange(n) / fps
    ax = fig.add_subplot(gs[2, :2])
    for k, col in ((1, 'C0'), (2, 'C1'), (6, 'C2')):
        ax.plot(t, a['state'][:, k] * (25 if k == 6 else 1), col, lw=2, alpha=0.4)
        ax.plot(t, b['state'][:, k] * (25 if k == 6 else 1), col + '--', lw=1)
    ax.set_title('state: shoulder, elbow, gripper x25; bag (thick), round trip (dashed)',
                 fontsize=9)
    ax.set_xlabel('s')
    ax = fig.add_subplot(gs[2, 2:])
    ax.plot(t, a['action'][:, 2], lw=2, alpha=0.4, label='bag')
    ax.plot(t, b['action'][:, 2], '--', lw=1, label='round trip')
    ax.set_title('action (elbow target, rad)', fontsize=9)
    ax.legend(fontsize=7)
    ax = fig.add_subplot(gs[3, :2])
    ax.plot(np.arange(a['audio'].size) / 16000, a['audio'].ravel(), lw=0.5, alpha=0.5)
    ax.plot(np.arange(b['audio'].size) / 16000, b['audio'].ravel(), lw=0.3)
    ax.set_title('audio: the frame-period PCM, concatenated', fontsize=9)
    ax = fig.add_subplot(gs[3, 2:])
    ax.plot(t, a['tactile'].sum(1), lw=2, alpha=0.4)
    ax.plot(t, b['tactile'].sum(1), '--', lw=1)
    ax.set_title('tactile: sum of the 32 taxels [N]', fontsize=9)
    sa = max(nums['max_abs_state'], nums['max_abs_action'])
    fig.suptitle(f'Bag -> LeRobotDataset -> bag: images PSNR {nums["psnr_front_db"]:.1f} dB '
                 f'(AV1), state / action / audio / tactile max |diff| {sa:.0e} / '
                 f'{nums["max_abs_audio"]:.0e} / {nums["max_abs_tactile"]:.0e}', fontsize=10)
    png.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(png, dpi=90, bbox_inches='tight')
