"""
Tokenizers for the bundle's text encoder (torch-free).

``bytes``: UTF-8 bytes + 3 (0 = pad, 1 = begin, 2 = end), for small trainable encoders.
``hf_tokenizers``: a HuggingFace ``tokenizer.json`` (e.g. all-MiniLM-L6-v2's WordPiece).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import numpy as np
from vla_ros.errors import BundleError, ConfigError

BYTE_VOCAB_SIZE = 259


class TokenizerKind(str, Enum):
    BYTES = 'bytes'
    HF_TOKENIZERS = 'hf_tokenizers'


class TextTokenizer:
    """Text -> (input_ids, attention_mask), each 1 x L int64."""

    def __init__(self, kind: str | TokenizerKind, *, max_length: int = 64,
                 file: Path | None = None) -> None:
        try:
            self.kind = TokenizerKind(kind)
        except ValueError as e:
            raise ConfigError(f'unknown tokenizer kind {kind!r}; expected one of '
                              f'{[k.value for k in TokenizerKind]}') from e
        if max_length < 3:
            raise ConfigError(f'max_length must be >= 3, got {max_length!r}')
        self.max_length = int(max_length)
        self._hf = None
        if self.kind is TokenizerKind.HF_TOKENIZERS:
            if file is None or not Path(file).is_file():
                raise BundleError(f'hf_tokenizers needs a tokenizer.json file, got {file!r}')
            from tokenizers import Tokenizer  # light, torch-free
            self._hf = Tokenizer.from_file(str(file))
            self._hf.enable_truncation(max_length=self.max_length)
            self._hf.no_padding()

    def __call__(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        if self._hf is not None:
            enc = self._hf.encode(text)
            ids = np.asarray(enc.ids, np.int64)
            mask = np.asarray(enc.attention_mask, np.int64)
        else:
            body = [b + 3 for b in text.encode('utf-8')][: self.max_length - 2]
            ids = np.asarray([1, *body, 2], np.int64)
            mask = np.ones_like(ids)
        return ids[None, :], mask[None, :]
