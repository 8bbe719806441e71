"""
Tokenizers for the bundle's text encoder (torch-free).

``bytes``: UTF-8 bytes + 3 (0 = pad, 1 = begin, 2 = end), for small trainable encoders.
``hf_tokenizers``: a HuggingFace ``tokenizer.json`` (e.g. all-MiniLM-L6-v2's WordPiece).
"""

from __future__ import annotations

from enum import Enum
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer
from vla_ros.errors import BundleError, ConfigError

BYTE_VOCAB_SIZE = 259


class TokenizerKind(str, Enum):
    BYTES = 'bytes'
    HF_TOKENIZERS = 'hf_tokenizers'


class TextTokenizer:
    """Text -> (input_ids, attention_mask), each 1 x L int64, truncated to ``max_length``."""

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
        self._hf_full = None  # untruncated copy, made on demand by full_length()
        if self.kind is TokenizerKind.HF_TOKENIZERS:
            if file is None or not Path(file).is_file():
                raise BundleError(f'hf_tokenizers needs a tokenizer.json file, got {file!r}')
            self._hf = load_hf(Path(file))
            self._hf.enable_truncation(max_length=self.max_length)
            self._hf.no_padding()

    def __call__(self, text: str) -> tuple[np.ndarray, np.ndarray]:
        ids, mask, _ = self.tokenize(text)
        return ids, mask

    def tokenize(self, text: str) -> tuple[np.ndarray, np.ndarray, bool]:
        """Return (ids [1, L], mask [1, L], truncated: tokens beyond max_length were cut)."""
        if self._hf is not None:
            enc = self._hf.encode(text)
            ids = np.asarray(enc.ids, np.int64)
            mask = np.asarray(enc.attention_mask, np.int64)
            cut = bool(enc.overflowing)
        else:
            data = text.encode('utf-8')
            body = [b + 3 for b in data][: self.max_length - 2]
            ids = np.asarray([1, *body, 2], np.int64)
            mask = np.ones_like(ids)
            cut = len(data) > self.max_length - 2
        return ids[None, :], mask[None, :], cut

    def full_length(self, text: str) -> int:
        """Return the number of tokens ``text`` makes before truncation (special ones too)."""
        if self._hf is None:
            return len(text.encode('utf-8')) + 2
        if self._hf_full is None:
            self._hf_full = Tokenizer.from_str(self._hf.to_str())
            self._hf_full.no_truncation()
            self._hf_full.no_padding()
        return len(self._hf_full.encode(text).ids)

    def token(self, token_id: int) -> str:
        """Return the text of one token id (bytes: ``<bos>``, ``a``, ``<0xC3>``, ``<eos>``)."""
        if self._hf is not None:
            got = self._hf.id_to_token(int(token_id))
            return f'<id {token_id} not in the vocabulary>' if got is None else got
        special = {0: '<pad>', 1: '<bos>', 2: '<eos>'}
        if token_id in special:
            return special[token_id]
        if not 3 <= token_id < BYTE_VOCAB_SIZE:
            return f'<id {token_id} not in the vocabulary>'
        byte = token_id - 3
        return chr(byte) if byte < 128 else f'<0x{byte:02X}>'  # a UTF-8 byte, as SentencePiece


def load_hf(file: Path):  # -> tokenizers.Tokenizer
    """Load a HuggingFace ``tokenizer.json``; a broken file raises BundleError."""
    try:
        return Tokenizer.from_file(str(file))
    except Exception as e:  # noqa: BLE001 -- tokenizers raises a bare Exception
        raise BundleError(f'{file}: not a readable tokenizer.json: {e}') from e


PAD_TOKENS = ('<pad>', '[PAD]', '<|pad|>', '<PAD>', '[pad]')


def pad_token(file: Path) -> tuple[str, int] | None:
    """Return the padding token of a ``tokenizer.json`` and its id, or None when it has none."""
    tok = load_hf(Path(file))
    if tok.padding is not None:
        return str(tok.padding['pad_token']), int(tok.padding['pad_id'])
    for name in PAD_TOKENS:
        got = tok.token_to_id(name)
        if got is not None:
            return name, int(got)
    return None
