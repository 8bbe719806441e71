"""
The keys ``bundle.yaml`` may hold, section by section (torch-free; see docs/bundle.md).

:func:`check_keys` refuses an unknown key (naming it, its section and the nearest valid key)
and a missing required field (naming its section), so a typo such as
``required_modalites:`` or ``colour_order:`` is an error instead of a silent default.
``provenance`` is free-form; ``files`` maps file names to sha256. Keys and kinds of
format version 2 (:data:`V2_KEYS`, :data:`V2_KINDS`) in a version-1 manifest are refused with
:class:`~vla_ros.errors.FormatVersionError`; their values are checked in
:mod:`vla_ros.core.bundle.specs`.
"""

from __future__ import annotations

import dataclasses
import difflib
from typing import Any

from vla_ros.core.bundle.competence import CompetenceSpec
from vla_ros.core.features.audio import MelConfig
from vla_ros.errors import BundleManifestError, FormatVersionError

# section -> (required keys, optional keys)
TOP = (('format_version', 'model_id', 'policy', 'inputs', 'outputs', 'action'),
       ('provenance', 'required_modalities', 'gate_output', 'text_encoder', 'files',
        'history'))
POLICY = (('file',), ('opset',))
INPUT = (('name', 'shape'), ('dtype', 'modality', 'preprocessing'))
OUTPUT = (('name', 'shape'), ('dtype',))
ACTION = (('output', 'names', 'units', 'kind', 'horizon', 'dt'),
          ('normalization', 'slice', 'reference', 'delta_joints'))
HISTORY = (('frames', 'spacing_s'), ())
TOKENS_TOKENIZER = (('kind',), ('file',))
NORMALIZATION = ((), ('mean', 'std'))
TEXT_ENCODER = (('file', 'input_names', 'output_name', 'dim'), ('tokenizer', 'competence'))
TOKENIZER = ((), ('kind', 'file', 'max_length'))
PAD = (('name', 'rows', 'cols'), ('channels',))
MEL = ((), tuple(f.name for f in dataclasses.fields(MelConfig)))
# preprocessing.kind -> (required keys, optional keys)
PREPROCESSING: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    'image': (('kind', 'camera', 'size'),
              ('mean', 'std', 'color_order', 'layout', 'value_range', 'resize', 'history')),
    'image_stack': (('kind', 'cameras', 'size'),
                    ('mean', 'std', 'color_order', 'layout', 'value_range', 'resize',
                     'history')),
    'log_mel': (('kind', 'mel'), ()),
    'audio_waveform': (('kind', 'mel'), ()),
    'tactile': (('kind',), ('scale', 'unit', 'pads')),
    'joints': (('kind', 'joint_names', 'position_mean', 'position_std'),
               ('use_velocities', 'velocity_mean', 'velocity_std', 'pad_to', 'history')),
    'text_embedding': (('kind',), ()),
    'presence': (('kind', 'order'), ()),
    'text_tokens': (('kind', 'tokenizer', 'max_length'),
                    ('padding_side', 'prompt', 'state_input', 'state_bins', 'pad_id')),
    'token_mask': (('kind', 'tokens'), ()),
    'noise': (('kind',), ('distribution', 'seed', 'scale')),
    'history_mask': (('kind',), ()),
    'action_prefix': (('kind',), ('max_delay', 'tail')),
    'prefix_mask': (('kind', 'prefix'), ()),
}
# format version 2: new kinds, and new keys per section (section name -> keys)
V2_KINDS = ('image_stack', 'text_tokens', 'token_mask', 'noise', 'history_mask',
            'action_prefix', 'prefix_mask')
V2_KEYS = {'(top level)': ('history',), 'action': ('slice', 'reference', 'delta_joints'),
           'image': ('value_range', 'resize', 'history'), 'joints': ('pad_to', 'history')}
COLOR_ORDERS = ('rgb', 'bgr')
LAYOUTS = ('CHW', 'HWC')


def _mapping(d: Any, where: str) -> dict[str, Any]:
    if not isinstance(d, dict):
        raise BundleManifestError(f'bundle.yaml {where}: expected a mapping, got '
                                  f'{type(d).__name__} {d!r}')
    return d


def _section(d: Any, where: str, spec: tuple[tuple[str, ...], tuple[str, ...]]
             ) -> dict[str, Any]:
    required, optional = spec
    d = _mapping(d, where)
    valid = list(required) + list(optional)
    for key in d:
        if key not in valid:
            close = difflib.get_close_matches(str(key), valid, n=1, cutoff=0.6)
            hint = f'; did you mean {close[0]!r}?' if close else ''
            raise BundleManifestError(f'bundle.yaml {where}: unknown key {key!r}{hint} '
                                      f'(valid keys: {", ".join(valid)})')
    missing = [k for k in required if k not in d]
    if missing:
        raise BundleManifestError(f'bundle.yaml {where}: missing field {missing[0]!r} '
                                  f'(required: {", ".join(required)})')
    return d


def _list(d: Any, where: str) -> list[Any]:
    if not isinstance(d, list):
        raise BundleManifestError(f'bundle.yaml {where}: expected a list, got '
                                  f'{type(d).__name__} {d!r}')
    return d


def _v1_only(d: dict[str, Any], where: str, section: str, version: int) -> None:
    """Refuse the format-version-2 keys of ``section`` in a version-1 manifest."""
    if version >= 2:
        return
    for key in V2_KEYS.get(section, ()):
        if key in d:
            raise FormatVersionError(f'bundle.yaml {where}: {key!r} needs format_version: 2 '
                                     f'(this manifest says 1)')


