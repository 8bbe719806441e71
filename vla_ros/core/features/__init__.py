"""Feature extraction shared by the runtime and training: images, audio, text tokens."""

from __future__ import annotations

from vla_ros.core.features.audio import fit_window, log_mel, mel_filterbank, MelConfig
from vla_ros.core.features.image import image_to_tensor
from vla_ros.core.features.tokenizer import load_hf, pad_token, TextTokenizer, TokenizerKind

__all__ = [
    'MelConfig',
    'TextTokenizer',
    'TokenizerKind',
    'fit_window',
    'image_to_tensor',
    'load_hf',
    'log_mel',
    'mel_filterbank',
    'pad_token',
]
