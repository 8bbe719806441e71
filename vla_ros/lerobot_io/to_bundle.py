"""
``vla-ros export --from-lerobot``: a LeRobot checkpoint -> a verified bundle (robot side).

The LeRobot side (:mod:`~vla_ros.lerobot_io.policy_export`) writes the graph, the
normalisation and a parity sample; here the manifest is drafted from the graph
(:func:`~vla_ros.core.bundle.draft.draft_manifest`, as ``vla-ros bundle init`` does), filled
from the export, written, loaded, and the parity sample is replayed through the real
:class:`~vla_ros.core.runtime.PolicyRuntime`: the chunk must equal LeRobot's own pipeline
(preprocessor -> policy -> postprocessor; same observation, command and noise) within ``atol``
action std or :class:`ParityError` is raised.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
import json
from pathlib import Path
import shutil
import tempfile

import numpy as np
from vla_ros import constants as C
from vla_ros.core.bundle.draft import draft_manifest
from vla_ros.core.bundle.manifest import load_bundle, write_manifest
from vla_ros.core.frame import Frame
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.core.runtime.prefix import ActionPrefix
from vla_ros.errors import ParityError, UsageError
from vla_ros.lerobot_io.onnx_tidy import fold_identities
from vla_ros.lerobot_io.policy_export import EXPORT_JSON, PARITY_NPZ
from vla_ros.lerobot_io.staging import SIDECAR

DEFAULT_JOINTS = [*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT]
PARITY_STD = 1e-3  # max |bundle - LeRobot| in units of the action std (issue 28)
RTC_TYPES = ('smolvla',)  # policies whose export can carry RTC guidance (flow matching)


@dataclass(frozen=True)
class LeRobotBundle:
    """What the export made: bundle path, parity error (max, in action std), sizes."""

    path: Path
    policy_type: str
    parity_std: float
    chunk_size: int
    cameras: tuple[str, ...]


def _dataset_info(ckpt: Path) -> dict:
    """
    Return info.json of the dataset the checkpoint was trained on, or {}.

    Found via train_config.json; our sidecar (meta/vla_ros.json) goes under ``'vla_ros'``.
    """
    tc = ckpt / 'train_config.json'
    if not tc.exists():
        return {}
    root = json.loads(tc.read_text()).get('dataset', {}).get('root')
    meta = Path(root) / 'meta' if root else None
    if meta is None or not (meta / 'info.json').exists():
        return {}
    info = json.loads((meta / 'info.json').read_text())
    if (meta / SIDECAR).exists():
        info['vla_ros'] = json.loads((meta / SIDECAR).read_text())
    return info


def _names(info: dict, key: str, n: int, given: Sequence[str] | None) -> list[str]:
    if given:
        if len(given) != n:
            raise UsageError(f'{len(given)} names given for {key}, the policy has {n}')
        return list(given)
    got = info.get('features', {}).get(key, {}).get('names')
    if isinstance(got, list) and len(got) == n:
        return [str(x) for x in got]
    if n == len(DEFAULT_JOINTS):
        return list(DEFAULT_JOINTS)
    raise UsageError(f'{key} has {n} values and the training dataset is not readable from '
                     'the checkpoint: pass --joint-names')


def build_bundle(export_dir: Path, out: Path, *, fps: float, joint_names: list[str],
                 action_names: list[str], model_id: str, atol: float = PARITY_STD,
                 recorded_with: dict | None = None) -> LeRobotBundle:
    """Draft + fill + write + load the bundle of an export directory; check parity."""
    ex = json.loads((export_dir / EXPORT_JSON).read_text())
    out.mkdir(parents=True, exist_ok=True)
    fold_identities(export_dir / 'policy.onnx', out / 'policy.onnx')  # + external data
    for f in sorted(export_dir.iterdir()):  # the tokenizer, if any
        if f.is_file() and not f.name.startswith('policy.onnx') \
                and f.name not in (EXPORT_JSON, PARITY_NPZ):
            shutil.copyfile(f, out / f.name)
    raw = draft_manifest(out / 'policy.onnx').manifest
    by_name = {i['name']: i for i in ex['inputs']}
    cams = []
    for d in raw['inputs']:
        src, pre = by_name[d['name']], d['preprocessing']
        _fill_input(src, d, pre, joint_names)
        if src['kind'] == 'image':
            cams.append(src['camera'])
    units = [C.action_unit(n) for n in action_names]  # rad, gripper m, gripper effort N
    raw['action'].update(names=action_names, units=units, dt=round(1.0 / fps, 6),
                         normalization={'mean': ex['action_mean'], 'std': ex['action_std']})
    if 'slice' in raw['action']:
        raw['action']['slice'] = [0, len(action_names)]
    raw['model_id'] = model_id
    raw['provenance'] = {'source': f'LeRobot {ex["lerobot_version"]} {ex["policy_type"]} '
                                   f'checkpoint {ex["checkpoint"]}',
                         'exported_by': 'vla-ros export --from-lerobot',
                         'n_action_steps': ex['n_action_steps'],
                         'params': ex.get('params')}
    for key in ('num_steps', 'rtc', 'scheduler', 'n_obs_steps', 'horizon', 'crop_shape'):
        if ex.get(key) is not None:
            raw['provenance'][key] = ex[key]
    if 'history' in raw:  # Diffusion Policy: n_obs_steps observations, one dataset frame apart
        raw['history']['spacing_s'] = round(1.0 / fps, 6)
    if recorded_with:
        raw['provenance']['recorded_with'] = dict(recorded_with)
    language = ['language'] if any(i['kind'] == 'text_tokens' for i in ex['inputs']) else []
    raw['required_modalities'] = ['joints', *(f'image/{c}' for c in cams), *language]
    write_manifest(out, raw)
    err = parity(out, export_dir / PARITY_NPZ, joint_names, cams, atol=atol,
                 command=ex.get('command', ''), stamp_ns=int(ex.get('stamp_ns', 1_000_000_000)))
    return LeRobotBundle(out, ex['policy_type'], err, ex['chunk_size'], tuple(cams))


def _fill_input(src: dict, d: dict, pre: dict, joint_names: list[str]) -> None:
    """Fill one drafted input from the export's description of it."""
    kind = src['kind']
    if kind == 'state':
        pre.update(joint_names=joint_names, position_mean=src['mean'],
                   position_std=src['std'])
        if src.get('pad_to'):
            pre['pad_to'] = src['pad_to']
        else:
            pre.pop('pad_to', None)
    elif kind == 'image':
        # a resize_with_pad of the model (SmolVLA's: top-left padding) is in the graph: the
        # runtime only brings the camera to the dataset's image size
        pre.update(camera=src['camera'], value_range=[0, 1], mean=src['mean'],
                   std=src['std'], resize='stretch')
        d['modality'] = f'image/{src["camera"]}'
    elif kind == 'text_tokens':
        pre.update(tokenizer={'kind': 'hf_tokenizers', 'file': src['tokenizer']},
                   max_length=src['max_length'], padding_side=src['padding_side'],
                   prompt=src['prompt'], pad_id=src.get('pad_id', 0))
        d['modality'] = 'language'
    elif kind == 'token_mask':
        pre.update(tokens=src['tokens'])
    elif kind == 'noise':
        pre.update(distribution='normal', seed=int(src['seed']))
    elif kind in ('action_prefix', 'prefix_mask'):  # RTC (rtc_export): not drafted
        pre.clear()
        pre.update({k: v for k, v in src.items() if k != 'name'})


