"""
The token ids a command becomes in a bundle (``vla-ros bundle tokens``; torch- and ROS-free).

The tokens are made by the runtime's own objects, so they are what the runtime feeds: a
``text_tokens`` input by :class:`~vla_ros.core.runtime.PromptTokens` (the prompt template
filled, tokenized, truncated and padded), a ``text_encoder`` by the
:class:`~vla_ros.core.features.TextTokenizer` that :func:`~vla_ros.core.runtime.open_language`
builds. A ``{state}`` field is filled from joint positions (the state mean unless given),
normalized as :func:`~vla_ros.core.runtime.preprocess.joint_values` does for a frame.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from vla_ros.core.bundle.contract import Bundle, InputKind
from vla_ros.core.bundle.spec_fields import input_specs, tokenizer_path
from vla_ros.core.bundle.specs import TokensSpec
from vla_ros.core.features.tokenizer import TextTokenizer
from vla_ros.core.frame import Frame
from vla_ros.core.runtime.preprocess import joint_values
from vla_ros.core.runtime.prompt_tokens import PromptTokens
from vla_ros.errors import BundleError, UsageError


@dataclass(frozen=True)
class TokenView:
    """
    What one language input of a bundle is fed for a command.

    :ivar target: the graph input (``input 'input_ids'``) or ``text_encoder.onnx``.
    :ivar prompt: the text tokenized (the filled template; the command for a text encoder).
    :ivar ids / mask / tokens: per position, the id, its attention mask and its token text;
        padding included (a text encoder gets no padding).
    :ivar full_length: tokens the prompt makes before truncation to ``max_length``.
    :ivar state: the joint positions a ``{state}`` field was filled from, else None.
    """

    target: str
    tokenizer: str
    prompt: str
    ids: tuple[int, ...]
    mask: tuple[int, ...]
    tokens: tuple[str, ...]
    full_length: int
    max_length: int
    padding_side: str | None = None
    pad_id: int | None = None
    state: tuple[float, ...] | None = None

    @property
    def truncated(self) -> bool:
        return self.full_length > self.max_length


def _state_frame(pre: dict, state: Sequence[float] | None) -> tuple[Frame, tuple[float, ...]]:
    names = list(pre['joint_names'])
    pos = np.asarray(pre['position_mean'], np.float64) if state is None \
        else np.asarray(state, np.float64)
    if pos.shape != (len(names),):
        raise UsageError(f'--state needs {len(names)} joint positions ({", ".join(names)}), '
                         f'got {len(pos)}')
    return (Frame(stamp_ns=0, joint_names=tuple(names), joint_positions=pos,
                  joint_velocities=np.zeros_like(pos), present={'joints': True}),
            tuple(float(x) for x in pos))


def _prompt_view(bundle: Bundle, spec: TokensSpec, command: str,
                 state: Sequence[float] | None) -> TokenView:
    m = bundle.manifest
    tok = PromptTokens(spec, tokenizer_path(bundle.path, spec))
    norm, used = None, None
    if spec.uses_state:
        pre = next(s for s in m.inputs if s.name == spec.state_input).preprocessing
        frame, used = _state_frame(pre, state)
        norm = joint_values(pre, frame)
    text = tok.prompt(command, norm)
    ids, mask = tok(command, norm)
    return TokenView(
        target=f'input {spec.name!r}', prompt=text,
        tokenizer=spec.tokenizer_kind + (f' {spec.tokenizer_file}' if spec.tokenizer_file
                                         else ''),
        ids=tuple(int(i) for i in ids), mask=tuple(int(x) for x in mask),
        tokens=tuple(tok.tokenizer.token(int(i)) for i in ids),
        full_length=tok.tokenizer.full_length(text), max_length=spec.max_length,
        padding_side=spec.padding_side.value, pad_id=spec.pad_id, state=used)


def _encoder_view(bundle: Bundle, command: str) -> TokenView:
    te = bundle.manifest.text_encoder or {}
    cfg = te.get('tokenizer') or {}
    # as runtime.open_language builds it
    tok = TextTokenizer(cfg.get('kind', 'bytes'), max_length=int(cfg.get('max_length', 64)),
                        file=bundle.file(cfg['file']) if cfg.get('file') else None)
    ids, mask = tok(command)
    return TokenView(
        target=str(te['file']), prompt=command,
        tokenizer=str(cfg.get('kind', 'bytes')) + (f" {cfg['file']}" if cfg.get('file') else ''),
        ids=tuple(int(i) for i in ids[0]), mask=tuple(int(x) for x in mask[0]),
        tokens=tuple(tok.token(int(i)) for i in ids[0]), full_length=tok.full_length(command),
        max_length=tok.max_length)


def command_tokens(bundle: Bundle, command: str, *,
                   state: Sequence[float] | None = None) -> list[TokenView]:
    """
    Return what each language input of ``bundle`` is fed for ``command``, in input order.

    Raises BundleError for a bundle that takes no command (no ``text_tokens`` input and no
    ``text_encoder``), UsageError for an empty command or a ``state`` of the wrong length.
    """
    m = bundle.manifest
    if not command.strip():
        raise UsageError('the command is empty: the runtime feeds no tokens for it (all '
                         'padding, language absent)')
    specs = input_specs(m)
    views = [_prompt_view(bundle, specs[s.name], command, state) for s in m.inputs
             if s.kind == InputKind.TEXT_TOKENS.value]
    if m.text_encoder:
        views.append(_encoder_view(bundle, command))
    if not views:
        raise BundleError(f'{bundle.path}: the bundle takes no command (no text_tokens input '
                          'and no text_encoder section; its inputs: '
                          f'{", ".join(f"{s.name} ({s.kind})" for s in m.inputs)})')
    return views
