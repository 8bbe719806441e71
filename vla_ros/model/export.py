"""
Export a VlaPolicyNet (+ its text encoder) to a verified policy bundle.

eval + no_grad, opset >= 17, named inputs/outputs, dynamic batch, onnxruntime-vs-torch parity
at ``atol`` (ParityError), optional int8 dynamic quantization with its measured error.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
import datetime
import logging
from pathlib import Path
import time
from typing import Any
import warnings

import numpy as np
import onnxruntime as ort
from onnxruntime.quantization import quantize_dynamic, QuantType
import torch
from torch import nn
from vla_ros import __version__ as VLA_ROS_VERSION, constants as C
from vla_ros.core.bundle.competence import CompetenceSpec
from vla_ros.core.bundle.contract import BATCH
from vla_ros.core.bundle.manifest import write_manifest
from vla_ros.core.features.image import IMAGENET_MEAN, IMAGENET_STD
from vla_ros.errors import ConfigError, ParityError
from vla_ros.model.config import FROZEN_TEXT_DIMS, Fusion, ModelConfig, TextEncoderKind
from vla_ros.model.onnx_storage import store_weights_fp16
from vla_ros.model.policy import VlaPolicyNet
from vla_ros.model.text import ByteTextEncoder, MiniLMTextEncoder
from vla_ros.model.train_utils import count_params, example_inputs

MIN_EXPORT_OPSET = 17
FP16_STORAGE_ATOL = 2e-3  # parity of a graph whose frozen weights are stored as fp16


@dataclass(frozen=True)
class NormStats:
    """Normalization carried in the bundle: model = (x - mean) / std, physical = a*std+mean."""

    action_mean: tuple[float, ...] | None = None
    action_std: tuple[float, ...] | None = None
    position_mean: tuple[float, ...] | None = None
    position_std: tuple[float, ...] | None = None
    velocity_mean: tuple[float, ...] | None = None
    velocity_std: tuple[float, ...] | None = None

    def get(self, name: str, n: int, default: float) -> list[float]:
        v = getattr(self, name)
        if v is None:
            return [default] * n
        if len(v) != n:
            raise ConfigError(f'{name} has {len(v)} values, expected {n}')
        return [float(x) for x in v]


@dataclass
class ExportReport:
    bundle: Path
    params: int
    policy_bytes: int
    parity_max_abs: float
    int8_max_abs: float | None = None
    int8_rel_std: float | None = None
    seconds: dict[str, float] = field(default_factory=dict)


class _NanActions(nn.Module):
    """Test wrapper: emits NaN actions (runtime must refuse them)."""

    def __init__(self, inner: VlaPolicyNet) -> None:
        super().__init__()
        self.inner = inner

    def forward(self, *xs: torch.Tensor) -> Any:
        out = self.inner(*xs)
        nan = torch.full((1,), float('nan'))
        return (out[0] + nan, out[1]) if isinstance(out, tuple) else out + nan


def export_onnx(module: nn.Module, args: tuple[torch.Tensor, ...], path: Path, *,
                input_names: list[str], output_names: list[str],
                dynamic: dict[str, dict[int, str]], opset: int = MIN_EXPORT_OPSET) -> None:
    """Export torch -> ONNX (TorchScript exporter, eval + no_grad)."""
    if opset < MIN_EXPORT_OPSET:
        raise ConfigError(f'opset must be >= {MIN_EXPORT_OPSET}, got {opset!r}')
    module.eval()
    with torch.no_grad(), warnings.catch_warnings():
        # the TorchScript exporter is deprecated but is the one that handles our dynamic
        # batch reliably on torch 2.13 (dynamo needs batch-2 examples and is slower)
        warnings.simplefilter('ignore', DeprecationWarning)
        torch.onnx.export(module, args, str(path), input_names=input_names,
                          output_names=output_names, dynamic_axes=dynamic,
                          opset_version=opset, dynamo=False, do_constant_folding=True)


def ort_outputs(path: Path, feeds: dict[str, np.ndarray], threads: int = 1) -> list[np.ndarray]:
    opts = ort.SessionOptions()
    opts.intra_op_num_threads = threads
    sess = ort.InferenceSession(str(path), opts, providers=['CPUExecutionProvider'])
    return sess.run(None, feeds)


def check_parity(module: nn.Module, args: tuple[torch.Tensor, ...], path: Path,
                 names: list[str], *, atol: float, what: str) -> float:
    """Max abs diff between torch and onnxruntime; ParityError above atol."""
    with torch.no_grad():
        ref = module(*args)
    ref = list(ref) if isinstance(ref, tuple) else [ref]
    got = ort_outputs(path, {n: a.numpy() for n, a in zip(names, args)})
    diff = max(float(np.max(np.abs(r.numpy() - g))) for r, g in zip(ref, got))
    if not np.isfinite(diff) or diff > atol:
        raise ParityError(f'{what}: onnxruntime vs torch max abs diff {diff:.3g} > atol '
                          f'{atol:g} ({path.name})')
    return diff


def quantize_int8(src: Path, dst: Path) -> Path:
    """Dynamic int8 quantization of the MatMul/Gemm weights."""
    root = logging.getLogger()
    level = root.level
    root.setLevel(logging.ERROR)  # silence its 'consider pre-processing' warning
    try:
        quantize_dynamic(str(src), str(dst), weight_type=QuantType.QInt8,
                         op_types_to_quantize=['MatMul', 'Gemm'])
    finally:
        root.setLevel(level)
    return dst


def quantize_in_place(path: Path,
                      feeds: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray]:
    """Replace ``path`` by its int8 version; return (fp32, int8) first outputs on ``feeds``."""
    fp32 = path.with_name(f'{path.stem}_fp32.tmp.onnx')
    path.rename(fp32)
    try:
        quantize_int8(fp32, path)
        return ort_outputs(fp32, feeds)[0], ort_outputs(path, feeds)[0]
    finally:
        fp32.unlink()


def policy_manifest_inputs(cfg: ModelConfig, stats: NormStats) -> list[dict[str, Any]]:
    """bundle.yaml input entries for a VlaPolicyNet."""
    h, w = cfg.image_size
    out: list[dict[str, Any]] = [
        {'name': f'image_{c}', 'modality': f'image/{c}', 'shape': [BATCH, 3, h, w],
         'dtype': 'float32', 'preprocessing': {
             'kind': 'image', 'camera': c, 'size': [h, w], 'color_order': 'rgb',
             'layout': 'CHW', 'mean': list(IMAGENET_MEAN), 'std': list(IMAGENET_STD)}}
        for c in cfg.cameras]
    if cfg.use_audio:
        out.append({'name': 'audio_mel', 'modality': 'audio',
                    'shape': [BATCH, cfg.mel.n_mels, cfg.mel.n_frames], 'dtype': 'float32',
                    'preprocessing': {'kind': 'log_mel', 'mel': cfg.mel.to_dict()}})
    if cfg.tactile_pads:
        out.append({'name': 'tactile', 'modality': 'tactile',
                    'shape': [BATCH, cfg.tactile_dim], 'dtype': 'float32',
                    'preprocessing': {'kind': 'tactile', 'scale': 1.0, 'unit': 'N',
                                      'pads': [{'name': n, 'rows': r, 'cols': c,
                                                'channels': 1}
                                               for n, r, c in cfg.tactile_pads]}})
    if cfg.delay_aware:  # docs/bundle.md "Action prefix"
        out.append({'name': 'action_prefix', 'shape': [BATCH, cfg.horizon, cfg.action_dim],
                    'dtype': 'float32', 'preprocessing': {'kind': 'action_prefix',
                                                          'max_delay': cfg.max_delay}})
        out.append({'name': 'prefix_mask', 'shape': [BATCH, cfg.horizon], 'dtype': 'float32',
                    'preprocessing': {'kind': 'prefix_mask', 'prefix': 'action_prefix'}})
    j = len(cfg.joint_names)
    out.append({'name': 'proprio', 'modality': 'joints', 'shape': [BATCH, cfg.proprio_dim],
                'dtype': 'float32', 'preprocessing': {
                    'kind': 'joints', 'joint_names': list(cfg.joint_names),
                    'use_velocities': cfg.use_velocities,
                    'position_mean': stats.get('position_mean', j, 0.0),
                    'position_std': stats.get('position_std', j, 1.0),
                    'velocity_mean': stats.get('velocity_mean', j, 0.0),
                    'velocity_std': stats.get('velocity_std', j, 1.0)}})
    out.append({'name': 'text_embedding', 'modality': 'language',
                'shape': [BATCH, cfg.text_dim], 'dtype': 'float32',
                'preprocessing': {'kind': 'text_embedding'}})
    out.append({'name': 'presence', 'modality': 'presence',
                'shape': [BATCH, len(cfg.modality_keys)], 'dtype': 'float32',
                'preprocessing': {'kind': 'presence', 'order': list(cfg.modality_keys)}})
    return out


def export_bundle(policy: VlaPolicyNet, text_encoder: nn.Module, out_dir: str | Path, *,
                  model_id: str, stats: NormStats = NormStats(),
                  action_kind: str = 'absolute_joint_position',
                  action_units: tuple[str, ...] | None = None, opset: int = MIN_EXPORT_OPSET,
                  atol: float = 1e-4, int8: bool = False, nan_output: bool = False,
                  provenance: dict[str, Any] | None = None,
                  competence: CompetenceSpec | None = None,
                  log: Callable[[str], None] = lambda s: None) -> ExportReport:
    """
    Write policy.onnx, text_encoder.onnx (+ tokenizer.json) and bundle.yaml to out_dir.

    With ``int8`` policy.onnx holds the int8 dynamic-quantized graph (error reported);
    ``competence`` (training commands + thresholds) goes under ``text_encoder``.
    """
    cfg = policy.cfg
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    times: dict[str, float] = {}
    policy.eval()
    text_encoder.eval()
    args = example_inputs(cfg, batch=2, seed=0, random_presence=True)
    names, onames = policy.input_names, policy.output_names
    dyn = {n: {0: 'batch'} for n in names + onames}
    module: nn.Module = _NanActions(policy) if nan_output else policy
    t = time.monotonic()
    log(f'[1/4] exporting policy ({cfg.fusion}, {count_params(policy) / 1e6:.2f} M params, '
        f'opset {opset})')
    export_onnx(module, args, out / 'policy.onnx', input_names=names, output_names=onames,
                dynamic=dyn, opset=opset)
    times['export_policy'] = time.monotonic() - t
    t = time.monotonic()
    log(f'[2/4] parity onnxruntime vs torch (atol {atol:g})')
    parity = float('nan') if nan_output else check_parity(
        module, args, out / 'policy.onnx', names, atol=atol, what='policy')
    times['parity'] = time.monotonic() - t
    report = ExportReport(bundle=out, params=count_params(policy), policy_bytes=0,
                          parity_max_abs=parity, seconds=times)
    if int8:
        ref, q = quantize_in_place(out / 'policy.onnx',
                                   {n: a.numpy() for n, a in zip(names, args)})
        report.int8_max_abs = float(np.max(np.abs(ref - q)))
        report.int8_rel_std = float(np.std(ref - q) / max(np.std(ref), 1e-12))
        log(f'      int8: max abs error {report.int8_max_abs:.4g} '
            f'({100 * report.int8_rel_std:.2f} % of output std)')
    t = time.monotonic()
    log(f'[3/4] exporting text encoder ({cfg.text_encoder})')
    te = _export_text(text_encoder, cfg, out, opset, atol)
    if competence is not None:
        te['competence'] = competence.to_manifest()
    times['export_text'] = time.monotonic() - t
    a = cfg.action_dim
    units = list(action_units) if action_units else [C.action_unit(n) for n in cfg.action_names]
    manifest = {
        'model_id': model_id,
        'provenance': {'created': datetime.datetime.now(datetime.UTC).isoformat(
            timespec='seconds'), 'exporter': f'vla_ros {VLA_ROS_VERSION}',
            'torch': str(torch.__version__), 'fusion': cfg.fusion, 'params': report.params,
            'parity_max_abs': None if nan_output else parity, 'int8': int8,
            'int8_max_abs': report.int8_max_abs, 'config': _plain(cfg.to_dict()),
            **(provenance or {})},
        'policy': {'file': 'policy.onnx', 'opset': opset},
        'inputs': policy_manifest_inputs(cfg, stats),
        'outputs': [{'name': 'actions', 'shape': [BATCH, cfg.horizon, a], 'dtype': 'float32'}]
        + ([{'name': 'gate_weights', 'shape': [BATCH, cfg.n_experts], 'dtype': 'float32'}]
           if cfg.fusion == Fusion.MOE.value else []),
        'action': {'output': 'actions', 'names': list(cfg.action_names), 'units': units,
                   'kind': action_kind, 'horizon': cfg.horizon, 'dt': cfg.dt,
                   'normalization': {'mean': stats.get('action_mean', a, 0.0),
                                     'std': stats.get('action_std', a, 1.0)}},
        'required_modalities': ['joints'],
        'text_encoder': te,
    }
    if cfg.fusion == Fusion.MOE.value:
        manifest['gate_output'] = 'gate_weights'
    log('[4/4] writing bundle.yaml (sha256 of every file)')
    write_manifest(out, manifest)
    report.policy_bytes = (out / 'policy.onnx').stat().st_size
    return report


def export_random_bundle(out_dir: str | Path, cfg: ModelConfig, *, seed: int = 0,
                         nan_output: bool = False, int8: bool = False) -> Path:
    """
    Write a random-weights bundle of ``cfg`` (byte text encoder) in ``out_dir``; return it.

    Actions: the joints of ``cfg`` as absolute positions [rad] (gripper [m]), normalised
    around 0 (std 0.1) and 0.02 m (std 0.005) for the gripper, then ``cfg.extra_actions`` (a
    gripper effort around 10 N, std 5). ``nan_output``: the graph emits
    NaN actions (what a runtime must refuse). For plumbing, never for a robot.
    """
    torch.manual_seed(seed)
    policy, text = VlaPolicyNet(cfg), ByteTextEncoder(cfg.text_dim)
    j = len(cfg.joint_names)
    extra = len(cfg.extra_actions)
    stats = NormStats(action_mean=(0.0,) * (j - 1) + (0.02,) + (10.0,) * extra,
                      action_std=(0.1,) * (j - 1) + (0.005,) + (5.0,) * extra)
    model_id = f'random-{cfg.fusion}' + ('-nan' if nan_output else '')
    export_bundle(policy, text, out_dir, model_id=model_id, stats=stats, nan_output=nan_output,
                  int8=int8, provenance={'source': 'export_random_bundle', 'seed': seed})
    return Path(out_dir)


def _export_text(enc: nn.Module, cfg: ModelConfig, out: Path, opset: int,
                 atol: float) -> dict[str, Any]:
    ids = torch.randint(3, 200, (2, 12))
    mask = torch.ones_like(ids)
    mask[1, 8:] = 0
    names = ['input_ids', 'attention_mask']
    dyn = {n: {0: 'batch', 1: 'tokens'} for n in names} | {'embedding': {0: 'batch'}}
    export_onnx(enc, (ids, mask), out / 'text_encoder.onnx', input_names=names,
                output_names=['embedding'], dynamic=dyn, opset=opset)
    if cfg.text_encoder in FROZEN_TEXT_DIMS:
        # pretrained weights: stored as fp16 (half the file), computed in fp32
        store_weights_fp16(out / 'text_encoder.onnx')
        atol = max(atol, FP16_STORAGE_ATOL)
    check_parity(enc, (ids, mask), out / 'text_encoder.onnx', names, atol=atol,
                 what='text_encoder')
    if cfg.text_encoder != TextEncoderKind.BYTES.value:
        # all the others read MiniLM's WordPiece ids: the runtime needs the same tokenizer
        tok = {'kind': 'hf_tokenizers', 'file': MiniLMTextEncoder.copy_tokenizer(out),
               'max_length': cfg.text_max_length}
    else:
        tok = {'kind': 'bytes', 'max_length': cfg.text_max_length}
    return {'file': 'text_encoder.onnx', 'input_names': names, 'output_name': 'embedding',
            'dim': cfg.text_dim, 'tokenizer': tok}


def _plain(x: Any) -> Any:
    """Tuples -> lists for YAML."""
    if isinstance(x, dict):
        return {k: _plain(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [_plain(v) for v in x]
    return x