def parity(bundle: Path, sample: Path, joint_names: list[str], cams: list[str], *,
           atol: float, command: str = '', stamp_ns: int = 1_000_000_000) -> float:
    """
    Max |runtime chunk - LeRobot chunk| on the sample; ParityError above ``atol``.

    The bound is ``atol`` x the action std per column (a chunk in physical units is compared
    in units of the dataset's action spread). A bundle with a noise input must draw the very
    noise LeRobot was given for this frame stamp. An RTC sample (``expected_rtc``, ``prefix``)
    is replayed too, with the prefix as the frame's :class:`ActionPrefix`; the larger error is
    returned.
    """
    rt = PolicyRuntime(load_bundle(bundle))
    m = rt.bundle.manifest
    with np.load(sample) as z:
        expected = z['expected'][0]
        state = z['observation.state'][0].astype(np.float64) if (
            'observation.state' in z.files) else np.zeros(len(joint_names))
        images = {c: z[f'observation.images.{c}'][0] for c in cams}
        noise = z['noise'] if 'noise' in z.files else None
        guided = z['expected_rtc'][0] if 'expected_rtc' in z.files else None
        prefix = ActionPrefix(z['prefix'].astype(np.float64), len(z['prefix']),
                              z['prefix_tail'].astype(np.float64)) if guided is not None else None
    present = {**{f'image/{c}': True for c in cams}, 'joints': True}
    if command:
        present['language'] = True

    def frame_at(i: int | None, stamp: int, history: tuple = ()) -> Frame:
        q = state if i is None else state[i]
        return Frame(stamp_ns=stamp, images={c: v if i is None else v[i]
                                             for c, v in images.items()},
                     joint_names=tuple(joint_names), joint_positions=q,
                     joint_velocities=np.zeros_like(q), command=command, present=present,
                     history=history)

    if m.history:  # the sample holds the window, oldest first; the runtime gets it as history
        k, dt = m.history.frames, int(round(m.history.spacing_s * 1e9))
        past = tuple(frame_at(i, stamp_ns - (k - 1 - i) * dt) for i in range(k - 1))
        frame = frame_at(k - 1, stamp_ns, past)
    else:
        frame = frame_at(None, stamp_ns)
    if noise is not None:
        spec = rt.bundle.manifest.input('noise')
        built = rt.build_inputs(frame)[spec.name]
        if not np.array_equal(built, noise):
            raise ParityError('the runtime draws other noise for the parity frame than the '
                              'export gave LeRobot (seed / stamp / draw differ)')
    got = rt.infer(frame).actions
    std = np.maximum(np.abs(np.asarray(rt.manifest.action_std, np.float64)), 1e-12)
    err = float(np.max(np.abs(got - expected) / std))
    if err > atol:
        raise ParityError(f'bundle chunk differs from LeRobot by {err:.3g} action std '
                          f'(> {atol})')
    if guided is not None:  # RTC: the same frame with LeRobot's prefix and delay
        got = rt.infer(frame, prefix).actions
        rtc_err = float(np.max(np.abs(got - guided) / std))
        if rtc_err > atol:
            raise ParityError(f'bundle chunk with an action prefix (RTC) differs from '
                              f'LeRobot by {rtc_err:.3g} action std (> {atol})')
        err = max(err, rtc_err)
    return err


