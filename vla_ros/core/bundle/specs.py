"""
The typed fields of bundle contract version 2 (torch-free; see docs/bundle.md).

Format version 2 adds what real VLA exports take: token ids + mask from a prompt template
(``text_tokens`` / ``token_mask``), a ``noise`` input for flow-matching and diffusion heads,
image ``value_range`` / uint8 / ``HWC`` / ``resize: pad`` and camera stacks
(``image_stack``), state ``pad_to``, observation ``history``, and the action ``slice`` and
``reference``. Each is parsed into a frozen dataclass whose ``__post_init__`` refuses a bad
value with its own :class:`~vla_ros.errors.BundleManifestError` subclass, quoting the value.
:mod:`vla_ros.core.bundle.spec_fields` builds them for every input at load, so a bad bundle
never opens.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
import re
import string
from typing import Any

from vla_ros.errors import (ActionSpecError, HistorySpecError, ImageSpecError, NoiseSpecError,
                            PrefixSpecError, TextTokensSpecError)

PROMPT_FIELDS = ('command', 'state')
# a backslash before one of these is a YAML double-quote escape written where it stays two
# characters (single quotes, plain scalars): almost always a newline or tab meant, not a '\'
LITERAL_ESCAPE = re.compile(r'\\[ntr0abefv"\\xuU]')


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


class PrefixTail(str, Enum):
    """What an ``action_prefix`` holds after its ``d`` committed rows."""

    ZERO = 'zero'        # zeros (training-time conditioning: the policy saw only d rows)
    PLANNED = 'planned'  # the rest of the executing plan (LeRobot's prev_chunk_left_over; RTC)


class ActionReference(str, Enum):
    ABSOLUTE = 'absolute'
    DELTA_FROM_STATE = 'delta_from_state'  # model output + state at the frame's stamp


def enum_value(cls: type[Enum], value: Any, where: str, error: type[Exception]) -> Any:
    try:
        return cls(value)
    except ValueError:
        raise error(f'bundle.yaml {where}: {value!r} is not one of '
                    f'{[e.value for e in cls]}') from None


def _coerce(obj: Any, name: str, cls: type[Enum], where: str, error: type[Exception]) -> None:
    """Set a frozen dataclass field to its enum member (a str Enum field given as str)."""
    object.__setattr__(obj, name, enum_value(cls, getattr(obj, name), where, error))


def int_value(value: Any, where: str, error: type[Exception], *, low: int = 0) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or value < low:
        raise error(f'bundle.yaml {where}: expected an integer >= {low}, got {value!r}')
    return value


def float_values(value: Any, n: int, where: str, error: type[Exception]) -> tuple[float, ...]:
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
        int_value(self.frames, 'history.frames', HistorySpecError, low=2)
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
        _coerce(self, 'layout', ImageLayout, f'{w}.layout', ImageSpecError)
        _coerce(self, 'resize', ImageResize, f'{w}.resize', ImageSpecError)
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
        _coerce(self, 'padding_side', PaddingSide, f'{w}.padding_side', TextTokensSpecError)
        if self.tokenizer_kind not in ('bytes', 'hf_tokenizers'):
            raise TextTokensSpecError(f'bundle.yaml {w}.tokenizer.kind: {self.tokenizer_kind!r}'
                                      " is not one of ['bytes', 'hf_tokenizers']")
        if self.tokenizer_kind == 'hf_tokenizers' and not self.tokenizer_file:
            raise TextTokensSpecError(f'bundle.yaml {w}.tokenizer: hf_tokenizers needs a file '
                                      '(tokenizer.json in the bundle)')
        int_value(self.max_length, f'{w}.max_length', TextTokensSpecError, low=3)
        int_value(self.pad_id, f'{w}.pad_id', TextTokensSpecError)
        int_value(self.state_bins, f'{w}.state_bins', TextTokensSpecError, low=2)
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

    def prompt_warnings(self) -> tuple[str, ...]:
        """
        Say what in a valid prompt is probably not meant (logged when the bundle loads).

        A backslash escape held as plain characters: YAML turns backslash + ``n`` into a
        newline only in double quotes; in single quotes (or unquoted) it stays a backslash and
        an ``n``, and the tokenizer feeds both. A template without ``{command}``: every
        command becomes the same tokens.
        """
        w = f'bundle.yaml input {self.name!r}.prompt'
        out = []
        found = sorted(set(LITERAL_ESCAPE.findall(self.prompt)))
        if found:
            out.append(f"{w} '{self.prompt}' holds {', '.join(found)} as plain characters (a "
                       'backslash, then a letter), not a newline or tab: YAML reads escapes '
                       'only in double quotes. Write the prompt in double quotes (prompt: '
                       f'"{self.prompt}") if an escape is meant; `vla-ros bundle tokens BUNDLE '
                       '"a command"` shows the token ids the runtime feeds')
        fields = [f for _, f, _, _ in string.Formatter().parse(self.prompt) if f is not None]
        if 'command' not in fields:
            out.append(f"{w} '{self.prompt}' has no {{command}} field: every command becomes "
                       'the same tokens (the policy never sees what it is asked)')
        return tuple(out)


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
        _coerce(self, 'distribution', NoiseDistribution, f'{w}.distribution', NoiseSpecError)
        if not self.shape or any(d < 1 for d in self.shape):
            raise NoiseSpecError(f'bundle.yaml {w}: noise needs a fixed shape after the batch '
                                 f'axis, got {list(self.shape)!r}')
        int_value(self.seed, f'{w}.seed', NoiseSpecError)
        if isinstance(self.scale, bool) or not isinstance(self.scale, (int, float)) \
                or not self.scale > 0:
            raise NoiseSpecError(f'bundle.yaml {w}.scale: expected a number > 0, got '
                                 f'{self.scale!r}')
        if self.dtype not in ('float32', 'float16'):
            raise NoiseSpecError(f'bundle.yaml {w}: noise dtype must be float32 or float16, '
                                 f'got {self.dtype!r}')


@dataclass(frozen=True)
class PrefixSpec:
    """
    An ``action_prefix`` input: the actions committed for the chunk's first ``d`` steps.

    Shape ``[horizon, width]`` after the batch (``width`` = the action output's last axis): row
    ``k`` is the action due at ``frame stamp + k * dt``, normalized as the output
    (``(a - mean) / std``, in the output's ``slice`` columns), rows ``>= d`` zero -- or, with
    ``tail: planned``, what the scheduler would serve there (the rest of its plan, its last
    action held after it ends). ``d`` is clipped to ``max_delay`` (the largest delay the policy
    was trained with).
    """

    name: str
    horizon: int
    width: int
    max_delay: int
    dtype: str = 'float32'
    tail: PrefixTail = PrefixTail.ZERO

    def __post_init__(self) -> None:
        w = f'input {self.name!r}'
        _coerce(self, 'tail', PrefixTail, f'{w}.tail', PrefixSpecError)
        int_value(self.max_delay, f'{w}.max_delay', PrefixSpecError)
        if self.max_delay >= self.horizon:
            raise PrefixSpecError(f'bundle.yaml {w}.max_delay: {self.max_delay} must be less '
                                  f'than the horizon {self.horizon} (a chunk needs a step '
                                  'after its prefix)')
        if self.dtype not in ('float32', 'float16'):
            raise PrefixSpecError(f'bundle.yaml {w}: an action prefix must be float32 or '
                                  f'float16, got {self.dtype!r}')


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
        _coerce(self, 'reference', ActionReference, 'action.reference', ActionSpecError)
        if not 0 <= self.start < self.stop <= self.width:
            raise ActionSpecError(f'bundle.yaml action.slice: [{self.start}, {self.stop}] must '
                                  f'lie within the output width {self.width}')
