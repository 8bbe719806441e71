"""
Draft a bundle.yaml from an ONNX graph's inputs and outputs (``vla-ros bundle init``).

Torch-free. Inputs are recognised by the names LeRobot- and openpi-style exports use
(:data:`RULES`: ``observation.images.*``, ``observation.state``, ``input_ids``,
``attention_mask``, ``noise``, ``image_mask``, ...) and by their shapes (CHW / HWC, a camera
or history axis, uint8); the export style (:class:`ExportStyle`: openpi, SmolVLA, LeRobot,
plain) sets the image defaults (``resize: pad`` and ``[-1, 1]`` for the SigLIP towers of
openpi and SmolVLA). What the graph cannot say -- joint names, normalization stats, the
action step ``dt``, the history spacing, the prompt template, an unrecognised input -- is
written as :data:`~vla_ros.core.bundle.contract.FILL_IN`, which
:func:`~vla_ros.core.bundle.load_bundle` refuses (``BundleIncompleteError``, naming each
place) until a person fills it in.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from pathlib import Path
import re
import shutil
from typing import Any

import numpy as np
import onnxruntime as ort
from vla_ros.core.bundle.contract import BATCH, FILL_IN, MANIFEST_NAME
from vla_ros.core.bundle.manifest import sha256_file
from vla_ros.core.bundle.schema import placeholders
from vla_ros.core.features.tokenizer import pad_token
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
# written at the top of every draft: what `modality` is, and how YAML quotes a prompt
HEAD = (
    '# modality: the Frame key a sensor input is read from (image/<cam>, joints, language,',
    '# audio, tactile). Inputs made from others have none: an image_stack (its cameras say',
    '# which images), presence, token_mask, noise, history_mask.',
    '# A prompt with a newline goes in double quotes, prompt: "{command}\\n"; in single quotes',
    "# '\\n' stays a backslash and an n. `vla-ros bundle tokens DIR \"a command\"` prints the",
    '# token ids a command becomes.')


class ExportStyle(str, Enum):
    """Who exported the graph, told by its input names; sets the drafted image defaults."""

    OPENPI = 'openpi'    # pi0 / pi0.5: tokenized_prompt, base_0_rgb, image masks
    SMOLVLA = 'smolvla'  # LeRobot SmolVLA: observation.language.tokens, observation.images.*
    LEROBOT = 'lerobot'  # LeRobot ACT / Diffusion: observation.state / .images.*, no tokens
    PLAIN = 'plain'      # none of these


# style -> (value_range of float images, resize): SigLIP towers take [-1, 1], letterboxed
STYLE_IMAGES = {ExportStyle.OPENPI: ([-1, 1], 'pad'), ExportStyle.SMOLVLA: ([-1, 1], 'pad'),
                ExportStyle.LEROBOT: ([0, 1], 'stretch'), ExportStyle.PLAIN: ([0, 1], 'stretch')}
# style -> the prompt its training pipeline builds (a note; the prompt is drafted FILL_IN)
STYLE_PROMPT = {
    ExportStyle.OPENPI: 'pi0: "{command}\\n" (openpi appends a newline); pi0.5: '
                        '"Task: {command}, State: {state};\\nAction: " with state_input',
    ExportStyle.SMOLVLA: '"{command}\\n" (LeRobot SmolVLA appends a newline to the task)',
    ExportStyle.PLAIN: '"{command}" or the template the model was trained with',
}
_NP = {1: 'float32', 2: 'uint8', 6: 'int32', 7: 'int64', 9: 'bool', 10: 'float16'}


@dataclass(frozen=True)
class Draft:
    """A drafted manifest, the places left to fill in, and notes for the person."""

    manifest: dict[str, Any]
    todo: tuple[str, ...]
    notes: tuple[str, ...]


IO = tuple[str, list, str]  # (name, dims with None for symbolic, dtype)


def _graph_io(onnx_path: Path) -> tuple[list[IO], list[IO], list[str]]:
    """Return the graph's inputs, outputs and external-data files (relative paths)."""
    # optional heavy dependency: onnx
    import onnx
    from onnx.external_data_helper import ExternalDataInfo, uses_external_data

    try:
        model = onnx.load(str(onnx_path), load_external_data=False)
    except Exception as e:  # noqa: BLE001 -- onnx raises DecodeError/ValueError/OSError
        raise BundleError(f'{onnx_path}: not a readable ONNX model: {e}') from e
    inits = {i.name for i in model.graph.initializer}
    external = sorted({ExternalDataInfo(t).location for t in model.graph.initializer
                       if uses_external_data(t)})

    def io(v) -> IO:
        t = v.type.tensor_type
        dims = [d.dim_value if d.HasField('dim_value') else None for d in t.shape.dim]
        return v.name, dims, _NP.get(t.elem_type, f'onnx-type-{t.elem_type}')
    return ([io(v) for v in model.graph.input if v.name not in inits],
            [io(v) for v in model.graph.output], external)


