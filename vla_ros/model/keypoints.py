"""
Language-conditioned keypoint image encoder (FiLM + spatial softmax).

A small CNN whose middle features are modulated by the language token (FiLM, as in RT-1's
FiLM-EfficientNet), followed by a spatial softmax (Levine et al. 2016, robomimic's default
visual head): each of K feature maps becomes an expected image position (x, y) in [-1, 1].
Positions are what a manipulation policy needs from a camera, and a softmax over a 48x48 grid
resolves an 8-pixel cube to a fraction of a pixel. Output tokens: one per keypoint
(position embedding + keypoint identity) and one pooled appearance token.
"""

from __future__ import annotations

import torch
from torch import nn
from vla_ros.model.config import ModelConfig


class SpatialSoftmax(nn.Module):
    """B x K x h x w feature maps -> B x K x 2 expected (x, y) in [-1, 1] (learned temperature)."""

    def __init__(self, h: int, w: int) -> None:
        super().__init__()
        ys, xs = torch.meshgrid(torch.linspace(-1, 1, h), torch.linspace(-1, 1, w),
                                indexing='ij')
        self.register_buffer('grid', torch.stack([xs.flatten(), ys.flatten()], 1),
                             persistent=False)                       # hw x 2
        self.log_temp = nn.Parameter(torch.zeros(()))

    def forward(self, f: torch.Tensor) -> torch.Tensor:
        att = torch.softmax(f.flatten(2) / self.log_temp.exp(), dim=-1)   # B x K x hw
        return att @ self.grid


class KeypointImageEncoder(nn.Module):
    """
    B x 3 x H x W image (+ B x d language token) -> B x (K + 1) x d tokens.

    Conv 5x5/2 -> conv 3x3 -> FiLM(language) -> conv 3x3 -> 1x1 to K maps -> spatial softmax.
    ``cfg.keypoints`` = K, ``cfg.stem_channels`` = C.
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        h, w = cfg.image_size
        c, k, d = cfg.stem_channels, cfg.keypoints, cfg.d_model
        self.c = c
        self.conv1 = nn.Sequential(nn.Conv2d(3, c, 5, stride=2, padding=2), nn.ReLU(),
                                   nn.Conv2d(c, c, 3, padding=1))
        self.film = nn.Linear(d, 2 * c)
        nn.init.zeros_(self.film.weight)
        nn.init.zeros_(self.film.bias)
        self.conv2 = nn.Sequential(nn.ReLU(), nn.Conv2d(c, c, 3, padding=1), nn.ReLU())
        self.to_maps = nn.Conv2d(c, k, 1)
        self.softmax = SpatialSoftmax((h + 1) // 2, (w + 1) // 2)
        self.pos_mlp = nn.Sequential(nn.Linear(2, d), nn.GELU(), nn.Linear(d, d))
        self.kp_emb = nn.Parameter(torch.randn(1, k, d) * 0.02)
        self.pool = nn.Linear(c, d)

    def forward(self, x: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        f = self.conv1(x)
        gamma, beta = self.film(cond).unsqueeze(-1).unsqueeze(-1).split(self.c, dim=1)
        f = self.conv2(f * (1.0 + gamma) + beta)
        kp = self.softmax(self.to_maps(f))                          # B x K x 2
        tokens = self.pos_mlp(kp) + self.kp_emb
        pooled = self.pool(f.mean(dim=(2, 3))).unsqueeze(1)         # B x 1 x d
        return torch.cat([tokens, pooled], dim=1)
