"""
Policy bundles: a directory with ``policy.onnx`` (+ text encoder, tokenizer) and ``bundle.yaml``.

``bundle.yaml`` describes every input, output and file (torch-free; see docs/bundle.md).
Format version 1 is the original contract; version 2 adds the fields of real VLA exports
(:mod:`vla_ros.core.bundle.specs`, parsed by :mod:`vla_ros.core.bundle.spec_fields`). Both load.

:func:`load_bundle` verifies that every file exists, its sha256 matches, the format version and
opsets are supported, and that the manifest's inputs/outputs agree with the ONNX graph.
:func:`write_manifest` is what exporters (and users wrapping their own ONNX) call last.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
import difflib
import hashlib
import logging
from pathlib import Path
from typing import Any, TypeVar

from vla_ros.core.bundle.contract import (ActionKind, BATCH, Bundle, FILL_IN, FORMAT_VERSIONS,
                                          InputKind, Manifest, MANIFEST_NAME, MAX_OPSET, MIN_OPSET,
                                          TensorSpec)
from vla_ros.core.bundle.schema import check_keys, name_diff, placeholders
from vla_ros.core.bundle.spec_fields import action_post, input_specs, tokenizer_files
from vla_ros.core.bundle.specs import HistorySpec, TokensSpec
from vla_ros.errors import (BundleError, BundleHashError, BundleIncompleteError,
                            BundleManifestError, BundleMissingFileError, FormatVersionError,
                            UnsupportedOpsetError)
import yaml

T = TypeVar('T')
LOG = logging.getLogger('vla_ros.bundle')


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, 'rb') as f:
        for block in iter(lambda: f.read(1 << 20), b''):
            h.update(block)
    return h.hexdigest()


def _field(where: str, convert: Callable[[], T]) -> T:
    """``convert()``, with a bad value reported as a BundleManifestError naming ``where``."""
    try:
        return convert()
    except (KeyError, TypeError, ValueError) as e:
        raise BundleManifestError(f'bundle.yaml {where}: bad value ({type(e).__name__}: '
                                  f'{e})') from e


def _spec(d: dict[str, Any], where: str) -> TensorSpec:
    return TensorSpec(name=_field(f'{where}.name', lambda: str(d['name'])),
                      shape=_field(f'{where}.shape', lambda: tuple(int(x) for x in d['shape'])),
                      dtype=str(d.get('dtype', 'float32')),
                      modality=str(d.get('modality', '')),
                      preprocessing=dict(d.get('preprocessing') or {}))


def parse_manifest(raw: dict[str, Any]) -> Manifest:
    """
    Validate and parse the content of a bundle.yaml.

    Raises BundleManifestError naming the section of an unknown key, a missing field or a bad
    value.
    """
    if not isinstance(raw, dict):
        raise BundleManifestError(f'bundle.yaml must be a mapping, got {type(raw).__name__}')
    version = raw.get('format_version')
    if version not in FORMAT_VERSIONS or isinstance(version, bool):
        raise UnsupportedOpsetError(f'bundle format_version {version!r} is not supported '
                                    f'(this runtime reads {list(FORMAT_VERSIONS)})')
    todo = placeholders(raw, FILL_IN)
    if todo:
        raise BundleIncompleteError(f'bundle.yaml still has {len(todo)} {FILL_IN} '
                                    f'placeholder(s) from `vla-ros bundle init`: '
                                    f'{", ".join(todo[:6])}{" ..." if len(todo) > 6 else ""}')
    check_keys(raw)
    inputs = tuple(_spec(d, f'inputs[{i}]') for i, d in enumerate(raw['inputs']))
    outputs = tuple(_spec(d, f'outputs[{i}]') for i, d in enumerate(raw['outputs']))
    act = raw['action']
    names = _field('action.names', lambda: tuple(str(n) for n in act['names']))
    units = _field('action.units', lambda: tuple(str(u) for u in act['units']))
    norm = act.get('normalization') or {}
    mean = _field('action.normalization.mean',
                  lambda: tuple(float(x) for x in norm.get('mean', [0.0] * len(names))))
    std = _field('action.normalization.std',
                 lambda: tuple(float(x) for x in norm.get('std', [1.0] * len(names))))
    m = Manifest(
        format_version=version, model_id=str(raw['model_id']),
        provenance=dict(raw.get('provenance') or {}), policy_file=str(raw['policy']['file']),
        inputs=inputs, outputs=outputs, action_output=str(act['output']),
        action_names=names, action_units=units, action_kind=str(act['kind']),
        horizon=_field('action.horizon', lambda: int(act['horizon'])),
        dt=_field('action.dt', lambda: float(act['dt'])), action_mean=mean, action_std=std,
        required_modalities=_field('required_modalities', lambda: tuple(
            str(k) for k in raw.get('required_modalities') or ())),
        files={str(k): str(v) for k, v in (raw.get('files') or {}).items()},
        text_encoder=raw.get('text_encoder'), gate_output=raw.get('gate_output'),
        history=None if raw.get('history') is None else HistorySpec(
            frames=raw['history']['frames'], spacing_s=raw['history']['spacing_s']),
        raw=raw)
    _check_consistency(m)
    m = dataclasses.replace(m, action_post=action_post(m, act))
    input_specs(m)  # validates every version-2 field of the inputs
    return m


def _check_consistency(m: Manifest) -> None:
    a = len(m.action_names)
    if not (len(m.action_units) == len(m.action_mean) == len(m.action_std) == a) or a == 0:
        raise BundleManifestError(
            f'action names/units/mean/std lengths differ: {a}, {len(m.action_units)}, '
            f'{len(m.action_mean)}, {len(m.action_std)}')
    try:
        ActionKind(m.action_kind)
    except ValueError as e:
        raise BundleManifestError(f'unknown action kind {m.action_kind!r}; expected one of '
                                  f'{[k.value for k in ActionKind]}') from e
    if m.horizon < 1 or m.dt <= 0:
        raise BundleManifestError(f'need horizon >= 1 and dt > 0, got {m.horizon}, {m.dt}')
    outs = {o.name: o for o in m.outputs}
    if m.action_output not in outs:
        raise BundleManifestError(f'action output {m.action_output!r} not among outputs '
                                  f'{list(outs)}')
    shape = outs[m.action_output].shape
    if len(shape) != 3 or shape[1] != m.horizon:  # the width is checked by action_post
        raise BundleManifestError(f'action output shape {shape} != [batch, horizon={m.horizon}'
                                  f', actions={a}]')
    kinds = {k.value for k in InputKind}
    for s in m.inputs:
        if s.kind not in kinds:
            raise BundleManifestError(f'input {s.name!r}: unknown preprocessing kind '
                                      f'{s.kind!r}; expected one of {sorted(kinds)}')
    for key in m.required_modalities:
        if key not in m.modalities:
            close = difflib.get_close_matches(key, m.modalities, n=1, cutoff=0.6)
            hint = f'; did you mean {close[0]!r}?' if close else ''
            raise BundleManifestError(f'bundle.yaml required_modalities: {key!r} is not the '
                                      f'modality of any input{hint} (inputs have: '
                                      f'{", ".join(m.modalities)})')
    if m.input(InputKind.TEXT_EMBEDDING) and not m.text_encoder:
        raise BundleManifestError('a text_embedding input needs a text_encoder section')


def _check_files(path: Path, m: Manifest) -> None:
    needed = {m.policy_file} | tokenizer_files(m)
    if m.text_encoder:
        needed.add(str(m.text_encoder['file']))
        tok = m.text_encoder.get('tokenizer') or {}
        if tok.get('file'):
            needed.add(str(tok['file']))
    unhashed = needed - set(m.files)
    if unhashed:
        raise BundleManifestError(f'files {sorted(unhashed)} have no sha256 in bundle.yaml')
    for name, digest in m.files.items():
        f = path / name
        if not f.is_file():
            raise BundleMissingFileError(f'bundle file {name!r} is missing in {path}')
        got = sha256_file(f)
        if got != digest:
            raise BundleHashError(f'{name}: sha256 {got[:16]}... != manifest {digest[:16]}... '
                                  '(file changed after export?)')


def _dims(value_info: Any) -> tuple[tuple[int | str, ...], int]:
    t = value_info.type.tensor_type
    dims = tuple(d.dim_value if d.HasField('dim_value') else (d.dim_param or '?')
                 for d in t.shape.dim)
    return dims, t.elem_type


def check_onnx_against_specs(onnx_path: Path, inputs: tuple[TensorSpec, ...],
                             outputs: tuple[TensorSpec, ...], *, what: str) -> None:
    """
    Compare graph inputs/outputs and opset with the manifest.

    Raises BundleManifestError or UnsupportedOpsetError.
    """
    # optional heavy dependency: onnx
    import onnx  # protobuf only, torch-free
    from onnx import helper

    try:
        model = onnx.load(str(onnx_path), load_external_data=False)
    except Exception as e:  # noqa: BLE001 -- onnx raises DecodeError/ValueError/OSError
        raise BundleManifestError(f'{what}: {onnx_path.name} is not a readable ONNX '
                                  f'model: {e}') from e
    opsets = {o.domain or 'ai.onnx': o.version for o in model.opset_import}
    main = opsets.get('ai.onnx', 0)
    if not MIN_OPSET <= main <= MAX_OPSET:
        raise UnsupportedOpsetError(f'{what}: opset {main} outside supported '
                                    f'[{MIN_OPSET}, {MAX_OPSET}]')
    initializers = {i.name for i in model.graph.initializer}
    graph_in = {v.name: v for v in model.graph.input if v.name not in initializers}
    graph_out = {v.name: v for v in model.graph.output}
    for specs, graph, side in ((inputs, graph_in, 'input'), (outputs, graph_out, 'output')):
        names = [s.name for s in specs]
        if set(graph) != set(names):
            raise BundleManifestError(f'{what}: the manifest {side}s do not match the ONNX '
                                      f'graph: {name_diff(names, list(graph))}')
        for s in specs:
            dims, elem = _dims(graph[s.name])
            dtype = helper.tensor_dtype_to_np_dtype(elem).name if elem else '?'
            if dtype != s.dtype:
                raise BundleManifestError(f'{what}: {side} {s.name!r} dtype {s.dtype} in '
                                          f'manifest, {dtype} in ONNX')
            ok = len(dims) == len(s.shape) and all(
                # a symbolic graph dim matches anything (checked after run()); a fixed one must
                # equal the manifest's (a fixed batch where the manifest says -1 is refused)
                not isinstance(got, int) or got == 0 or got == want
                for got, want in zip(dims, s.shape))
            if not ok:
                raise BundleManifestError(f'{what}: {side} {s.name!r} shape {list(s.shape)} in '
                                          f'manifest, {list(dims)} in ONNX')


def manifest_warnings(m: Manifest) -> list[str]:
    """
    Return what in a valid manifest is probably not meant; :func:`load_bundle` logs each once.

    Today: prompt templates (:meth:`~vla_ros.core.bundle.specs.TokensSpec.prompt_warnings`).
    """
    return [w for spec in input_specs(m).values()
            if isinstance(spec, TokensSpec) for w in spec.prompt_warnings()]


def load_bundle(path: str | Path, *, verify_hashes: bool = True) -> Bundle:
    """
    Load and verify a bundle directory (or its bundle.yaml).

    :raises: BundleMissingFileError, BundleHashError, BundleManifestError, UnsupportedOpsetError.
    """
    p = Path(path)
    if p.is_file() and p.name == MANIFEST_NAME:
        p = p.parent
    mf = p / MANIFEST_NAME
    if not mf.is_file():
        raise BundleMissingFileError(f'no {MANIFEST_NAME} in {p} (is this a policy bundle?)')
    try:
        raw = yaml.safe_load(mf.read_text())
    except yaml.YAMLError as e:
        raise BundleManifestError(f'{mf}: invalid YAML: {e}') from e
    m = parse_manifest(raw)
    if verify_hashes:
        _check_files(p, m)
    else:
        for name in m.files:
            if not (p / name).is_file():
                raise BundleMissingFileError(f'bundle file {name!r} is missing in {p}')
    check_onnx_against_specs(p / m.policy_file, m.inputs, m.outputs, what='policy')
    if m.text_encoder:
        te = m.text_encoder
        te_in = tuple(TensorSpec(n, (BATCH, BATCH), 'int64') for n in te['input_names'])
        te_out = (TensorSpec(te['output_name'], (BATCH, int(te['dim']))),)
        check_onnx_against_specs(p / te['file'], te_in, te_out, what='text_encoder')
        emb = m.input(InputKind.TEXT_EMBEDDING)
        if emb is not None and emb.shape[1:] != (int(te['dim']),):
            raise BundleManifestError(f'text encoder dim {te["dim"]} != policy input '
                                      f'{emb.name!r} shape {list(emb.shape)}')
    for warning in manifest_warnings(m):
        LOG.warning('%s: %s', p, warning)
    return Bundle(path=p, manifest=m)


def write_manifest(bundle_dir: str | Path, manifest: dict[str, Any]) -> Path:
    """
    Hash every file into ``files``, validate, and write bundle.yaml; return its path.

    ``files`` gets the sha256 of every file in the directory except bundle.yaml. Without a
    ``format_version`` the lowest version that holds the manifest is written (1 or 2).
    """
    d = Path(bundle_dir)
    raw = {'format_version': 1, **manifest}
    raw['files'] = {f.name: sha256_file(f) for f in sorted(d.iterdir())
                    if f.is_file() and f.name != MANIFEST_NAME}
    try:
        parse_manifest(raw)  # refuse to write an invalid manifest
    except FormatVersionError:
        if 'format_version' in manifest:
            raise
        raw['format_version'] = 2  # the lowest version that holds this manifest
        parse_manifest(raw)
    out = d / MANIFEST_NAME
    out.write_text(yaml.safe_dump(raw, sort_keys=False, default_flow_style=None, width=99))
    if not raw['files']:
        raise BundleError(f'no files to hash in {d}')
    return out
