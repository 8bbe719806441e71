"""
Parse and validate the version-2 fields of a manifest into the :mod:`.specs` dataclasses.

:func:`input_specs` (per input) and :func:`action_post` (the action section) are called by
:func:`~vla_ros.core.bundle.parse_manifest`, so a bad field fails the load with its specific
:class:`~vla_ros.errors.BundleManifestError` subclass, quoting the value.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from vla_ros.core.bundle.contract import Manifest, TensorSpec
from vla_ros.core.bundle.specs import (ActionPost, ActionReference, enum_value, float_values,
                                       HistorySpec, ImageSpec, int_value, NoiseSpec, PrefixSpec,
                                       TokensSpec)
from vla_ros.errors import (ActionSpecError, HistorySpecError, ImageSpecError, PrefixSpecError,
                            StateSpecError, TextTokensSpecError)

IMAGE_KINDS = ('image', 'image_stack')
HISTORY_KINDS = ('image', 'image_stack', 'joints')


def _pre(spec: TensorSpec) -> dict[str, Any]:
    return spec.preprocessing


def _image(spec: TensorSpec, frames: int) -> ImageSpec:
    pre = _pre(spec)
    w = f'input {spec.name!r}'
    stacked = pre['kind'] == 'image_stack'
    cams = pre['cameras'] if stacked else [pre['camera']]
    if not isinstance(cams, list) or not all(isinstance(c, str) and c for c in cams):
        raise ImageSpecError(f'bundle.yaml {w}.cameras: expected a list of camera names, got '
                             f'{cams!r}')
    uint8 = spec.dtype == 'uint8'
    vr = float_values(pre.get('value_range', [0, 255] if uint8 else [0, 1]), 2,
                      f'{w}.value_range', ImageSpecError)
    img = ImageSpec(
        name=spec.name, cameras=tuple(cams), stacked=stacked,
        size=tuple(int(x) for x in pre['size']),
        layout=pre.get('layout', 'CHW'), resize=pre.get('resize', 'stretch'),  # coerced there
        value_range=vr, mean=float_values(pre.get('mean', [0, 0, 0]), 3, f'{w}.mean',
                                          ImageSpecError),
        std=float_values(pre.get('std', [1, 1, 1]), 3, f'{w}.std', ImageSpecError),
        bgr=pre.get('color_order') == 'bgr', dtype=spec.dtype, history=_history_flag(spec))
    if tuple(spec.shape[1:]) != img.shape(frames):
        raise ImageSpecError(f'bundle.yaml {w}: shape {list(spec.shape)} does not match its '
                             f'preprocessing [batch, {", ".join(map(str, img.shape(frames)))}]'
                             f' (layout {img.layout.value}, size {list(img.size)}'
                             + (f', {len(cams)} cameras' if stacked else '')
                             + (f', {frames} history frames' if img.history else '') + ')')
    return img


def _history_flag(spec: TensorSpec) -> bool:
    flag = _pre(spec).get('history', False)
    if not isinstance(flag, bool):
        raise HistorySpecError(f'bundle.yaml input {spec.name!r}.history: expected true or '
                               f'false, got {flag!r}')
    return flag


def _joint_stats(spec: TensorSpec) -> None:
    """Stats as many numbers as joints, std > 0 (a single value would broadcast silently)."""
    pre = _pre(spec)
    w = f'input {spec.name!r}'
    names = pre['joint_names']
    if not isinstance(names, list) or not all(isinstance(n, str) and n for n in names):
        raise StateSpecError(f'bundle.yaml {w}.joint_names: expected a list of joint names, '
                             f'got {names!r}')
    keys = ('position_mean', 'position_std') + (
        ('velocity_mean', 'velocity_std') if pre.get('use_velocities') else ())
    for key in keys:
        vals = float_values(pre[key], len(names), f'{w}.{key} (one per joint_names entry)',
                            StateSpecError)
        if key.endswith('_std') and not all(v > 0 for v in vals):
            raise StateSpecError(f'bundle.yaml {w}.{key}: every std must be > 0, got '
                                 f'{pre[key]!r}')


def _joints(spec: TensorSpec, frames: int) -> None:
    pre = _pre(spec)
    n = len(pre['joint_names']) * (2 if pre.get('use_velocities') else 1)
    width = pre.get('pad_to', n)
    w = f'input {spec.name!r}'
    int_value(width, f'{w}.pad_to', StateSpecError, low=1)
    if width < n:
        raise StateSpecError(f'bundle.yaml {w}.pad_to: {width!r} is less than the {n} state '
                             'values it pads')
    want = ((frames,) if _history_flag(spec) else ()) + (width,)
    if tuple(spec.shape[1:]) != want:
        raise StateSpecError(f'bundle.yaml {w}: shape {list(spec.shape)} != [batch, '
                             f'{", ".join(map(str, want))}] ({n} state values'
                             + (f' padded to {width}' if width != n else '') + ')')


def _tokens(spec: TensorSpec) -> TokensSpec:
    pre = _pre(spec)
    tok = pre['tokenizer']
    t = TokensSpec(name=spec.name, tokenizer_kind=tok.get('kind'),
                   tokenizer_file=tok.get('file'), max_length=pre['max_length'],
                   padding_side=pre.get('padding_side', 'right'),
                   prompt=pre.get('prompt', '{command}'), state_input=pre.get('state_input'),
                   state_bins=pre.get('state_bins', 256), pad_id=pre.get('pad_id', 0),
                   dtype=spec.dtype)
    if tuple(spec.shape[1:]) != (t.max_length,):
        raise TextTokensSpecError(f'bundle.yaml input {spec.name!r}: shape {list(spec.shape)} '
                                  f'!= [batch, max_length={t.max_length}]')
    return t


def _prefix(m: Manifest, spec: TensorSpec) -> PrefixSpec:
    """Check an ``action_prefix`` input: ``[batch, horizon, width of the action output]``."""
    out = next((o for o in m.outputs if o.name == m.action_output), None)
    width = out.shape[-1] if out is not None else len(m.action_names)
    pre = _pre(spec)
    p = PrefixSpec(name=spec.name, horizon=m.horizon, width=width,
                   max_delay=pre.get('max_delay', m.horizon - 1), dtype=spec.dtype,
                   tail=pre.get('tail', 'zero'))
    if tuple(spec.shape[1:]) != (m.horizon, width):
        raise PrefixSpecError(f'bundle.yaml input {spec.name!r}: shape {list(spec.shape)} != '
                              f'[batch, horizon={m.horizon}, width={width}] (that of the '
                              'action output)')
    return p


def _prefix_mask(m: Manifest, spec: TensorSpec, by_name: dict[str, TensorSpec]) -> None:
    ref = by_name.get(_pre(spec)['prefix'])
    if ref is None or ref.kind != 'action_prefix':
        raise PrefixSpecError(f'bundle.yaml input {spec.name!r}.prefix: '
                              f'{_pre(spec)["prefix"]!r} is not an action_prefix input')
    if tuple(spec.shape[1:]) != (m.horizon,):
        raise PrefixSpecError(f'bundle.yaml input {spec.name!r}: shape {list(spec.shape)} != '
                              f'[batch, horizon={m.horizon}]')


Spec = ImageSpec | TokensSpec | NoiseSpec | PrefixSpec


def input_specs(m: Manifest) -> dict[str, Spec]:
    """
    Validate the version-2 fields of a parsed manifest; return the typed spec per input name.

    Image inputs map to :class:`ImageSpec`, ``text_tokens`` to :class:`TokensSpec`, ``noise``
    to :class:`NoiseSpec`, ``action_prefix`` to :class:`PrefixSpec`; other inputs are checked
    but not listed.
    """
    hist: HistorySpec | None = m.history
    frames = hist.frames if hist else 1
    by_name = {s.name: s for s in m.inputs}
    out: dict[str, Spec] = {}
    for s in m.inputs:
        kind = s.kind
        if kind in HISTORY_KINDS and _history_flag(s) and hist is None:
            raise HistorySpecError(f'bundle.yaml input {s.name!r}: history: true needs a '
                                   'top-level history section (frames, spacing_s)')
        if kind in IMAGE_KINDS:
            out[s.name] = _image(s, frames)
        elif kind == 'joints':
            _joint_stats(s)
            if m.format_version >= 2:
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
                distribution=pre.get('distribution', 'normal'),
                scale=pre.get('scale', 1.0), dtype=s.dtype)
        elif kind == 'action_prefix':
            out[s.name] = _prefix(m, s)
        elif kind == 'prefix_mask':
            _prefix_mask(m, s, by_name)
        elif kind == 'history_mask':
            if hist is None or tuple(s.shape[1:]) != (hist.frames,):
                raise HistorySpecError(f'bundle.yaml input {s.name!r}: a history_mask needs '
                                       f'the history section and shape [batch, frames], got '
                                       f'{list(s.shape)}')
    if sum(s.kind == 'action_prefix' for s in m.inputs) > 1:
        raise PrefixSpecError('bundle.yaml: at most one action_prefix input')
    if hist is not None and not any(_history_flag(s) for s in m.inputs
                                    if s.kind in HISTORY_KINDS):
        raise HistorySpecError('bundle.yaml history: no input has history: true')
    return out


def action_post(m: Manifest, act: dict[str, Any]) -> ActionPost:
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
    ref = enum_value(ActionReference, act.get('reference', 'absolute'), 'action.reference',
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


def tokenizer_files(m: Manifest) -> set[str]:
    """Tokenizer files that ``text_tokens`` inputs name (must be in the bundle and hashed)."""
    return {str(s.preprocessing['tokenizer']['file']) for s in m.inputs
            if s.kind == 'text_tokens' and s.preprocessing['tokenizer'].get('file')}


def tokenizer_path(bundle_dir: Path, spec: TokensSpec) -> Path | None:
    return bundle_dir / spec.tokenizer_file if spec.tokenizer_file else None