def from_lerobot(ckpt: Path, out: Path, *, run_worker: Callable, fps: float | None = None,
                 joint_names: Sequence[str] | None = None, model_id: str | None = None,
                 atol: float = PARITY_STD, rtc: bool = False) -> LeRobotBundle:
    """
    Export ``ckpt`` with LeRobot's classes and build the bundle at ``out``.

    ``rtc``: SmolVLA with LeRobot's real-time chunking guidance in the graph
    (:mod:`~vla_ros.lerobot_io.rtc_export`; also when the checkpoint's ``rtc_config`` is on).
    """
    if not (ckpt / 'config.json').exists() or not (ckpt / 'model.safetensors').exists():
        raise UsageError(f'{ckpt} is not a LeRobot checkpoint (config.json + '
                         'model.safetensors); give its pretrained_model directory')
    kind = json.loads((ckpt / 'config.json').read_text()).get('type')
    if rtc and kind not in RTC_TYPES:
        raise UsageError(f'--rtc: real-time chunking guidance needs a flow-matching policy '
                         f'({", ".join(RTC_TYPES)}); {ckpt} is {kind!r}')
    info = _dataset_info(ckpt)
    fps = fps or info.get('fps')
    if not fps:
        raise UsageError('the training dataset is not readable from the checkpoint: pass --fps')
    tmp = Path(tempfile.mkdtemp(prefix='vla_ros_lerobot_export_'))
    try:
        run_worker(['export', str(ckpt), str(tmp), *(['--rtc'] if rtc else [])])
        ex = json.loads((tmp / EXPORT_JSON).read_text())
        state = next((i for i in ex['inputs'] if i['kind'] == 'state'), None)
        joints = _names(info, 'observation.state', state['shape'][0] if state else 0,
                        joint_names)
        actions = _names(info, 'action', ex['action_dim'], None if info else joint_names)
        return build_bundle(tmp, out, fps=float(fps), joint_names=joints, action_names=actions,
                            model_id=model_id or f'lerobot-{ex["policy_type"]}', atol=atol,
                            recorded_with=info.get('vla_ros', {}).get('recorded_with'))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
