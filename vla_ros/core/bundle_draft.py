"""
Draft a bundle.yaml from an ONNX graph's inputs and outputs (``vla-ros bundle init``).

Torch-free. Inputs are recognised by the names LeRobot- and openpi-style exports use
(:data:`RULES`: ``observation.images.*``, ``observation.state``, ``input_ids``,
``attention_mask``, ``noise``, ``image_mask``, ...) and by their shapes (CHW / HWC, a camera
or history axis, uint8). What the graph cannot say -- joint names, normalization stats, the
action step ``dt``, the history spacing, an unrecognised input -- is written as
:data:`~vla_ros.core.bundle.FILL_IN`, which :func:`~vla_ros.core.bundle.load_bundle` refuses
(``BundleIncompleteError``, naming each place) until a person fills it in.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
import re
import shutil
from typing import Any

from vla_ros.core.bundle import BATCH, FILL_IN, MANIFEST_NAME, sha256_file
from vla_ros.core.bundle_schema import placeholders
from vla_ros.errors import BundleError, UsageError
import yaml

# (kind, name pattern), first match wins; names are compared lower-case
RULES: tuple[tuple[str, str], ...] = (
    ('image_mask', r'(^|[._])(image|img)_?masks?$|images?_mask'),
    ('token_mask', r'attention_mask|(prompt|lang|token|language)[._]?(attention_)?masks?$'),
    ('history_mask', r'(^|[._])(timestep_|observation_|obs_|history_)?pad_mask$|history_mask'),
    ('text_tokens', r'input_ids|tokenized_prompt$|lang_tokens|language\.tokens|prompt_tokens'
                    r'|^tokens$'),
    ('noise', r'(^|[._])(noise|x_t|noisy_actions|initial_noise|latents)$'),
    ('image', r'(^|[._])(images?|pixel_values|rgb|cam|camera)([._]|$)|_rgb$'),
    ('joints', r'(^|[._])(state|qpos|proprio|robot_state|joints?)$'),
)
ACTION_NAMES = ('action', 'actions', 'action_chunk', 'actions_pred', 'pred_actions')
_NP = {1: 'float32', 2: 'uint8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16'}


@dataclass(frozen=True)
class Draft:
    """A drafted manifest, the places left to fill in, and notes for the person."""

    manifest: dict[str, Any]
    todo: tuple[str, ...]
    notes: tuple[str, ...]


def _graph_io(onnx_path: Path) -> tuple[list[tuple[str, list, str]], list[tuple[str, list, str]]]:
    import onnx

    try:
        model = onnx.load(str(onnx_path), load_external_data=False)
    except Exception as e:  # noqa: BLE001 -- onnx raises DecodeError/ValueError/OSError
        raise BundleError(f'{onnx_path}: not a readable ONNX model: {e}') from e
    inits = {i.name for i in model.graph.initializer}

    def io(v) -> tuple[str, list, str]:
        t = v.type.tensor_type
        dims = [d.dim_value if d.HasField('dim_value') else None for d in t.shape.dim]
        return v.name, dims, _NP.get(t.elem_type, f'onnx-type-{t.elem_type}')
    return ([io(v) for v in model.graph.input if v.name not in inits],
            [io(v) for v in model.graph.output])


def _probe(onnx_path: Path, ins: list, outs: list) -> list:
    """Fill symbolic output dims by running the graph once on zeros (batch 1); else keep."""
    import numpy as np
    import onnxruntime as ort

    if all(all(d for d in dims[1:]) for _, dims, _ in outs):
        return outs
    try:
        sess = ort.InferenceSession(str(onnx_path), providers=['CPUExecutionProvider'])
        feeds = {n: np.zeros([1] + [d or 1 for d in dims[1:]], np.dtype(t))
                 for n, dims, t in ins}
        got = sess.run([n for n, _, _ in outs], feeds)
    except Exception:  # noqa: BLE001 -- a graph that needs real values: leave it to a person
        return outs
    return [(n, [dims[0]] + [d or g for d, g in zip(dims[1:], v.shape[1:])], t)
            for (n, dims, t), v in zip(outs, got)]


def _kind(name: str) -> str | None:
    low = name.lower()
    return next((k for k, pat in RULES if re.search(pat, low)), None)


def _shape(dims: list) -> list:
    """Batch first (-1); any other symbolic dimension is for a person to fill in."""
    return [BATCH] + [d if d else FILL_IN for d in dims[1:]]


def _camera(name: str) -> str | None:
    """``observation.images.front`` -> ``front``; a bare ``image`` names no camera."""
    parts = re.split(r'[.]', name)
    if len(parts) > 1 and re.search(r'images?$', parts[-2].lower()):
        return parts[-1]
    return None


def _image(name: str, dims: list, dtype: str, notes: list[str]) -> tuple[dict, int]:
    """Image preprocessing and the history length (1 = none) from the shape."""
    inner = dims[1:]
    layout = 'HWC' if inner and inner[-1] == 3 and (len(inner) < 3 or inner[-3] != 3) else 'CHW'
    h, w = (inner[-3], inner[-2]) if layout == 'HWC' else (inner[-2], inner[-1])
    extra = inner[:-3]  # history and / or camera axes
    cam = _camera(name)
    pre: dict[str, Any] = {'size': [h or FILL_IN, w or FILL_IN], 'layout': layout,
                           'color_order': 'rgb', 'resize': 'stretch'}
    frames = 1
    if len(extra) == 2 or (len(extra) == 1 and cam is not None):
        frames = extra[0] or FILL_IN
        pre['history'] = True
    stacked = len(extra) == 2 or (len(extra) == 1 and cam is None)
    if stacked:
        pre = {'kind': 'image_stack', 'cameras': [FILL_IN] * (extra[-1] or 1), **pre}
    else:
        pre = {'kind': 'image', 'camera': cam or FILL_IN, **pre}
    if dtype == 'uint8':
        pre['value_range'] = [0, 255]
    else:
        # SigLIP / PaliGemma towers (pi0, SmolVLA) take [-1, 1]; LeRobot CNNs [0, 1] + stats
        pre['value_range'] = [-1, 1] if stacked else [0, 1]
        pre['mean'], pre['std'] = [0.0] * 3, [1.0] * 3
        notes.append(f'{name}: value_range {pre["value_range"]}, mean 0 / std 1 drafted: set '
                     'the range and stats the model was trained with (ImageNet mean/std for a '
                     'ResNet that does not normalize in the graph)')
    return pre, frames


def draft_manifest(onnx_path: Path) -> Draft:
    """Draft the manifest of ``onnx_path`` (its file name becomes ``policy.file``)."""
    ins, outs = _graph_io(onnx_path)
    outs = _probe(onnx_path, ins, outs)
    notes: list[str] = []
    inputs, frames = [], None
    tokens = [n for n, _, _ in ins if _kind(n) == 'text_tokens']
    cams: list = []
    for name, dims, dtype in ins:
        kind = _kind(name)
        d: dict[str, Any] = {'name': name, 'modality': '', 'shape': _shape(dims), 'dtype': dtype}
        k = 1
        if kind == 'image' and len(dims) >= 4:
            pre, k = _image(name, dims, dtype, notes)
            cam = pre.get('camera')
            cams += pre.get('cameras', [cam])
            d['modality'] = f'image/{cam}' if pre['kind'] == 'image' else ''
        elif kind == 'joints' and len(dims) in (2, 3):
            width = dims[-1] or FILL_IN
            pre = {'kind': 'joints', 'joint_names': FILL_IN, 'position_mean': FILL_IN,
                   'position_std': FILL_IN, 'pad_to': width}
            if len(dims) == 3:
                pre['history'], k = True, dims[1] or FILL_IN
            d['modality'] = 'joints'
            notes.append(f'{name}: pad_to {width} drafted (the graph width); list the real '
                         'joints in joint_names, the rest is zero-padded')
        elif kind == 'text_tokens':
            pre = {'kind': 'text_tokens', 'max_length': dims[-1] or FILL_IN,
                   'tokenizer': {'kind': 'hf_tokenizers', 'file': FILL_IN},
                   'padding_side': 'right', 'prompt': '{command}'}
            d['modality'] = 'language'
        elif kind == 'token_mask' and len(tokens) == 1:
            pre = {'kind': 'token_mask', 'tokens': tokens[0]}
        elif kind == 'noise':
            pre = {'kind': 'noise', 'distribution': 'normal', 'seed': 0}
        elif kind == 'image_mask':
            pre = {'kind': 'presence', 'order': 'IMAGE_KEYS'}  # filled in below
        elif kind == 'history_mask':
            pre = {'kind': 'history_mask'}
        else:
            pre = {'kind': FILL_IN}
            notes.append(f'{name}: not recognised; set its preprocessing.kind (docs/bundle.md)')
        if k != 1:
            frames = k
        d['preprocessing'] = pre
        inputs.append(d)
    for d in inputs:
        if d['preprocessing'].get('order') == 'IMAGE_KEYS':
            d['preprocessing']['order'] = [f'image/{c}' if c != FILL_IN else FILL_IN
                                           for c in cams] or FILL_IN
    action = [o for o in outs if o[0].lower() in ACTION_NAMES] or \
        [o for o in outs if len(o[1]) == 3]
    if not action:
        raise BundleError(f'{onnx_path.name}: no action output (a [batch, horizon, actions] '
                          f'output named one of {ACTION_NAMES}); outputs: '
                          f'{[o[0] for o in outs]}')
    aname, adims, _ = action[0]
    width = adims[-1] if len(adims) == 3 else None
    manifest: dict[str, Any] = {
        'format_version': 2, 'model_id': onnx_path.stem,
        'provenance': {'source': f'drafted by vla-ros bundle init from {onnx_path.name}'},
        'policy': {'file': onnx_path.name}, 'inputs': inputs,
        'outputs': [{'name': n, 'shape': _shape(dims), 'dtype': t} for n, dims, t in outs],
        'action': {'output': aname, 'names': FILL_IN, 'units': FILL_IN,
                   'kind': 'absolute_joint_position', 'reference': 'absolute',
                   'horizon': (adims[1] if len(adims) == 3 else None) or FILL_IN,
                   'dt': FILL_IN, 'slice': [0, width or FILL_IN],
                   'normalization': {'mean': FILL_IN, 'std': FILL_IN}},
        'required_modalities': ['joints'] if any(d['modality'] == 'joints' for d in inputs)
        else []}
    notes.append(f'action.slice [0, {width}] drafted: for a padded output set stop to the '
                 'number of real actions (e.g. [0, 7] of 32); reference delta_from_state '
                 'when the model predicts offsets from the state')
    if frames is not None:
        manifest['history'] = {'frames': frames, 'spacing_s': FILL_IN}
    return Draft(manifest, tuple(placeholders(manifest, FILL_IN)), tuple(notes))


def write_draft(onnx_path: Path, out_dir: Path, *, tokenizer: Path | None = None,
                force: bool = False) -> Draft:
    """
    Copy the graph (and tokenizer) into ``out_dir`` and write the drafted bundle.yaml.

    Raises UsageError when ``out_dir`` already holds a bundle.yaml (unless ``force``).
    """
    if not onnx_path.is_file():
        raise BundleError(f'{onnx_path}: no such ONNX file')
    if (out_dir / MANIFEST_NAME).exists() and not force:
        raise UsageError(f'{out_dir / MANIFEST_NAME} exists; pass --force to overwrite it')
    draft = draft_manifest(onnx_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    if onnx_path.resolve() != (out_dir / onnx_path.name).resolve():
        shutil.copyfile(onnx_path, out_dir / onnx_path.name)
    if tokenizer is not None:
        if not tokenizer.is_file():
            raise BundleError(f'{tokenizer}: no such tokenizer file')
        shutil.copyfile(tokenizer, out_dir / tokenizer.name)
        for d in draft.manifest['inputs']:
            if d['preprocessing'].get('kind') == 'text_tokens':
                d['preprocessing']['tokenizer']['file'] = tokenizer.name
        draft = Draft(draft.manifest, tuple(placeholders(draft.manifest, FILL_IN)), draft.notes)
    raw = dict(draft.manifest)
    raw['files'] = {f.name: sha256_file(f) for f in sorted(out_dir.iterdir())
                    if f.is_file() and f.name != MANIFEST_NAME}
    head = [f'# Drafted by `vla-ros bundle init` from {onnx_path.name}. Replace every {FILL_IN}',
            '# (the bundle is refused until none is left), then run `vla-ros bundle check`.',
            *[f'#   {FILL_IN}: {p}' for p in draft.todo], *[f'# note: {n}' for n in draft.notes]]
    body = yaml.safe_dump(raw, sort_keys=False, default_flow_style=None, width=99)
    (out_dir / MANIFEST_NAME).write_text('\n'.join(head) + '\n' + body)
    return draft
