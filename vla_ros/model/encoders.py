"""Per-modality encoders: each maps its input to B x N x d tokens."""

from __future__ import annotations

import torch
from torch import nn
from vla_ros.model.config import ModelConfig
from vla_ros.model.layers import EncoderBlock


class ImageEncoder(nn.Module):
    """
    ViT from scratch: non-overlapping patches (reshape + Linear) + positions + blocks.

    Input B x 3 x H x W float32 (``image_to_tensor`` output) -> B x (H/p * W/p) x d.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.p = cfg.patch
        self.gh, self.gw = cfg.image_size[0] // cfg.patch, cfg.image_size[1] // cfg.patch
        self.embed = nn.Linear(3 * cfg.patch * cfg.patch, cfg.d_model)
        self.pos = nn.Parameter(torch.randn(1, self.gh * self.gw, cfg.d_model) * 0.02)
        self.blocks = nn.Sequential(*(EncoderBlock(cfg.d_model, cfg.n_heads, cfg.ff_mult)
                                      for _ in range(cfg.image_layers)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p, gh, gw = self.p, self.gh, self.gw
        x = x.reshape(-1, 3, gh, p, gw, p).permute(0, 2, 4, 1, 3, 5)
        x = x.reshape(-1, gh * gw, 3 * p * p)
        return self.blocks(self.embed(x) + self.pos)


class AudioEncoder(nn.Module):
    """Small CNN over log-mel: B x n_mels x T -> B x ceil(T / stride) x d."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        d, s = cfg.d_model, cfg.audio_stride
        self.norm = nn.BatchNorm1d(cfg.mel.n_mels)  # learns the log-mel scale
        self.net = nn.Sequential(
            nn.Conv1d(cfg.mel.n_mels, d, kernel_size=3, padding=1), nn.GELU(),
            nn.Conv1d(d, d, kernel_size=s, stride=s), nn.GELU())
        n_tok = cfg.mel.n_frames // s
        self.pos = nn.Parameter(torch.randn(1, n_tok, d) * 0.02)

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        return self.net(self.norm(mel)).transpose(1, 2) + self.pos


class TactileEncoder(nn.Module):
    """MLP per pad over its taxel grid: B x (P*R*C) -> B x P x d."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.pads = len(cfg.tactile_pads)
        self.taxels = cfg.tactile_dim // self.pads
        self.mlp = nn.Sequential(nn.Linear(self.taxels, cfg.d_model), nn.GELU(),
                                 nn.Linear(cfg.d_model, cfg.d_model))
        self.pad_emb = nn.Parameter(torch.randn(1, self.pads, cfg.d_model) * 0.02)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x.reshape(-1, self.pads, self.taxels)) + self.pad_emb


class VectorEncoder(nn.Module):
    """MLP for a flat vector (proprioception, text embedding): B x n -> B x 1 x d."""

    def __init__(self, n_in: int, d: int) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(n_in, d), nn.GELU(), nn.Linear(d, d))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.mlp(x).unsqueeze(1)
