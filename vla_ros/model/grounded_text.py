"""
Grounded language encoder: frozen MiniLM sentence meaning + colour words grounded in hue.

all-MiniLM-L6-v2 places verbs, nouns and polite forms it never saw in training near their
meaning, but it barely separates colour names (in its sentence space "crimson" is about as
close to "blue" as to "red"). Colour words are therefore read through a colour-name table: the
XKCD colour survey (954 names, shipped in matplotlib) filled in with the CSS4 names, each name
that is one WordPiece of MiniLM's vocabulary mapped to its hue. The encoder

1. marks the colour words of the command (a vocab-sized lookup on the token ids); a
   colour name right after another one is not a colour word but the noun it describes or
   the second half of a compound ("the blue *brick*", "navy *blue*"): English puts the
   colour adjective first,
2. runs MiniLM on the command with the colour words masked out (masked mean pool, L2 norm):
   the 384-d *semantic* part, the same for "pick up the red cube" and "pick up the crimson
   cube",
3. averages the colour words' unit hue vectors: the 3-d *colour* part, (cos h, sin h, 0) for a
   chromatic name, (0, 0, 1) for an achromatic one (white, grey, black, pastel), (0, 0, 0)
   when the command names no colour.

Output: B x 387 float32 = [semantic (384), colour (3)]. Everything is frozen; it exports as one
ONNX graph (``text_encoder.onnx``), so the runtime needs no table of its own.
"""

from __future__ import annotations

import colorsys
import functools

import numpy as np
from tokenizers import Tokenizer
import torch
from torch import nn
from vla_ros.model.text import minilm_dir, MiniLMTextEncoder

SEMANTIC_DIM = 384
COLOUR_DIM = 3
GROUNDED_DIM = SEMANTIC_DIM + COLOUR_DIM
# A colour name is achromatic (white, grey, black, pastels) below this HSV saturation or value.
ACHROMATIC_SATURATION = 0.5
ACHROMATIC_VALUE = 0.15


def colour_vector(rgb: tuple[float, float, float]) -> np.ndarray:
    """Return the 3-d unit colour vector of an RGB colour in [0, 1]: hue circle or achromatic."""
    h, s, v = colorsys.rgb_to_hsv(*rgb)
    if s < ACHROMATIC_SATURATION or v < ACHROMATIC_VALUE:
        return np.array([0.0, 0.0, 1.0], np.float32)
    a = 2.0 * np.pi * h
    return np.array([np.cos(a), np.sin(a), 0.0], np.float32)


@functools.cache
def colour_names() -> dict[str, tuple[float, float, float]]:
    """Return colour name -> RGB in [0, 1]: the XKCD survey names, then CSS4 for the rest."""
    # optional heavy dependency: matplotlib
    import matplotlib.colors as mc
    names: dict[str, tuple[float, float, float]] = {}
    for table, prefix in ((mc.XKCD_COLORS, 'xkcd:'), (mc.CSS4_COLORS, '')):
        for key, hex_ in table.items():
            name = key[len(prefix):]
            if name.isalpha() and name.islower() and name not in names:
                names[name] = mc.to_rgb(hex_)
    return names


def colour_table(tokenizer_json: str) -> tuple[np.ndarray, np.ndarray, dict[str, int]]:
    """
    Return (is_colour V, vectors V x 3, name -> token id) over a WordPiece vocabulary.

    Only names that are exactly one word piece are in the table (a piece of a longer word
    must not count as a colour).
    """
    tok = Tokenizer.from_file(tokenizer_json)
    vocab = tok.get_vocab()
    is_colour = np.zeros(len(vocab), np.float32)
    vectors = np.zeros((len(vocab), COLOUR_DIM), np.float32)
    ids: dict[str, int] = {}
    for name, rgb in colour_names().items():
        i = vocab.get(name)
        if i is not None:
            is_colour[i] = 1.0
            vectors[i] = colour_vector(rgb)
            ids[name] = i
    return is_colour, vectors, ids


class GroundedTextEncoder(nn.Module):
    """Frozen MiniLM over the non-colour words + mean hue vector of the colour words."""

    def __init__(self) -> None:
        super().__init__()
        self.minilm = MiniLMTextEncoder()
        is_colour, vectors, _ = colour_table(str(minilm_dir() / 'tokenizer.json'))
        self.register_buffer('is_colour', torch.from_numpy(is_colour))
        self.register_buffer('colour_vectors', torch.from_numpy(vectors))

    def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
        mask = attention_mask.to(torch.float32)
        named = self.is_colour[input_ids] * mask                          # B x L
        after = torch.cat([torch.zeros_like(named[:, :1]), named[:, :-1]], dim=1)
        colour = named * (1.0 - after)          # 'blue brick': brick is the noun
        words = (mask * (1.0 - colour)).to(attention_mask.dtype)
        semantic = self.minilm(input_ids, words)                           # B x 384
        n = colour.sum(1, keepdim=True).clamp(min=1.0)
        hue = (self.colour_vectors[input_ids] * colour.unsqueeze(-1)).sum(1) / n
        return torch.cat([semantic, hue], dim=1)

    def state_dict(self, *args, **kwargs):  # type: ignore[override]
        """Nothing to save: every weight is frozen and rebuilt from the pip packages."""
        return {}

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):  # noqa
        """Accept the empty state :meth:`state_dict` saves."""
        return None