def _probe(onnx_path: Path, ins: list, outs: list) -> list:
    """Fill symbolic output dims by running the graph once on zeros (batch 1); else keep."""
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
    """Camera of a name: ``observation.images.front`` -> ``front``, ``base_0_rgb`` -> ``base``."""
    parts = re.split(r'[.]', name)
    if len(parts) > 1 and re.search(r'images?$', parts[-2].lower()):
        return parts[-1]
    got = re.fullmatch(r'(\w+?)_\d+_rgb', name)
    return got.group(1) if got else None


def export_style(ins: list[IO]) -> ExportStyle:
    """Tell the export style from the input names (:class:`ExportStyle`)."""
    names = [n.lower() for n, _, _ in ins]
    kinds = {_kind(n) for n, _, _ in ins}
    if any(re.search(r'tokenized_prompt|_\d+_rgb$|^img_masks?$|^image_masks?$', n)
           for n in names):
        return ExportStyle.OPENPI
    if any(n.startswith('observation.language') for n in names) or (
            'text_tokens' in kinds and any(n.startswith('observation.images.') for n in names)):
        return ExportStyle.SMOLVLA
    if 'text_tokens' in kinds and 'noise' in kinds:
        return ExportStyle.OPENPI  # a token prefix + a flow / diffusion head: pi0-shaped
    if any(n.startswith('observation.') for n in names):
        return ExportStyle.LEROBOT
    return ExportStyle.PLAIN


def _image(name: str, dims: list, dtype: str, style: ExportStyle,
           notes: list[str]) -> tuple[dict, int]:
    """Image preprocessing and the history length (1 = none) from the shape."""
    inner = dims[1:]
    layout = 'HWC' if inner and inner[-1] == 3 and (len(inner) < 3 or inner[-3] != 3) else 'CHW'
    h, w = (inner[-3], inner[-2]) if layout == 'HWC' else (inner[-2], inner[-1])
    extra = inner[:-3]  # history and / or camera axes
    cam = _camera(name)
    value_range, resize = STYLE_IMAGES[style]
    pre: dict[str, Any] = {'size': [h or FILL_IN, w or FILL_IN], 'layout': layout,
                           'color_order': 'rgb', 'resize': resize}
    frames = 1
    if len(extra) == 2 or (len(extra) == 1 and cam is not None):
        frames = extra[0] or FILL_IN
        pre['history'] = True
    stacked = len(extra) == 2 or (len(extra) == 1 and cam is None)
    if stacked:
        pre = {'kind': 'image_stack', 'cameras': [FILL_IN] * (extra[-1] or 1), **pre}
        value_range = [-1, 1]  # camera stacks feed SigLIP / PaliGemma towers
    else:
        pre = {'kind': 'image', 'camera': cam or FILL_IN, **pre}
    if dtype == 'uint8':
        pre['value_range'] = [0, 255]
    else:
        pre['value_range'] = value_range
        pre['mean'], pre['std'] = [0.0] * 3, [1.0] * 3
        why = ('the SigLIP range of openpi / SmolVLA' if value_range == [-1, 1] else
               'set ImageNet mean/std for a ResNet that does not normalize in the graph')
        notes.append(f'{name}: value_range {value_range}, mean 0 / std 1 drafted ({why}): '
                     'check the range and stats the model was trained with')
    if style is ExportStyle.PLAIN:
        notes.append(f'{name}: resize stretch drafted; use pad if the model was trained on '
                     "letterboxed images (openpi's resize_with_pad)")
    return pre, frames


