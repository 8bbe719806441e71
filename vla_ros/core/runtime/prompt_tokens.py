"""
Prompt -> token ids + attention mask for ``text_tokens`` inputs (torch-free).

VLAs such as pi0 / pi0.5 and SmolVLA take the command as token ids inside the policy graph:
the prompt template (``{command}``, optionally ``{state}``) is filled, tokenized with the
bundle's tokenizer (:class:`~vla_ros.core.features.tokenizer.TextTokenizer`), truncated to
``max_length`` and padded on ``padding_side`` with ``pad_id`` (mask 0 there).
"""

from __future__ import annotations

from collections import OrderedDict
import logging
from pathlib import Path

import numpy as np
from vla_ros.core.bundle.specs import PaddingSide, TokensSpec
from vla_ros.core.features.tokenizer import TextTokenizer

CACHE_SIZE = 64  # distinct prompts remembered (a prompt with {state} changes per frame)
LOG = logging.getLogger('vla_ros.tokens')


def discretize_state(normalized: np.ndarray, bins: int) -> str:
    """
    Write normalized state values as bin indices (pi0.5's prompt state).

    Values are clipped to [-1, 1] and put into ``bins`` equal bins: ``-1 -> 0``, ``1 ->
    bins - 1``; the result is space-separated integers.
    """
    x = np.clip(np.asarray(normalized, np.float64), -1.0, 1.0)
    idx = np.digitize(x, np.linspace(-1.0, 1.0, bins + 1)[:-1]) - 1
    return ' '.join(str(int(i)) for i in idx)


class PromptTokens:
    """Tokenizes the filled prompt of one ``text_tokens`` input (cached per prompt text)."""

    def __init__(self, spec: TokensSpec, tokenizer_file: Path | None) -> None:
        self.spec = spec
        # truncation to max_length here; the padding is ours (side and id from the manifest)
        self.tokenizer = TextTokenizer(spec.tokenizer_kind, max_length=spec.max_length,
                                       file=tokenizer_file)
        self.truncated = 0  # prompts cut to max_length so far (the first one is logged)
        self._cache: OrderedDict[str, tuple[np.ndarray, np.ndarray]] = OrderedDict()
        self._dtype = np.dtype(spec.dtype)

    def prompt(self, command: str, state: np.ndarray | None = None) -> str:
        """Fill the template; ``state`` is the normalized state (needed for ``{state}``)."""
        fields = {'command': command}
        if self.spec.uses_state:
            fields['state'] = '' if state is None else discretize_state(state,
                                                                        self.spec.state_bins)
        return self.spec.prompt.format(**fields)

    def __call__(self, command: str, state: np.ndarray | None = None
                 ) -> tuple[np.ndarray, np.ndarray]:
        """Return (ids, mask), each ``[max_length]`` of the input's dtype."""
        text = self.prompt(command, state)
        hit = self._cache.get(text)
        if hit is not None:
            self._cache.move_to_end(text)
            return hit
        ids, _, cut = self.tokenizer.tokenize(text)
        if cut:
            self.truncated += 1
            if self.truncated == 1:  # once: a {state} prompt changes every frame
                LOG.warning('input %r: the prompt %r is %d tokens, max_length %d keeps the '
                            'first %d (the rest of the command is not fed)', self.spec.name,
                            text, self.tokenizer.full_length(text), self.spec.max_length,
                            self.spec.max_length)
        body = ids[0, :self.spec.max_length]
        n, pad = body.size, self.spec.max_length - body.size
        out = np.full(self.spec.max_length, self.spec.pad_id, self._dtype)
        mask = np.zeros(self.spec.max_length, self._dtype)
        sl = slice(pad, None) if self.spec.padding_side is PaddingSide.LEFT else slice(0, n)
        out[sl] = body
        mask[sl] = 1
        out.flags.writeable = mask.flags.writeable = False
        self._cache[text] = (out, mask)
        while len(self._cache) > CACHE_SIZE:
            self._cache.popitem(last=False)
        return out, mask

    def empty(self) -> tuple[np.ndarray, np.ndarray]:
        """Ids and mask for no command: all ``pad_id``, mask 0."""
        return (np.full(self.spec.max_length, self.spec.pad_id, self._dtype),
                np.zeros(self.spec.max_length, self._dtype))
