"""
A small text encoder that still knows some English.

MiniLM's WordPiece tokenizer and its input word embeddings, PCA-reduced to ``dim`` and frozen,
attention-pooled, then a trainable projection. Synonyms unseen in training ("raise" for "lift")
land near the seen words, which is what held-out paraphrases need, at ~8 MB of ONNX instead of
MiniLM's 90 MB.

Input (input_ids, attention_mask) B x L int64 -> B x dim float32 (the bundle's
``text_encoder.onnx`` contract, tokenizer kind ``hf_tokenizers``).
"""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np
import torch
from torch import nn
from vla_ros.core.features.tokenizer import TextTokenizer
from vla_ros.model.text import minilm_dir


@functools.cache
def minilm_word_embeddings() -> np.ndarray:
    """Load MiniLM's input token embedding table, vocab x 384 float32."""
    # optional heavy dependency: transformers
    from transformers import AutoModel
    model = AutoModel.from_pretrained(str(minilm_dir()))
    return model.embeddings.word_embeddings.weight.detach().numpy().copy()


def pca_table(dim: int) -> np.ndarray:
    """
    Project the embedding table on its top ``dim`` principal axes: vocab x dim.

    Scaled to unit variance overall.
    """
    table = minilm_word_embeddings()
    centered = table - table.mean(0, keepdims=True)
    _, _, vt = np.linalg.svd(centered[::4], full_matrices=False)  # subsample: 7.6k rows
    proj = centered @ vt[:dim].T
    return (proj / proj.std()).astype(np.float32)


class WordBagTextEncoder(nn.Module):
    """Frozen PCA'd MiniLM token embeddings -> attention pooling -> Linear + tanh."""

    def __init__(self, dim: int = 64, *, init_table: bool = True,
                 vocab_size: int = 30522) -> None:
        super().__init__()
        self.emb = nn.Embedding(vocab_size, dim)
        if init_table:
            self.emb.weight.data.copy_(torch.from_numpy(pca_table(dim)))
        self.emb.weight.requires_grad_(False)
        self.score = nn.Linear(dim, 1)
        self.proj = nn.Sequential(nn.Linear(dim, dim), nn.Tanh())

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        e = self.emb(input_ids)                                     # B x L x d
        s = self.score(e).squeeze(-1) + (attention_mask.to(e.dtype) - 1.0) * 1e4
        w = torch.softmax(s, dim=-1).unsqueeze(-1)
        return self.proj((e * w).sum(1))


def tokenizer_file() -> Path:
    return minilm_dir() / 'tokenizer.json'


def tokenize(texts: list[str], max_length: int = 64) -> tuple[torch.Tensor, torch.Tensor]:
    """Tokenize to padded (ids, mask) B x L with the same tokenizer file the runtime loads."""
    tok = TextTokenizer('hf_tokenizers', max_length=max_length, file=tokenizer_file())
    enc = [tok(t) for t in texts]
    n = max(e[0].shape[1] for e in enc)
    ids = np.zeros((len(texts), n), np.int64)
    mask = np.zeros((len(texts), n), np.int64)
    for i, (a, m) in enumerate(enc):
        ids[i, :a.shape[1]], mask[i, :m.shape[1]] = a[0], m[0]
    return torch.from_numpy(ids), torch.from_numpy(mask)
