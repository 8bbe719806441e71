"""
The four fusion designs. Each maps per-modality tokens to a B x H x A action chunk.

Inputs: ``tokens`` list of B x N_m x d (absent modalities already replaced by their learned
"missing" token), ``presence`` B x M in {0, 1}.
"""

from __future__ import annotations

import torch
from torch import nn
from vla_ros.model.config import Fusion, ModelConfig
from vla_ros.model.layers import DecoderBlock, EncoderBlock, FeedForward


def _pooled(tokens: list[torch.Tensor]) -> torch.Tensor:
    """Mean token of each modality: B x M x d."""
    return torch.stack([t.mean(dim=1) for t in tokens], dim=1)


class EarlyFusion(nn.Module):
    """One transformer over all modality tokens + H learned action query tokens."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.queries = nn.Parameter(torch.randn(1, cfg.horizon, d) * 0.02)
        self.blocks = nn.Sequential(*(EncoderBlock(d, cfg.n_heads, cfg.ff_mult)
                                      for _ in range(cfg.n_layers)))
        self.norm, self.head = nn.LayerNorm(d), nn.Linear(d, cfg.action_dim)
        self.h = cfg.horizon

    def forward(self, tokens: list[torch.Tensor], presence: torch.Tensor
                ) -> tuple[torch.Tensor, None]:
        q = self.queries.expand(tokens[0].shape[0], -1, -1)
        x = self.blocks(torch.cat([*tokens, q], dim=1))
        return self.head(self.norm(x[:, -self.h:])), None


class CrossAttentionFusion(nn.Module):
    """H learned action queries; decoder blocks cross-attend over all modality tokens."""

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        d = cfg.d_model
        self.queries = nn.Parameter(torch.randn(1, cfg.horizon, d) * 0.02)
        self.blocks = nn.ModuleList(DecoderBlock(d, cfg.n_heads, cfg.ff_mult)
                                    for _ in range(cfg.n_layers))
        self.norm, self.head = nn.LayerNorm(d), nn.Linear(d, cfg.action_dim)

    def forward(self, tokens: list[torch.Tensor], presence: torch.Tensor
                ) -> tuple[torch.Tensor, None]:
        mem = torch.cat(tokens, dim=1)
        q = self.queries.expand(mem.shape[0], -1, -1)
        for blk in self.blocks:
            q = blk(q, mem)
        return self.head(self.norm(q)), None


class LateFusion(nn.Module):
    """
    A head per modality on its pooled tokens; chunks averaged with learned weights.

    The weights are over the present modalities (masked softmax, finite even when only one is
    present).
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        d, m = cfg.d_model, len(cfg.modality_keys)
        self.h, self.a = cfg.horizon, cfg.action_dim
        self.heads = nn.ModuleList(
            nn.Sequential(nn.LayerNorm(d), FeedForward(d, cfg.ff_mult),
                          nn.Linear(d, self.h * self.a)) for _ in range(m))
        self.logits = nn.Parameter(torch.zeros(1, m))

    def forward(self, tokens: list[torch.Tensor], presence: torch.Tensor
                ) -> tuple[torch.Tensor, None]:
        pooled = _pooled(tokens)
        chunks = torch.stack([head(pooled[:, i]) for i, head in enumerate(self.heads)], dim=1)
        w = torch.softmax(self.logits + (presence - 1.0) * 1e4, dim=-1)  # B x M
        out = (chunks * w.unsqueeze(-1)).sum(dim=1)
        return out.reshape(-1, self.h, self.a), None


class MoEFusion(nn.Module):
    """
    Gated experts over the concatenated pooled modality features (+ presence).

    Returns the gate weights B x E as a second output (interpretability).
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        d, m = cfg.d_model, len(cfg.modality_keys)
        self.h, self.a = cfg.horizon, cfg.action_dim
        self.mix = EncoderBlock(d, cfg.n_heads, cfg.ff_mult)
        n_in = m * d + m
        self.gate = nn.Linear(n_in, cfg.n_experts)
        self.experts = nn.ModuleList(
            nn.Sequential(nn.Linear(n_in, d * cfg.ff_mult), nn.GELU(),
                          nn.Linear(d * cfg.ff_mult, self.h * self.a))
            for _ in range(cfg.n_experts))

    def forward(self, tokens: list[torch.Tensor], presence: torch.Tensor
                ) -> tuple[torch.Tensor, torch.Tensor]:
        pooled = self.mix(_pooled(tokens))
        z = torch.cat([pooled.flatten(1), presence], dim=-1)
        gate = torch.softmax(self.gate(z), dim=-1)                      # B x E
        outs = torch.stack([e(z) for e in self.experts], dim=1)         # B x E x HA
        out = (outs * gate.unsqueeze(-1)).sum(dim=1)
        return out.reshape(-1, self.h, self.a), gate


FUSIONS: dict[str, type[nn.Module]] = {
    Fusion.EARLY.value: EarlyFusion, Fusion.LATE.value: LateFusion,
    Fusion.CROSS_ATTENTION.value: CrossAttentionFusion, Fusion.MOE.value: MoEFusion,
}
