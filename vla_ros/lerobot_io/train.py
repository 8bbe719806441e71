"""
Train a LeRobot policy with LeRobot's own trainer (``lerobot-train``) on this CPU.

It runs in the LeRobot venv; the robot side starts it (stdlib only).

``SMALL_ACT`` is the ACT size of the quick round trip (a tiny transformer on the ResNet-18
backbone, random init: nothing is downloaded); the LeRobot defaults are the real ACT. On a
cluster, run ``lerobot-train`` (accelerate, multi-GPU) on the exported dataset instead.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path
import re

SMALL_ACT = ('--policy.dim_model=64', '--policy.n_heads=4',
             '--policy.dim_feedforward=128', '--policy.n_encoder_layers=1',
             '--policy.n_decoder_layers=1', '--policy.n_vae_encoder_layers=1')
LOSS_RE = re.compile(r'step:(\d+)\S* .*?loss:([0-9.eE+-]+)')


def checkpoint_dir(out: Path) -> Path:
    """Return the ``pretrained_model`` directory of a run's last checkpoint."""
    return out / 'checkpoints' / 'last' / 'pretrained_model'


def train_lerobot(dataset: Path, out: Path, *, run_worker: Callable, policy: str = 'act',
                  steps: int = 2000, batch_size: int = 8, chunk_size: int = 20,
                  log_freq: int = 50, save_freq: int = 0, extra: Sequence[str] = (),
                  quiet: bool = False, repo_id: str = 'local/vla_ros') -> list[tuple[int, float]]:
    """Run lerobot-train; return the logged (step, loss) pairs."""
    args = ['train', f'--dataset.repo_id={repo_id}', f'--dataset.root={dataset}',
            f'--policy.type={policy}', '--policy.device=cpu', '--policy.push_to_hub=false',
            f'--steps={steps}', f'--batch_size={batch_size}', f'--log_freq={log_freq}',
            f'--save_freq={save_freq or steps}', '--num_workers=0', f'--output_dir={out}',
            '--wandb.enable=false', '--eval_freq=0']
    if policy == 'act':
        args += ['--policy.pretrained_backbone_weights=null',
                 f'--policy.chunk_size={chunk_size}', f'--policy.n_action_steps={chunk_size}']
    text = run_worker([*args, *extra], quiet=quiet)
    return [(int(s), float(v)) for s, v in LOSS_RE.findall(text)]