def _input(name: str, dims: list, dtype: str, *, style: ExportStyle, tokens: list[str],
           notes: list[str]) -> tuple[dict[str, Any], int]:
    """Draft one input (its ``modality`` only where the runtime reads one); + history frames."""
    kind, modality, frames = _kind(name), None, 1
    if kind == 'image' and len(dims) >= 4:
        pre, frames = _image(name, dims, dtype, style, notes)
        if pre['kind'] == 'image':
            modality = f'image/{pre["camera"]}'
    elif kind == 'joints' and len(dims) in (2, 3):
        width = dims[-1] or FILL_IN
        pre = {'kind': 'joints', 'joint_names': FILL_IN, 'position_mean': FILL_IN,
               'position_std': FILL_IN, 'pad_to': width}
        if len(dims) == 3:
            pre['history'], frames = True, dims[1] or FILL_IN
        modality = 'joints'
        notes.append(f'{name}: pad_to {width} drafted (the graph width); list the real '
                     'joints in joint_names, the rest is zero-padded')
    elif kind == 'text_tokens':
        pre = {'kind': 'text_tokens', 'max_length': dims[-1] or FILL_IN,
               'tokenizer': {'kind': 'hf_tokenizers', 'file': FILL_IN},
               'padding_side': 'right', 'pad_id': 0, 'prompt': FILL_IN}
        modality = 'language'
        notes.append(f'{name}: write the prompt template the model was trained with: '
                     f'{STYLE_PROMPT.get(style, STYLE_PROMPT[ExportStyle.PLAIN])}; '
                     f'`vla-ros bundle tokens` shows the ids it becomes')
    elif kind == 'token_mask' and len(tokens) == 1:
        pre = {'kind': 'token_mask', 'tokens': tokens[0]}
    elif kind == 'noise':
        pre = {'kind': 'noise', 'distribution': 'normal', 'seed': 0}
    elif kind == 'image_mask':
        pre = {'kind': 'presence', 'order': 'IMAGE_KEYS'}  # filled in by draft_manifest
    elif kind == 'history_mask':
        pre = {'kind': 'history_mask'}
    else:
        pre = {'kind': FILL_IN}
        notes.append(f'{name}: not recognised; set its preprocessing.kind and, for a sensor '
                     'input, its modality (docs/bundle.md)')
    d: dict[str, Any] = {'name': name}
    if modality is not None:
        d['modality'] = modality
    d.update(shape=_shape(dims), dtype=dtype, preprocessing=pre)
    return d, frames


def draft_manifest(onnx_path: Path) -> Draft:
    """Draft the manifest of ``onnx_path`` (its file name becomes ``policy.file``)."""
    ins, outs, external = _graph_io(onnx_path)
    outs = _probe(onnx_path, ins, outs)
    style = export_style(ins)
    notes: list[str] = [f'export style: {style.value} (from the input names)']
    inputs, frames = [], None
    tokens = [n for n, _, _ in ins if _kind(n) == 'text_tokens']
    for name, dims, dtype in ins:
        d, k = _input(name, dims, dtype, style=style, tokens=tokens, notes=notes)
        if k != 1:
            frames = k
        inputs.append(d)
    cams = [c for d in inputs for c in d['preprocessing'].get(
        'cameras', [d['preprocessing']['camera']] if 'camera' in d['preprocessing'] else [])]
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
        'provenance': {'source': f'drafted by vla-ros bundle init from {onnx_path.name}',
                       'export_style': style.value},
        'policy': {'file': onnx_path.name}, 'inputs': inputs,
        'outputs': [{'name': n, 'shape': _shape(dims), 'dtype': t} for n, dims, t in outs],
        'action': {'output': aname, 'names': FILL_IN, 'units': FILL_IN,
                   'kind': 'absolute_joint_position', 'reference': 'absolute',
                   'horizon': (adims[1] if len(adims) == 3 else None) or FILL_IN,
                   'dt': FILL_IN, 'slice': [0, width or FILL_IN],
                   'normalization': {'mean': FILL_IN, 'std': FILL_IN}},
        'required_modalities': ['joints'] if any(d.get('modality') == 'joints' for d in inputs)
        else []}
    notes.append(f'action.slice [0, {width}] drafted: for a padded output set stop to the '
                 'number of real actions (e.g. [0, 7] of 32); reference delta_from_state '
                 'when the model predicts offsets from the state'
                 + (' (most openpi robot configs: the arm joints, gripper absolute)'
                    if style is ExportStyle.OPENPI else ''))
    if frames is not None:
        manifest['history'] = {'frames': frames, 'spacing_s': FILL_IN}
    if external:
        manifest['provenance']['external_data'] = external
    return Draft(manifest, tuple(placeholders(manifest, FILL_IN)), tuple(notes))


