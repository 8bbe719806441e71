"""
Transformer building blocks written with plain matmuls.

They export cleanly to ONNX, and the MatMuls are what int8 dynamic quantization speeds up.
"""

from __future__ import annotations

import math

import torch
from torch import nn


class Attention(nn.Module):
    """Multi-head attention. q: B x Nq x d, kv: B x Nk x d -> B x Nq x d."""

    def __init__(self, d: int, heads: int) -> None:
        super().__init__()
        self.h, self.dh = heads, d // heads
        self.q = nn.Linear(d, d)
        self.kv = nn.Linear(d, 2 * d)
        self.out = nn.Linear(d, d)

    def forward(self, x: torch.Tensor, ctx: torch.Tensor) -> torch.Tensor:
        b, nq, d = x.shape
        q = self.q(x).reshape(b, nq, self.h, self.dh).transpose(1, 2)
        kv = self.kv(ctx).reshape(b, -1, 2, self.h, self.dh).permute(2, 0, 3, 1, 4)
        k, v = kv[0], kv[1]
        att = torch.softmax(q @ k.transpose(-1, -2) * (1.0 / math.sqrt(self.dh)), dim=-1)
        return self.out((att @ v).transpose(1, 2).reshape(b, nq, d))


class FeedForward(nn.Sequential):
    """Linear d -> d * mult, GELU, linear back to d."""

    def __init__(self, d: int, mult: int) -> None:
        super().__init__(nn.Linear(d, d * mult), nn.GELU(), nn.Linear(d * mult, d))


class EncoderBlock(nn.Module):
    """Pre-norm self-attention block."""

    def __init__(self, d: int, heads: int, mult: int) -> None:
        super().__init__()
        self.n1, self.n2 = nn.LayerNorm(d), nn.LayerNorm(d)
        self.att, self.ff = Attention(d, heads), FeedForward(d, mult)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.n1(x)
        x = x + self.att(y, y)
        return x + self.ff(self.n2(x))


class DecoderBlock(nn.Module):
    """Pre-norm self-attention over queries, cross-attention to memory, feed-forward."""

    def __init__(self, d: int, heads: int, mult: int) -> None:
        super().__init__()
        self.n1, self.n2, self.n3, self.nm = (nn.LayerNorm(d) for _ in range(4))
        self.self_att, self.cross_att = Attention(d, heads), Attention(d, heads)
        self.ff = FeedForward(d, mult)

    def forward(self, q: torch.Tensor, mem: torch.Tensor) -> torch.Tensor:
        y = self.n1(q)
        q = q + self.self_att(y, y)
        q = q + self.cross_att(self.n2(q), self.nm(mem))
        return q + self.ff(self.n3(q))