def _preprocessing(pre: Any, where: str, version: int) -> None:
    pre = _mapping(pre, where)
    kind = pre.get('kind')
    if kind not in PREPROCESSING:
        return  # an unknown kind is reported with the valid kinds by the consistency check
    if kind in V2_KINDS and version < 2:
        raise FormatVersionError(f'bundle.yaml {where}: kind {kind!r} needs format_version: 2 '
                                 f'(this manifest says 1)')
    _section(pre, where, PREPROCESSING[kind])
    _v1_only(pre, where, kind, version)
    if kind in ('image', 'image_stack'):
        if version < 2:
            _section(pre, where, (('kind', 'camera', 'size', 'mean', 'std'),
                                  PREPROCESSING['image'][1]))
        if pre.get('color_order', 'rgb') not in COLOR_ORDERS:
            raise BundleManifestError(f'bundle.yaml {where}.color_order: '
                                      f'{pre["color_order"]!r} is not one of {COLOR_ORDERS}')
        layouts = LAYOUTS if version >= 2 else LAYOUTS[:1]
        if pre.get('layout', 'CHW') not in layouts:
            raise BundleManifestError(f'bundle.yaml {where}.layout: {pre["layout"]!r} is not '
                                      f'one of {layouts}')
    elif kind in ('log_mel', 'audio_waveform'):
        _section(pre['mel'], f'{where}.mel', MEL)
    elif kind == 'tactile':
        for i, pad in enumerate(_list(pre.get('pads', []), f'{where}.pads')):
            _section(pad, f'{where}.pads[{i}]', PAD)
    elif kind == 'joints' and pre.get('use_velocities'):
        _section(pre, f'{where} (use_velocities: true)',
                 (PREPROCESSING['joints'][0] + ('velocity_mean', 'velocity_std'),
                  PREPROCESSING['joints'][1]))
    elif kind == 'text_tokens':
        _section(pre['tokenizer'], f'{where}.tokenizer', TOKENS_TOKENIZER)


def check_keys(raw: dict[str, Any]) -> None:
    """
    Refuse unknown keys and missing required fields in a parsed bundle.yaml.

    The error names the section (``inputs[2].preprocessing``) and, for a typo, the nearest valid
    key. Format-version-2 keys in a version-1 manifest raise FormatVersionError.
    """
    _section(raw, '(top level)', TOP)
    version = raw.get('format_version')
    version = version if isinstance(version, int) else 1
    _v1_only(raw, '(top level)', '(top level)', version)
    if raw.get('history') is not None:
        _section(raw['history'], 'history', HISTORY)
    _section(raw['policy'], 'policy', POLICY)
    for i, d in enumerate(_list(raw['inputs'], 'inputs')):
        where = f'inputs[{i}]' + (f' ({d["name"]})' if isinstance(d, dict) and 'name' in d
                                  else '')
        _section(d, where, INPUT)
        if d.get('preprocessing') is not None:
            _preprocessing(d['preprocessing'], f'{where}.preprocessing', version)
    for i, d in enumerate(_list(raw['outputs'], 'outputs')):
        _section(d, f'outputs[{i}]', OUTPUT)
    act = _section(raw['action'], 'action', ACTION)
    _v1_only(act, 'action', 'action', version)
    if act.get('normalization') is not None:
        _section(act['normalization'], 'action.normalization', NORMALIZATION)
    te = raw.get('text_encoder')
    if te is not None:
        te = _section(te, 'text_encoder', TEXT_ENCODER)
        if te.get('tokenizer') is not None:
            _section(te['tokenizer'], 'text_encoder.tokenizer', TOKENIZER)
        if te.get('competence') is not None:
            CompetenceSpec.from_manifest(_mapping(te['competence'], 'text_encoder.competence'))
    if raw.get('provenance') is not None:
        _mapping(raw['provenance'], 'provenance')
    if raw.get('files') is not None:
        _mapping(raw['files'], 'files')


def placeholders(d: Any, marker: str, where: str = '') -> list[str]:
    """Return the paths (``action.dt``, ``inputs[state].preprocessing``) of ``marker`` values."""
    if isinstance(d, dict):
        return [p for k, v in d.items()
                for p in placeholders(v, marker, f'{where}.{k}' if where else str(k))]
    if isinstance(d, list):
        named = [f'{where}[{v["name"]}]' if isinstance(v, dict) and 'name' in v
                 else f'{where}[{i}]' for i, v in enumerate(d)]
        return [p for w, v in zip(named, d) for p in placeholders(v, marker, w)]
    return [where] if isinstance(d, str) and marker in d else []


def name_diff(manifest: list[str], graph: list[str]) -> str:
    """
    Say how two name lists differ: what the graph lacks, what it has beyond the manifest.

    A missing name close to an extra one is shown as a likely rename:
    ``missing from the graph: obs.state; extra in the graph (not in the manifest): state;
    renamed? 'obs.state' -> 'state'``.
    """
    missing = [n for n in manifest if n not in graph]
    extra = [n for n in graph if n not in manifest]
    parts = []
    if missing:
        parts.append(f'missing from the graph: {", ".join(missing)}')
    if extra:
        parts.append(f'extra in the graph (not in the manifest): {", ".join(extra)}')
    renames = [(m, close[0]) for m in missing
               for close in [difflib.get_close_matches(m, extra, n=1, cutoff=0.6)] if close]
    if renames:
        parts.append('renamed? ' + ', '.join(f'{m!r} -> {g!r}' for m, g in renames))
    return '; '.join(parts)
