"""
A VLA-scale reference graph: pi0 / SmolVLA-shaped, ~105 M parameters, random weights.

For measuring what a big policy costs in this runtime (``bench vla_scale``), not for driving a
robot. The shape follows pi0 / SmolVLA at base width:

- **vision**: each camera (224 x 224) as 16 x 16 patches through a ViT (d 768, 6 blocks,
  shared by the cameras) -> 196 tokens per camera;
- **prefix**: image tokens + the language embedding projected to 8 tokens + the state token,
  through a 6-block transformer (d 768): the "VLM" whose output the action expert reads;
- **action expert**: H = 50 action tokens (d 512, 6 decoder blocks cross-attending to the
  prefix) predicting a flow-matching velocity; the 10 Euler denoising steps are unrolled in
  the graph, from a fixed initial noise (a seeded constant: the same compute as a noise input,
  which the v2 bundle contract will carry).

Inputs and outputs follow the version-1 bundle contract (two ``image`` inputs in [-1, 1]
via mean/std 0.5, ``joints``, ``text_embedding``, ``presence``), so :class:`PolicyRuntime` and
``vla_policy`` run it like any bundle.
"""

from __future__ import annotations

from dataclasses import dataclass
import math
from pathlib import Path
import shutil

import torch
from torch import nn
from vla_ros.constants import DEFAULT_ARM_JOINTS, DEFAULT_GRIPPER_JOINT
from vla_ros.core.bundle.contract import BATCH
from vla_ros.core.bundle.manifest import load_bundle, write_manifest
from vla_ros.model.export import check_parity, export_onnx, quantize_in_place
from vla_ros.model.layers import DecoderBlock, EncoderBlock
import yaml


@dataclass(frozen=True)
class VlaScaleConfig:
    """Sizes of the reference graph (defaults: ~105 M parameters)."""

    cameras: tuple[str, ...] = ('front', 'wrist')
    image_size: int = 224
    patch: int = 16
    vision_dim: int = 768
    vision_layers: int = 6
    prefix_layers: int = 6
    heads: int = 12
    text_dim: int = 387
    text_tokens: int = 8
    joints: int = 7
    expert_dim: int = 512
    expert_layers: int = 6
    expert_heads: int = 8
    horizon: int = 50
    action_dim: int = 7
    denoise_steps: int = 10
    dt: float = 0.02

    @property
    def modality_keys(self) -> tuple[str, ...]:
        return tuple(f'image/{c}' for c in self.cameras) + ('language', 'joints')


