"""
The text encoder a :class:`~vla_ros.model.config.ModelConfig` names, by its kind.

Above the encoders it chooses from (:mod:`vla_ros.model.text`, :mod:`vla_ros.model.grounded_text`,
:mod:`vla_ros.model.wordbag`), so none of them imports another's factory.
"""

from __future__ import annotations

from torch import nn
from vla_ros.errors import ConfigError
from vla_ros.model.config import TextEncoderKind
from vla_ros.model.grounded_text import GroundedTextEncoder
from vla_ros.model.text import ByteTextEncoder, MiniLMTextEncoder
from vla_ros.model.wordbag import WordBagTextEncoder


def make_text_encoder(kind: str, dim: int, state: dict | None = None) -> nn.Module:
    """
    Make the text encoder of a :class:`~vla_ros.model.config.ModelConfig` ``text_encoder`` kind.

    ``state`` (a checkpoint's text-encoder state dict) is loaded when given.
    """
    if kind == TextEncoderKind.MINILM.value:
        return MiniLMTextEncoder()
    if kind == TextEncoderKind.GROUNDED.value:
        return GroundedTextEncoder()
    if kind == TextEncoderKind.WORDBAG.value:
        enc: nn.Module = WordBagTextEncoder(dim, init_table=state is None)
    elif kind == TextEncoderKind.BYTES.value:
        enc = ByteTextEncoder(dim)
    else:
        raise ConfigError(f'unknown text encoder kind {kind!r}; expected one of '
                          f'{[k.value for k in TextEncoderKind]}')
    if state:
        try:
            enc.load_state_dict(state)
        except RuntimeError as e:
            raise ConfigError(f'text encoder state does not fit a {kind!r} encoder of dim '
                              f'{dim}: {str(e).splitlines()[-1].strip()}') from e
    return enc