def _copy(src: Path, out_dir: Path, name: str) -> Path:
    """Copy ``src`` to ``out_dir / name``; nothing to do when that is ``src`` itself."""
    dst = out_dir / name
    if not (dst.exists() and dst.samefile(src)):
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, dst)
    return dst


def _tokenizer_pad(draft: Draft, tokenizer: Path) -> list[str]:
    """Set ``pad_id`` of the text_tokens inputs from the tokenizer's pad token; notes."""
    pad = pad_token(tokenizer)
    notes = []
    for d in draft.manifest['inputs']:
        pre = d['preprocessing']
        if pre.get('kind') != 'text_tokens':
            continue
        pre['tokenizer']['file'] = tokenizer.name
        if pad is None:
            notes.append(f'{d["name"]}: {tokenizer.name} has no pad token; pad_id 0 drafted: '
                         'set the id the model was trained with')
        else:
            pre['pad_id'] = pad[1]
            notes.append(f'{d["name"]}: pad_id {pad[1]} drafted ({pad[0]!r} of '
                         f'{tokenizer.name})')
    return notes


def write_draft(onnx_path: Path, out_dir: Path, *, tokenizer: Path | None = None,
                force: bool = False) -> Draft:
    """
    Copy the graph (its external data, the tokenizer) into ``out_dir``; write bundle.yaml.

    ``out_dir`` may be the graph's own directory (nothing is copied then). ``files`` lists
    the bundle's files only, not everything else in the directory. Raises UsageError when
    ``out_dir`` already holds a bundle.yaml (unless ``force``).
    """
    if not onnx_path.is_file():
        raise BundleError(f'{onnx_path}: no such ONNX file')
    if tokenizer is not None and not tokenizer.is_file():
        raise BundleError(f'{tokenizer}: no such tokenizer file')
    if (out_dir / MANIFEST_NAME).exists() and not force:
        raise UsageError(f'{out_dir / MANIFEST_NAME} exists; pass --force to overwrite it')
    draft = draft_manifest(onnx_path)
    out_dir.mkdir(parents=True, exist_ok=True)
    files = [_copy(onnx_path, out_dir, onnx_path.name)]
    for rel in draft.manifest['provenance'].get('external_data', []):
        src = onnx_path.parent / rel
        if not src.is_file():
            raise BundleError(f'{onnx_path.name}: its external data file {rel} is not next '
                              f'to it ({src})')
        files.append(_copy(src, out_dir, rel))
    notes = list(draft.notes)
    if tokenizer is not None:
        files.append(_copy(tokenizer, out_dir, tokenizer.name))
        notes += _tokenizer_pad(draft, tokenizer)
    draft = Draft(draft.manifest, tuple(placeholders(draft.manifest, FILL_IN)), tuple(notes))
    raw = dict(draft.manifest)
    raw['files'] = {str(f.relative_to(out_dir)): sha256_file(f) for f in files}
    head = [f'# Drafted by `vla-ros bundle init` from {onnx_path.name}. Replace every {FILL_IN}',
            '# (the bundle is refused until none is left), then run `vla-ros bundle check`.',
            *[f'#   {FILL_IN}: {p}' for p in draft.todo], *[f'# note: {n}' for n in draft.notes],
            *HEAD]
    body = yaml.safe_dump(raw, sort_keys=False, default_flow_style=None, width=99)
    (out_dir / MANIFEST_NAME).write_text('\n'.join(head) + '\n' + body)
    return draft