class VlaScalePolicy(nn.Module):
    """pi0-shaped policy: images, language embedding, state, presence -> B x H x A actions."""

    def __init__(self, cfg: VlaScaleConfig = VlaScaleConfig(), seed: int = 0) -> None:
        super().__init__()
        torch.manual_seed(seed)
        self.cfg = c = cfg
        d, n_patch = c.vision_dim, (c.image_size // c.patch) ** 2
        self.patch = nn.Linear(3 * c.patch * c.patch, d)
        self.pos = nn.Parameter(torch.randn(1, n_patch, d) * 0.02)
        self.cam = nn.Parameter(torch.randn(len(c.cameras), 1, d) * 0.02)
        self.vision = nn.ModuleList(EncoderBlock(d, c.heads, 4) for _ in range(c.vision_layers))
        self.text = nn.Linear(c.text_dim, c.text_tokens * d)
        self.state = nn.Linear(c.joints, d)
        self.missing = nn.Parameter(torch.zeros(len(c.modality_keys), d))
        self.prefix = nn.ModuleList(EncoderBlock(d, c.heads, 4) for _ in range(c.prefix_layers))
        self.to_expert = nn.Linear(d, c.expert_dim)
        e = c.expert_dim
        self.action_in = nn.Linear(c.action_dim, e)
        self.time = nn.Linear(2 * 32, e)
        self.query_pos = nn.Parameter(torch.randn(1, c.horizon, e) * 0.02)
        self.expert = nn.ModuleList(DecoderBlock(e, c.expert_heads, 4)
                                    for _ in range(c.expert_layers))
        self.velocity = nn.Linear(e, c.action_dim)
        g = torch.Generator().manual_seed(seed)
        self.register_buffer('noise', torch.randn(1, c.horizon, c.action_dim, generator=g))
        freqs = torch.exp(torch.linspace(0, math.log(1000.0), 32))
        self.register_buffer('freqs', freqs)

    @property
    def input_names(self) -> list[str]:
        return [f'image_{c}' for c in self.cfg.cameras] + ['proprio', 'text_embedding',
                                                           'presence']

    def _patches(self, img: torch.Tensor) -> torch.Tensor:
        b, p, s = img.shape[0], self.cfg.patch, self.cfg.image_size // self.cfg.patch
        x = img.reshape(b, 3, s, p, s, p).permute(0, 2, 4, 1, 3, 5).reshape(b, s * s, -1)
        return self.patch(x) + self.pos

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
        c = self.cfg
        n_cam = len(c.cameras)
        images, (proprio, text, presence) = inputs[:n_cam], inputs[n_cam:]
        b = proprio.shape[0]
        tokens = []
        for i, img in enumerate(images):
            x = self._patches(img) + self.cam[i]
            for blk in self.vision:
                x = blk(x)
            p = presence[:, i].reshape(b, 1, 1)
            tokens.append(p * x + (1 - p) * self.missing[i])
        lang = self.text(text).reshape(b, c.text_tokens, c.vision_dim)
        p = presence[:, n_cam].reshape(b, 1, 1)
        tokens.append(p * lang + (1 - p) * self.missing[n_cam])
        tokens.append(self.state(proprio).unsqueeze(1))
        x = torch.cat(tokens, dim=1)
        for blk in self.prefix:
            x = blk(x)
        mem = self.to_expert(x)
        a = self.noise.expand(b, -1, -1)
        step = 1.0 / c.denoise_steps
        for k in range(c.denoise_steps):         # Euler steps of the flow, unrolled
            t = torch.full((b, 1), 1.0 - k * step, dtype=a.dtype, device=a.device)
            ang = t * self.freqs
            q = (self.action_in(a) + self.query_pos
                 + self.time(torch.cat([ang.sin(), ang.cos()], dim=1)).unsqueeze(1))
            for blk in self.expert:
                q = blk(q, mem)
            a = a - step * self.velocity(q)
        return a


def count_params(m: nn.Module) -> int:
    return sum(p.numel() for p in m.parameters())


def example_inputs(cfg: VlaScaleConfig, batch: int = 1,
                   seed: int = 0) -> tuple[torch.Tensor, ...]:
    """Random inputs in the graph's order: images in [-1, 1], state, text, presence."""
    g = torch.Generator().manual_seed(seed)
    s = cfg.image_size
    imgs = tuple(torch.rand(batch, 3, s, s, generator=g) * 2 - 1 for _ in cfg.cameras)
    return imgs + (torch.randn(batch, cfg.joints, generator=g),
                   torch.randn(batch, cfg.text_dim, generator=g),
                   torch.ones(batch, len(cfg.modality_keys)))


def export_vla_scale(out_dir: str | Path, text_bundle: str | Path, *,
                     cfg: VlaScaleConfig = VlaScaleConfig(), int8: bool = False,
                     log=print) -> Path:
    """
    Write the reference graph as a verified bundle; return its directory.

    The language side (``text_encoder.onnx`` + tokenizer, 387-d) is copied from
    ``text_bundle`` (the default bundle). ``int8``: dynamic int8 quantization of the MatMul
    weights (the right kind for transformers: activations are quantized per call, no
    calibration set), with the error against fp32 logged.
    """
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    policy = VlaScalePolicy(cfg).eval()
    args = example_inputs(cfg)
    names = policy.input_names
    dyn = {n: {0: 'batch'} for n in names + ['actions']}
    log(f'exporting the VLA-scale reference graph ({count_params(policy) / 1e6:.1f} M params)')
    export_onnx(policy, args, out / 'policy.onnx', input_names=names,
                output_names=['actions'], dynamic=dyn)
    parity = check_parity(policy, args, out / 'policy.onnx', names, atol=1e-3,
                          what='vla_scale')
    int8_err = None
    if int8:
        ref, q = quantize_in_place(out / 'policy.onnx',
                                   {n: a.numpy() for n, a in zip(names, args)})
        int8_err = float(abs(ref - q).max() / max(float(abs(ref).max()), 1e-9))
        log(f'int8: max error {100 * int8_err:.2f} % of the largest action')
    src = yaml.safe_load((Path(text_bundle) / 'bundle.yaml').read_text())
    te = {k: v for k, v in src['text_encoder'].items() if k != 'competence'}
    for f in (te['file'], te['tokenizer']['file']):
        shutil.copy(Path(text_bundle) / f, out / f)
    s = cfg.image_size
    joints = list(DEFAULT_ARM_JOINTS + (DEFAULT_GRIPPER_JOINT,))[:cfg.joints]
    image = lambda c: {'name': f'image_{c}', 'modality': f'image/{c}',  # noqa: E731
                       'shape': [BATCH, 3, s, s], 'dtype': 'float32', 'preprocessing': {
                           'kind': 'image', 'camera': c, 'size': [s, s], 'color_order': 'rgb',
                           'layout': 'CHW', 'mean': [0.5] * 3, 'std': [0.5] * 3}}
    manifest = {
        'model_id': 'vla-scale-reference' + ('-int8' if int8 else ''),
        'provenance': {'source': 'vla_ros.model.vla_scale (random weights, benchmark only)',
                       'params': count_params(policy), 'parity_max_abs': parity,
                       'int8': int8, 'int8_rel_error': int8_err,
                       'config': {k: (list(v) if isinstance(v, tuple) else v)
                                  for k, v in cfg.__dict__.items()}},
        'policy': {'file': 'policy.onnx', 'opset': 17},
        'inputs': [image(c) for c in cfg.cameras] + [
            {'name': 'proprio', 'modality': 'joints', 'shape': [BATCH, cfg.joints],
             'dtype': 'float32', 'preprocessing': {
                 'kind': 'joints', 'joint_names': joints, 'use_velocities': False,
                 'position_mean': [0.0] * cfg.joints, 'position_std': [1.0] * cfg.joints,
                 'velocity_mean': [0.0] * cfg.joints, 'velocity_std': [1.0] * cfg.joints}},
            {'name': 'text_embedding', 'modality': 'language',
             'shape': [BATCH, cfg.text_dim], 'dtype': 'float32',
             'preprocessing': {'kind': 'text_embedding'}},
            {'name': 'presence', 'modality': 'presence',
             'shape': [BATCH, len(cfg.modality_keys)], 'dtype': 'float32',
             'preprocessing': {'kind': 'presence', 'order': list(cfg.modality_keys)}}],
        'outputs': [{'name': 'actions', 'shape': [BATCH, cfg.horizon, cfg.action_dim],
                     'dtype': 'float32'}],
        'action': {'output': 'actions', 'names': joints,
                   'units': ['m' if 'gripper' in n else 'rad' for n in joints],
                   'kind': 'absolute_joint_position', 'horizon': cfg.horizon, 'dt': cfg.dt,
                   'normalization': {'mean': [0.0] * cfg.action_dim,
                                     'std': [0.05] * cfg.action_dim}},
        'required_modalities': ['joints'],
        'text_encoder': te}
    write_manifest(out, manifest)
    load_bundle(out)
    return out
