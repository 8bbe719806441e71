"""
Delay-aware training (training-time real-time chunking) for the reference policy family.

While a chunk is computed, the robot executes the first ``d`` actions of the chunk before it
(docs/bundle.md, "Action prefix"). A delay-aware policy gets those actions as the
``action_prefix`` input (normalized, zero-padded to the horizon) with a ``prefix_mask``, and
learns the rest of the chunk *consistent with them* (Black et al. 2025, "Training-Time Action
Conditioning for Efficient Real-Time Chunking"). Fusion-agnostic:

- :class:`PrefixEncoder` turns prefix + mask into one token added to the joints token, which
  every fusion reads (no change to token counts, presence or the fusions);
- :func:`inpaint` writes the prefix over the first ``d`` output steps in the graph, so the chunk
  returned starts at the frame stamp with exactly the committed actions (the scheduler then
  skips or serves them; either way it is what was going to run);
- :func:`sample_delays` / :func:`make_prefix` build the training prefix from the demo's TRUE
  future actions; :func:`postfix_loss` drops the prefix steps from the loss (the inpainted
  output there is the input itself: no gradient, nothing to learn).
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

# share of examples trained with d = 0 (no prefix): the first chunk of every command, and every
# chunk of a source that sends no prefix, must stay as good as a policy trained without one
ZERO_DELAY_SHARE = 0.25


class PrefixEncoder(nn.Module):
    """MLP over the flattened prefix and mask: (B x H x A, B x H) -> B x 1 x d."""

    def __init__(self, horizon: int, action_dim: int, d: int, ff_mult: int = 2) -> None:
        super().__init__()
        self.mlp = nn.Sequential(nn.Linear(horizon * (action_dim + 1), d * ff_mult), nn.GELU(),
                                 nn.Linear(d * ff_mult, d))

    def forward(self, prefix: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
        x = torch.cat([prefix * mask.unsqueeze(-1), mask.unsqueeze(-1)], dim=-1)
        return self.mlp(x.flatten(1)).unsqueeze(1)


def inpaint(actions: torch.Tensor, prefix: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """Return ``actions`` (B x H x A) with the masked steps replaced by the prefix."""
    m = mask.unsqueeze(-1)
    return m * prefix + (1.0 - m) * actions


def sample_delays(rng: np.random.Generator, n: int, max_delay: int) -> np.ndarray:
    """
    Return ``n`` delays in steps: 0 with :data:`ZERO_DELAY_SHARE`, else uniform in 1..max_delay.

    Uniform, not skewed to small d: at +0 ms the measured d is 1 (the action running at the
    frame stamp), and the large d are where a prefix matters (the regime map's >= 450 ms
    cells); a skewed draw would starve them.
    """
    d = rng.integers(1, max_delay + 1, n) if max_delay > 0 else np.zeros(n, np.int64)
    return np.where(rng.random(n) < ZERO_DELAY_SHARE, 0, d)


def make_prefix(target: np.ndarray, delays: np.ndarray, rng: np.random.Generator,
                noise_std: float = 0.0) -> tuple[np.ndarray, np.ndarray]:
    """
    Return (prefix B x H x A, mask B x H) from normalized targets and per-example delays.

    The prefix is the demo's own first ``d`` actions, plus ``noise_std`` Gaussian noise
    (normalized units) standing in for the gap between a policy's earlier chunk and the demo.
    """
    b, h, _ = target.shape
    mask = (np.arange(h)[None, :] < delays[:, None]).astype(np.float32)
    prefix = target.astype(np.float32)
    if noise_std > 0:
        prefix = prefix + rng.normal(0.0, noise_std, prefix.shape).astype(np.float32)
    return prefix * mask[:, :, None], mask


def postfix_loss(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor | None,
                 beta: float = 0.05) -> torch.Tensor:
    """Smooth-L1 over the steps after the prefix (every step when ``mask`` is None)."""
    per = nn.functional.smooth_l1_loss(pred, target, beta=beta, reduction='none')
    if mask is None:
        return per.mean()
    w = (1.0 - mask).unsqueeze(-1).expand_as(per)
    return (per * w).sum() / w.sum().clamp_min(1.0)
