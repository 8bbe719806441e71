"""Synthetic batches and a minimal training loop (tests, smoke training, export examples)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from torch import nn
from vla_ros.constants import Modality
from vla_ros.core.features.audio import log_mel
from vla_ros.core.features.tokenizer import BYTE_VOCAB_SIZE
from vla_ros.errors import ConfigError
from vla_ros.model.config import ModelConfig
from vla_ros.model.policy import VlaPolicyNet


def example_inputs(cfg: ModelConfig, *, batch: int = 2, seed: int = 0,
                   random_presence: bool = False) -> tuple[torch.Tensor, ...]:
    """
    Random model inputs in :func:`vla_ros.model.config.input_names` order.

    Audio goes through the shared numpy log-mel front end, like at run time.
    """
    g = torch.Generator().manual_seed(seed)
    rng = np.random.default_rng(seed)
    h, w = cfg.image_size
    xs: list[torch.Tensor] = [torch.randn(batch, 3, h, w, generator=g) for _ in cfg.cameras]
    if cfg.use_audio:
        mels = [log_mel(rng.uniform(-0.5, 0.5, cfg.mel.n_samples).astype(np.float32), cfg.mel)
                for _ in range(batch)]
        xs.append(torch.from_numpy(np.stack(mels)))
    if cfg.tactile_pads:
        xs.append(torch.rand(batch, cfg.tactile_dim, generator=g))
    if cfg.delay_aware:  # a different prefix length per example, the first with none
        mask = (torch.arange(cfg.horizon)[None, :]
                < torch.arange(batch)[:, None] % (cfg.max_delay + 1)).float()
        xs += [torch.randn(batch, cfg.horizon, cfg.action_dim, generator=g) * mask[..., None],
               mask]
    xs.append(torch.randn(batch, cfg.proprio_dim, generator=g))
    xs.append(torch.randn(batch, cfg.text_dim, generator=g))
    m = len(cfg.modality_keys)
    if random_presence:
        pres = (torch.rand(batch, m, generator=g) > 0.3).float()
        pres[:, -1] = 1.0  # proprioception always present
    else:
        pres = torch.ones(batch, m)
    xs.append(pres)
    return tuple(xs)


def synthetic_targets(cfg: ModelConfig, inputs: tuple[torch.Tensor, ...]) -> torch.Tensor:
    """Return a learnable target: actions drift from the current joint positions, B x H x A."""
    proprio = inputs[-3][:, :cfg.action_dim]
    steps = torch.linspace(0.0, 1.0, cfg.horizon).reshape(1, -1, 1)
    return torch.tanh(proprio).unsqueeze(1) * (1.0 - steps) + 0.5 * steps


def modality_dropout(presence: torch.Tensor, p: float, keys: tuple[str, ...],
                     generator: torch.Generator | None = None) -> torch.Tensor:
    """Randomly mark modalities absent (never proprioception) with probability p."""
    if p <= 0:
        return presence
    drop = torch.rand(presence.shape, generator=generator) < p
    drop[:, keys.index(Modality.JOINTS.value)] = False
    return presence * (~drop).float()


def train_steps(model: VlaPolicyNet, steps: int = 5, *, batch: int = 4, lr: float = 3e-3,
                seed: int = 0, on_step: Callable[[int, float], None] | None = None
                ) -> list[float]:
    """Fit the synthetic target on one fixed batch (with modality dropout). Returns losses."""
    cfg = model.cfg
    inputs = example_inputs(cfg, batch=batch, seed=seed)
    target = synthetic_targets(cfg, inputs)
    opt = torch.optim.Adam([p for p in model.parameters() if p.requires_grad], lr=lr)
    g = torch.Generator().manual_seed(seed + 1)
    losses = []
    model.train()
    for step in range(steps):
        pres = modality_dropout(inputs[-1], cfg.modality_dropout, cfg.modality_keys, g)
        out = model(*inputs[:-1], pres)
        actions = out[0] if isinstance(out, tuple) else out
        loss = nn.functional.mse_loss(actions, target)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if on_step:
            on_step(step, losses[-1])
    model.eval()
    return losses


def count_params(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())


def save_checkpoint(path, policy: VlaPolicyNet, text_encoder: nn.Module | None = None,
                    stats: dict | None = None, commands: list[str] | None = None) -> None:
    """
    Save a checkpoint = {'config', 'policy', 'text_encoder', 'stats', 'commands'}.

    That is what `vla-ros export` reads with --checkpoint (``commands``: the training
    commands, for the bundle's competence check).
    """
    torch.save({'config': policy.cfg.to_dict(), 'policy': policy.state_dict(),
                'text_encoder': None if text_encoder is None else text_encoder.state_dict(),
                'stats': stats or {}, 'commands': list(commands or [])}, path)


def checkpoint_commands(path) -> list[str]:
    """Return the training commands a checkpoint recorded ([] for older checkpoints)."""
    ck = torch.load(path, map_location='cpu', weights_only=False)
    return list(ck.get('commands') or []) if isinstance(ck, dict) else []


def load_checkpoint(path) -> tuple[VlaPolicyNet, dict | None, dict]:
    """(policy, text-encoder state dict or None, stats dict) from :func:`save_checkpoint`."""
    try:
        ck = torch.load(path, map_location='cpu', weights_only=False)
    except (OSError, RuntimeError, EOFError) as e:
        raise ConfigError(f'cannot read checkpoint {path}: {e}') from e
    if not isinstance(ck, dict) or not {'config', 'policy'} <= set(ck):
        raise ConfigError(f'{path} is not a vla_ros checkpoint (no config/policy entries)')
    cfg = dict(ck['config'])
    text = ck.get('text_encoder') or {}
    emb = text.get('emb.weight')
    if (cfg.get('text_encoder', 'bytes') == 'bytes' and emb is not None
            and emb.shape[0] != BYTE_VOCAB_SIZE):
        # checkpoints of `vla-ros train` before the wordbag kind existed say 'bytes'
        cfg['text_encoder'] = 'wordbag'
    policy = VlaPolicyNet(ModelConfig.from_dict(cfg))
    policy.load_state_dict(ck['policy'])
    return policy.eval(), ck.get('text_encoder'), ck.get('stats') or {}


TRAIN_STATE = 'train_state.pt'  # beside checkpoint.pt in the work directory


def save_train_state(path, *, signature: dict, step: int, losses: list[float],
                     elapsed_s: float, policy: nn.Module, text: nn.Module,
                     opt: torch.optim.Optimizer, batch_rng_state: dict) -> None:
    """
    Save everything a run needs to continue bit-for-bit from ``step`` (written atomically).

    ``signature``: the settings that must match to resume (data, fusion, steps, batch, seed...).
    """
    tmp = Path(path).with_suffix('.tmp')
    torch.save({'signature': signature, 'step': step, 'losses': list(losses),
                'elapsed_s': elapsed_s, 'policy': policy.state_dict(),
                'text': text.state_dict(), 'opt': opt.state_dict(),
                'batch_rng': batch_rng_state, 'torch_rng': torch.get_rng_state()}, tmp)
    tmp.replace(path)


def load_train_state(path, signature: dict) -> dict | None:
    """Return the saved state if it exists and its signature equals ``signature``, else None."""
    path = Path(path)
    if not path.exists():
        return None
    try:
        st = torch.load(path, map_location='cpu', weights_only=False)
    except (OSError, RuntimeError, EOFError):
        return None
    return st if isinstance(st, dict) and st.get('signature') == signature else None
