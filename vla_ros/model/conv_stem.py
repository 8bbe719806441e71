"""
A convolutional image stem for :class:`VlaPolicyNet`.

Same inputs, outputs and token count as the ViT patch embedding, so export, bundle and runtime
are unchanged.

CoordConv input (RGB + x/y coordinate planes), three stride-2 convolutions down to the patch
grid, then the same transformer blocks: convolutions localize small objects (a 3-pixel cube at
64x64) far better than one linear patch embedding trained from scratch on little data.
"""

from __future__ import annotations

import torch
from torch import nn
from vla_ros.model.config import ModelConfig
from vla_ros.model.layers import EncoderBlock


class ConvImageEncoder(nn.Module):
    """B x 3 x H x W -> B x (H/p * W/p) x d, p = 8 (three stride-2 convolutions)."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        if cfg.patch != 8:
            raise ValueError(f'the conv stem makes 8 px tokens; patch must be 8, got {cfg.patch}')
        h, w = cfg.image_size
        d = cfg.d_model
        ys = torch.linspace(-1, 1, h).view(1, 1, h, 1).expand(1, 1, h, w)
        xs = torch.linspace(-1, 1, w).view(1, 1, 1, w).expand(1, 1, h, w)
        self.register_buffer('coords', torch.cat([xs, ys], 1), persistent=False)
        self.net = nn.Sequential(
            nn.Conv2d(5, 32, 5, stride=2, padding=2), nn.GELU(),
            nn.Conv2d(32, 64, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(64, d, 3, stride=2, padding=1))
        n = (h // 8) * (w // 8)
        self.pos = nn.Parameter(torch.randn(1, n, d) * 0.02)
        self.blocks = nn.Sequential(*(EncoderBlock(d, cfg.n_heads, cfg.ff_mult)
                                      for _ in range(cfg.image_layers)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        c = self.coords.expand(x.shape[0], -1, -1, -1)
        f = self.net(torch.cat([x, c], 1))                 # B x d x H/8 x W/8
        return self.blocks(f.flatten(2).transpose(1, 2) + self.pos)
