"""
The typed fields of bundle contract version 2 (torch-free; see docs/bundle.md).

Format version 2 adds what real VLA exports take: token ids + mask from a prompt template
(``text_tokens`` / ``token_mask``), a ``noise`` input for flow-matching and diffusion heads,
image ``value_range`` / uint8 / ``HWC`` / ``resize: pad`` and camera stacks
(``image_stack``), state ``pad_to``, observation ``history``, and the action ``slice`` and
``reference``. Each is parsed into a frozen dataclass whose ``__post_init__`` refuses a bad
value with its own :class:`~vla_ros.errors.BundleManifestError` subclass, quoting the value.
:func:`input_specs` builds them for every input (at load, so a bad bundle never opens).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
import string
from typing import Any

from vla_ros.errors import (ActionSpecError, HistorySpecError, ImageSpecError, NoiseSpecError,
                            StateSpecError, TextTokensSpecError)

IMAGE_KINDS = ('image', 'image_stack')
HISTORY_KINDS = ('image', 'image_stack', 'joints')
PROMPT_FIELDS = ('command', 'state')


class ImageLayout(str, Enum):
    CHW = 'CHW'
    HWC = 'HWC'


class ImageResize(str, Enum):
    STRETCH = 'stretch'  # to the exact size (aspect ratio not kept)
    PAD = 'pad'          # keep the aspect ratio, pad with black to the size (centred)


class PaddingSide(str, Enum):
    RIGHT = 'right'
    LEFT = 'left'


class NoiseDistribution(str, Enum):
    NORMAL = 'normal'    # N(0, scale^2)
    UNIFORM = 'uniform'  # U(-scale, scale)


class ActionReference(str, Enum):
    ABSOLUTE = 'absolute'
    DELTA_FROM_STATE = 'delta_from_state'  # model output + state at the frame's stamp


def _enum(cls: type[Enum], value: Any, where: str, error: type[Exception]) -> Any:
    try:
        return cls(value)
    except ValueError:
        raise error(f'bundle.yaml {where}: {value!r} is not one of '
                    f'{[e.value for e in cls]}') from None


def _int(value: Any, where: str, error: type[Exception], *, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise error(f'bundle.yaml {where}: expected an integer >= {low}, got {value!r}')
    return value


def _floats(value: Any, n: int, where: str, error: type[Exception]) -> tuple[float, ...]:
    try:
        out = tuple(float(x) for x in value)
    except (TypeError, ValueError):
        raise error(f'bundle.yaml {where}: expected {n} numbers, got {value!r}') from None
    if len(out) != n:
        raise error(f'bundle.yaml {where}: expected {n} numbers, got {value!r}')
    return out


@dataclass(frozen=True)
class HistorySpec:
    """``history``: the last ``frames`` observations (incl. the current), ``spacing_s`` apart."""

    frames: int
    spacing_s: float

    def __post_init__(self) -> None:
        _int(self.frames, 'history.frames', HistorySpecError, low=2)
        if not isinstance(self.spacing_s, (int, float)) or isinstance(self.spacing_s, bool) \
                or not 0 < self.spacing_s <= 10:
            raise HistorySpecError(f'bundle.yaml history.spacing_s: expected seconds in '
                                   f'(0, 10], got {self.spacing_s!r}')

    @property
    def span_s(self) -> float:
        """Time from the oldest frame to the current one [s]."""
        return (self.frames - 1) * self.spacing_s


@dataclass(frozen=True)
class ImageSpec:
    """
    An ``image`` (one camera) or ``image_stack`` (cameras on one axis) input.

    Values: ``pixel / 255`` mapped to ``value_range``, then ``(x - mean) / std``; uint8 inputs
    take the resized pixels as they are. Shape after the batch: ``[k,] [N,] 3, H, W`` (CHW) or
    ``[k,] [N,] H, W, 3`` (HWC), k = history frames, N = cameras of a stack.
    """

    name: str
    cameras: tuple[str, ...]
    stacked: bool
    size: tuple[int, int]
    layout: ImageLayout = ImageLayout.CHW
    resize: ImageResize = ImageResize.STRETCH
    value_range: tuple[float, float] = (0.0, 1.0)
    mean: tuple[float, float, float] = (0.0, 0.0, 0.0)
    std: tuple[float, float, float] = (1.0, 1.0, 1.0)
    bgr: bool = False
    dtype: str = 'float32'
    history: bool = False

    def __post_init__(self) -> None:
        w = f'input {self.name!r}'
        if not self.cameras or len(set(self.cameras)) != len(self.cameras):
            raise ImageSpecError(f'bundle.yaml {w}: cameras must be distinct and not empty, '
                                 f'got {list(self.cameras)!r}')
        if len(self.size) != 2 or min(self.size) < 1:
            raise ImageSpecError(f'bundle.yaml {w}: size must be [height, width] > 0, got '
                                 f'{list(self.size)!r}')
        lo, hi = self.value_range
        if not hi > lo:
            raise ImageSpecError(f'bundle.yaml {w}.value_range: need low < high, got '
                                 f'{list(self.value_range)!r}')
        if any(s <= 0 for s in self.std):
            raise ImageSpecError(f'bundle.yaml {w}.std: must be > 0, got {list(self.std)!r}')
        if self.dtype not in ('float32', 'float16', 'uint8'):
            raise ImageSpecError(f'bundle.yaml {w}: image dtype must be float32, float16 or '
                                 f'uint8, got {self.dtype!r}')
        if self.dtype == 'uint8' and (self.value_range != (0.0, 255.0) or self.mean != (0,) * 3
                                      or self.std != (1,) * 3):
            raise ImageSpecError(f'bundle.yaml {w}: a uint8 image takes raw pixels: '
                                 f'value_range [0, 255], mean 0, std 1 (got value_range '
                                 f'{list(self.value_range)}, mean {list(self.mean)}, std '
                                 f'{list(self.std)})')

    def shape(self, frames: int) -> tuple[int, ...]:
        """Return the expected shape after the batch axis."""
        h, w = self.size
        img = (3, h, w) if self.layout is ImageLayout.CHW else (h, w, 3)
        return ((frames,) if self.history else ()) + \
            ((len(self.cameras),) if self.stacked else ()) + img


@dataclass(frozen=True)
class TokensSpec:
    """
    A ``text_tokens`` input: the prompt, tokenized, padded/truncated to ``max_length``.

    ``prompt`` is a :meth:`str.format` template with ``{command}`` and optionally ``{state}``:
    the normalized state of the joints input ``state_input``, clipped to [-1, 1] and
    discretized into ``state_bins`` bins, written as space-separated integers (pi0.5).
    """

    name: str
    tokenizer_kind: str
    tokenizer_file: str | None
    max_length: int
    padding_side: PaddingSide = PaddingSide.RIGHT
    prompt: str = '{command}'
    state_input: str | None = None
    state_bins: int = 256
    pad_id: int = 0
    dtype: str = 'int64'

    def __post_init__(self) -> None:
        w = f'input {self.name!r}'
        if self.tokenizer_kind not in ('bytes', 'hf_tokenizers'):
            raise TextTokensSpecError(f'bundle.yaml {w}.tokenizer.kind: {self.tokenizer_kind!r}'
                                      " is not one of ['bytes', 'hf_tokenizers']")
        if self.tokenizer_kind == 'hf_tokenizers' and not self.tokenizer_file:
            raise TextTokensSpecError(f'bundle.yaml {w}.tokenizer: hf_tokenizers needs a file '
                                      '(tokenizer.json in the bundle)')
        _int(self.max_length, f'{w}.max_length', TextTokensSpecError, low=3)
        _int(self.pad_id, f'{w}.pad_id', TextTokensSpecError)
        _int(self.state_bins, f'{w}.state_bins', TextTokensSpecError, low=2)
        if self.dtype not in ('int64', 'int32'):
            raise TextTokensSpecError(f'bundle.yaml {w}: token ids must be int64 or int32, '
                                      f'got {self.dtype!r}')
        if not isinstance(self.prompt, str):
            raise TextTokensSpecError(f'bundle.yaml {w}.prompt: expected a string, got '
                                      f'{self.prompt!r}')
        try:
            fields = [f for _, f, _, _ in string.Formatter().parse(self.prompt) if f is not None]
        except ValueError as e:
            raise TextTokensSpecError(f'bundle.yaml {w}.prompt: {self.prompt!r} is not a valid '
                                      f'template ({e})') from None
        bad = [f for f in fields if f not in PROMPT_FIELDS]
        if bad:
            raise TextTokensSpecError(f'bundle.yaml {w}.prompt: unknown field {{{bad[0]}}} in '
                                      f'{self.prompt!r} (fields: {{command}}, {{state}})')
        if 'state' in fields and not self.state_input:
            raise TextTokensSpecError(f'bundle.yaml {w}.prompt: {{state}} needs state_input '
                                      '(the name of a joints input)')

    @property
    def uses_state(self) -> bool:
        return '{state}' in self.prompt


@dataclass(frozen=True)
class NoiseSpec:
    """A ``noise`` input: the initial sample of a denoising loop, drawn per chunk."""

    name: str
    shape: tuple[int, ...]
    distribution: NoiseDistribution = NoiseDistribution.NORMAL
    seed: int = 0
    scale: float = 1.0
    dtype: str = 'float32'

    def __post_init__(self) -> None:
        w = f'input {self.name!r}'
        if not self.shape or any(d < 1 for d in self.shape):
            raise NoiseSpecError(f'bundle.yaml {w}: noise needs a fixed shape after the batch '
                                 f'axis, got {list(self.shape)!r}')
        _int(self.seed, f'{w}.seed', NoiseSpecError)
        if isinstance(self.scale, bool) or not isinstance(self.scale, (int, float)) \
                or not self.scale > 0:
            raise NoiseSpecError(f'bundle.yaml {w}.scale: expected a number > 0, got '
                                 f'{self.scale!r}')
        if self.dtype not in ('float32', 'float16'):
            raise NoiseSpecError(f'bundle.yaml {w}: noise dtype must be float32 or float16, '
                                 f'got {self.dtype!r}')


@dataclass(frozen=True)
class ActionPost:
    """
    How the action output becomes the chunk.

    ``slice`` [start, stop) picks the real actions from a padded last axis; with ``reference:
    delta_from_state`` the ``delta_joints`` columns are added to the state at the frame's stamp
    (physical units) so the chunk -- and the safety filter -- see absolute targets.
    """

    width: int
    start: int
    stop: int
    reference: ActionReference = ActionReference.ABSOLUTE
    delta_joints: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not 0 <= self.start < self.stop <= self.width:
            raise ActionSpecError(f'bundle.yaml action.slice: [{self.start}, {self.stop}] must '
                                  f'lie within the output width {self.width}')


def _pre(spec: Any) -> dict[str, Any]:
    return spec.preprocessing


def _image(spec: Any, frames: int) -> ImageSpec:
    pre = _pre(spec)
    w = f'input {spec.name!r}'
    stacked = pre['kind'] == 'image_stack'
    cams = pre['cameras'] if stacked else [pre['camera']]
    if not isinstance(cams, list) or not all(isinstance(c, str) and c for c in cams):
        raise ImageSpecError(f'bundle.yaml {w}.cameras: expected a list of camera names, got '
                             f'{cams!r}')
    uint8 = spec.dtype == 'uint8'
    vr = _floats(pre.get('value_range', [0, 255] if uint8 else [0, 1]), 2,
                 f'{w}.value_range', ImageSpecError)
    img = ImageSpec(
        name=spec.name, cameras=tuple(cams), stacked=stacked,
        size=tuple(int(x) for x in pre['size']),
        layout=_enum(ImageLayout, pre.get('layout', 'CHW'), f'{w}.layout', ImageSpecError),
        resize=_enum(ImageResize, pre.get('resize', 'stretch'), f'{w}.resize', ImageSpecError),
        value_range=vr, mean=_floats(pre.get('mean', [0, 0, 0]), 3, f'{w}.mean', ImageSpecError),
        std=_floats(pre.get('std', [1, 1, 1]), 3, f'{w}.std', ImageSpecError),
        bgr=pre.get('color_order') == 'bgr', dtype=spec.dtype, history=_history_flag(spec))
    if tuple(spec.shape[1:]) != img.shape(frames):
        raise ImageSpecError(f'bundle.yaml {w}: shape {list(spec.shape)} does not match its '
                             f'preprocessing [batch, {", ".join(map(str, img.shape(frames)))}]'
                             f' (layout {img.layout.value}, size {list(img.size)}'
                             + (f', {len(cams)} cameras' if stacked else '')
                             + (f', {frames} history frames' if img.history else '') + ')')
    return img


def _history_flag(spec: Any) -> bool:
    flag = _pre(spec).get('history', False)
    if not isinstance(flag, bool):
        raise HistorySpecError(f'bundle.yaml input {spec.name!r}.history: expected true or '
                               f'false, got {flag!r}')
    return flag


def _joints(spec: Any, frames: int) -> None:
    pre = _pre(spec)
    n = len(pre['joint_names']) * (2 if pre.get('use_velocities') else 1)
    width = pre.get('pad_to', n)
    w = f'input {spec.name!r}'
    _int(width, f'{w}.pad_to', StateSpecError, low=1)
    if width < n:
        raise StateSpecError(f'bundle.yaml {w}.pad_to: {width!r} is less than the {n} state '
                             'values it pads')
    want = ((frames,) if _history_flag(spec) else ()) + (width,)
    if tuple(spec.shape[1:]) != want:
        raise StateSpecError(f'bundle.yaml {w}: shape {list(spec.shape)} != [batch, '
                             f'{", ".join(map(str, want))}] ({n} state values'
                             + (f' padded to {width}' if width != n else '') + ')')


def _tokens(spec: Any) -> TokensSpec:
    pre = _pre(spec)
    tok = pre['tokenizer']
    t = TokensSpec(name=spec.name, tokenizer_kind=tok.get('kind'),
                   tokenizer_file=tok.get('file'), max_length=pre['max_length'],
                   padding_side=_enum(PaddingSide, pre.get('padding_side', 'right'),
                                      f'input {spec.name!r}.padding_side',
                                      TextTokensSpecError),
                   prompt=pre.get('prompt', '{command}'), state_input=pre.get('state_input'),
                   state_bins=pre.get('state_bins', 256), pad_id=pre.get('pad_id', 0),
                   dtype=spec.dtype)
    if tuple(spec.shape[1:]) != (t.max_length,):
        raise TextTokensSpecError(f'bundle.yaml input {spec.name!r}: shape {list(spec.shape)} '
                                  f'!= [batch, max_length={t.max_length}]')
    return t


def input_specs(m: Any) -> dict[str, Any]:
    """
    Validate the version-2 fields of a parsed manifest; return the typed spec per input name.

    Image inputs map to :class:`ImageSpec`, ``text_tokens`` to :class:`TokensSpec`, ``noise``
    to :class:`NoiseSpec`; other inputs are checked but not listed.
    """
    hist: HistorySpec | None = m.history
    frames = hist.frames if hist else 1
    by_name = {s.name: s for s in m.inputs}
    out: dict[str, Any] = {}
    for s in m.inputs:
        kind = s.kind
        if kind in HISTORY_KINDS and _history_flag(s) and hist is None:
            raise HistorySpecError(f'bundle.yaml input {s.name!r}: history: true needs a '
                                   'top-level history section (frames, spacing_s)')
        if kind in IMAGE_KINDS:
            out[s.name] = _image(s, frames)
        elif kind == 'joints' and m.format_version >= 2:
            _joints(s, frames)
        elif kind == 'text_tokens':
            t = out[s.name] = _tokens(s)
            ref = by_name.get(t.state_input) if t.state_input else None
            if t.state_input and (ref is None or ref.kind != 'joints'):
                raise TextTokensSpecError(f'bundle.yaml input {s.name!r}.state_input: '
                                          f'{t.state_input!r} is not a joints input')
        elif kind == 'token_mask':
            ref = by_name.get(_pre(s)['tokens'])
            if ref is None or ref.kind != 'text_tokens':
                raise TextTokensSpecError(f'bundle.yaml input {s.name!r}.tokens: '
                                          f'{_pre(s)["tokens"]!r} is not a text_tokens input')
            if tuple(s.shape) != tuple(ref.shape):
                raise TextTokensSpecError(f'bundle.yaml input {s.name!r}: shape '
                                          f'{list(s.shape)} != its tokens {list(ref.shape)}')
        elif kind == 'noise':
            pre = _pre(s)
            out[s.name] = NoiseSpec(
                name=s.name, shape=tuple(s.shape[1:]), seed=pre.get('seed', 0),
                distribution=_enum(NoiseDistribution, pre.get('distribution', 'normal'),
                                   f'input {s.name!r}.distribution', NoiseSpecError),
                scale=pre.get('scale', 1.0), dtype=s.dtype)
        elif kind == 'history_mask':
            if hist is None or tuple(s.shape[1:]) != (hist.frames,):
                raise HistorySpecError(f'bundle.yaml input {s.name!r}: a history_mask needs '
                                       f'the history section and shape [batch, frames], got '
                                       f'{list(s.shape)}')
    if hist is not None and not any(_history_flag(s) for s in m.inputs
                                    if s.kind in HISTORY_KINDS):
        raise HistorySpecError('bundle.yaml history: no input has history: true')
    return out


def action_post(m: Any, act: dict[str, Any]) -> ActionPost:
    """Validate ``action.slice`` / ``reference`` / ``delta_joints`` against the output shape."""
    out = next(o for o in m.outputs if o.name == m.action_output)
    a = len(m.action_names)
    if len(out.shape) != 3:
        raise ActionSpecError(f'action output shape {list(out.shape)} != [batch, horizon, '
                              'actions]')
    width = out.shape[2]
    sl = act.get('slice')
    if sl is None:
        start, stop = 0, a
    elif (not isinstance(sl, list) or len(sl) != 2
          or not all(isinstance(x, int) and not isinstance(x, bool) for x in sl)):
        raise ActionSpecError(f'bundle.yaml action.slice: expected [start, stop], got {sl!r}')
    else:
        start, stop = sl
        if stop - start != a:
            raise ActionSpecError(f'bundle.yaml action.slice: [{start}, {stop}] selects '
                                  f'{stop - start} values, action.names has {a}')
    if sl is None and width != a:
        raise ActionSpecError(f'action output shape {list(out.shape)} != [batch, horizon='
                              f'{m.horizon}, actions={a}] (a padded output needs action.slice)')
    ref = _enum(ActionReference, act.get('reference', 'absolute'), 'action.reference',
                ActionSpecError)
    delta = act.get('delta_joints')
    if delta is not None and ref is ActionReference.ABSOLUTE:
        raise ActionSpecError('bundle.yaml action.delta_joints: only with reference: '
                              'delta_from_state')
    if ref is ActionReference.DELTA_FROM_STATE:
        if m.action_kind != 'absolute_joint_position':
            raise ActionSpecError(f'bundle.yaml action.reference: delta_from_state makes '
                                  f'absolute targets; kind must be absolute_joint_position, got '
                                  f'{m.action_kind!r}')
        delta = list(m.action_names) if delta is None else delta
        bad = [d for d in delta if d not in m.action_names] if isinstance(delta, list) \
            else [delta]
        if bad or not delta:
            raise ActionSpecError(f'bundle.yaml action.delta_joints: {bad or delta!r} not among '
                                  f'action.names {list(m.action_names)}')
    return ActionPost(width=width, start=start, stop=stop, reference=ref,
                      delta_joints=tuple(delta or ()))


def tokenizer_files(m: Any) -> set[str]:
    """Tokenizer files that ``text_tokens`` inputs name (must be in the bundle and hashed)."""
    return {str(s.preprocessing['tokenizer']['file']) for s in m.inputs
            if s.kind == 'text_tokens' and s.preprocessing['tokenizer'].get('file')}


def tokenizer_path(bundle_dir: Path, spec: TokensSpec) -> Path | None:
    return bundle_dir / spec.tokenizer_file if spec.tokenizer_file else None
