"""
Training-time command embeddings of a frozen text encoder, computed once, with augmentation.

A frozen encoder (``grounded``, ``minilm``) gives the same embedding for a phrasing at every
step, so training embeds each distinct command once, plus ``variants`` copies with word-piece
dropout, instead of running the transformer on every minibatch. Augmentation never adds a
word: dropout removes non-colour word pieces (the policy must read a command from whichever
words are there), and for the grounded encoder the colour's hue is rotated by up to
``hue_jitter_deg`` so that neighbouring hues (a colour synonym) land on the same cube.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from vla_ros.model.grounded_text import GroundedTextEncoder, SEMANTIC_DIM

DEFAULT_VARIANTS = 8          # word-dropout copies per command
DEFAULT_HUE_JITTER_DEG = 45.0  # < half the smallest hue gap of the training colours (101 deg)


def drop_words(mask: torch.Tensor, p: float, g: torch.Generator,
               keep: torch.Tensor | None = None) -> torch.Tensor:
    """
    Drop each word piece of a B x L attention mask with probability ``p``.

    Never the first and last ([CLS]/[SEP]), never where ``keep`` (B x L bool) is set, never
    every word of a command.
    """
    kept = torch.rand(mask.shape, generator=g) >= p
    lengths = mask.sum(1)
    pos = torch.arange(mask.shape[1]).unsqueeze(0)
    kept |= (pos == 0) | (pos == (lengths - 1).unsqueeze(1))
    if keep is not None:
        kept |= keep
    out = mask * kept
    empty = out.sum(1) <= 2
    out[empty] = mask[empty]
    return out


class FrozenTextTable:
    """Embeddings P x (1 + variants) x D of P phrasings; :meth:`__call__` picks per sample."""

    def __init__(self, encoder: nn.Module, ids: torch.Tensor, mask: torch.Tensor, *,
                 word_dropout: float, seed: int, variants: int = DEFAULT_VARIANTS,
                 hue_jitter_deg: float = DEFAULT_HUE_JITTER_DEG) -> None:
        g = torch.Generator().manual_seed(seed)
        self.grounded = isinstance(encoder, GroundedTextEncoder)
        keep = encoder.is_colour[ids] > 0 if self.grounded else None
        masks = [mask] + ([drop_words(mask, word_dropout, g, keep) for _ in range(variants)]
                          if word_dropout > 0 else [])
        encoder.eval()
        with torch.no_grad():
            self.table = torch.stack([encoder(ids, m) for m in masks], dim=1)
        self.hue_jitter = np.deg2rad(hue_jitter_deg) if self.grounded else 0.0
        self.rng = np.random.default_rng(seed)

    def __call__(self, phrase: np.ndarray, train: bool) -> torch.Tensor:
        """Return B x D embeddings of phrase indices ``phrase`` (augmented when ``train``)."""
        if not train:
            return self.table[phrase, 0]
        v = self.rng.integers(0, self.table.shape[1], len(phrase))
        emb = self.table[phrase, v].clone()
        if self.hue_jitter > 0:
            a = torch.from_numpy(self.rng.uniform(-self.hue_jitter, self.hue_jitter,
                                                  len(phrase)).astype(np.float32))
            c, s = torch.cos(a), torch.sin(a)
            x, y = emb[:, SEMANTIC_DIM].clone(), emb[:, SEMANTIC_DIM + 1].clone()
            emb[:, SEMANTIC_DIM], emb[:, SEMANTIC_DIM + 1] = c * x - s * y, s * x + c * y
        return emb
