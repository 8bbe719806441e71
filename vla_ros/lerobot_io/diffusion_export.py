"""
Diffusion Policy (LeRobot 0.4.4) -> one ONNX graph of ``predict_action_chunk`` (LeRobot side).

The graph is LeRobot's own ``DiffusionModel.generate_actions`` traced as it runs in
``predict_action_chunk``: the ``n_obs_steps`` observations (state + camera images, oldest first)
are encoded once per chunk (ResNet with GroupNorm, spatial softmax, center crop as at eval), then
the scheduler's ``num_inference_steps`` denoising steps of the 1-D conditional UNet run unrolled,
and the output is the ``n_action_steps`` actions LeRobot executes,
``horizon[n_obs_steps - 1 : n_obs_steps - 1 + n_action_steps]``. What is random is an input:

- noise ``[B, draws, horizon, A]``: slot 0 is the initial sample, slot ``k >= 1`` the variance
  noise the DDPM step draws at its ``k``-th step with ``t > 0`` (the last step, ``t = 0``, draws
  none; DDIM with LeRobot's ``eta = 0`` draws none, so ``draws = 1``). LeRobot draws them from
  the global torch generator inside diffusers' ``step``; :func:`fed_noise` hands diffusers these
  slots instead, in its draw order, for the trace and for the parity reference alike.
- normalisation stays outside the graph (bundle mean / std, as for ACT).

The UNet's ``Conv1d`` layers are exported as the same product in im2col form (a 0/1 matrix
gathers the ``K`` padded windows, one ``MatMul`` with the weight reshaped once to
``[C_in * K, C_out]``; :func:`_matmul_convs`). At batch 1 over a 16-step horizon every weight is
used on a few columns only, so a chunk streams the 1 GB of UNet weights 100 times: onnxruntime's
``Conv`` over such short sequences ran ~2x slower than this ``MatMul`` here, and the dynamic int8
quantizer turns a ``MatMul`` into ``MatMulInteger`` (4x fewer weight bytes, ~4x faster than its
``ConvInteger``; bench/_conv_forms.py). Same arithmetic up to float summation order (parity
measures it).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
from vla_ros.lerobot_io.random_policy import (policy_features, save_with_processors,
                                              STATE_KEY)

NOISE_KEY = 'noise'
# the test size: every structural feature (ResNet18 + GroupNorm + spatial softmax, center crop,
# 2 observations, a 2-level FiLM UNet, DDPM with its per-step noise) at small widths / steps
REDUCED = {'down_dims': (32, 64), 'num_inference_steps': 4, 'crop_shape': (40, 56),
           'diffusion_step_embed_dim': 16, 'spatial_softmax_num_keypoints': 8,
           'kernel_size': 3, 'n_groups': 4}
REDUCED_CAMERA = (48, 64)
WT = '_vla_ros_im2col_weight'  # the Conv1d weight as [C_in * K, C_out], during the export
SEL = '_vla_ros_windows'  # the 0/1 window matrix of the conv's input length, during the export


def make_checkpoint(out: Path, *, reduced: bool = False, state_dim: int = 7,
                    action_dim: int = 7, cameras: dict[str, tuple[int, int]] | None = None,
                    seed: int = 0) -> Path:
    """
    Build a randomly initialised DiffusionPolicy with LeRobot's classes; save it as LeRobot does.

    LeRobot's defaults (ResNet18 backbone without pretrained weights, GroupNorm, UNet
    ``down_dims`` 512/1024/2048, 100 DDPM steps, ``n_obs_steps`` 2, ``horizon`` 16,
    ``n_action_steps`` 8) unless ``reduced``; ``out`` gets ``config.json`` +
    ``model.safetensors`` and the pre/post-processors with random stats (MIN_MAX state and
    action, MEAN_STD images: LeRobot's normalisation mapping). ``cameras``: name -> (H, W).
    """
    # optional heavy dependency: torch
    import torch
    # optional heavy dependency: lerobot
    from lerobot.policies.diffusion.configuration_diffusion import DiffusionConfig
    from lerobot.policies.diffusion.modeling_diffusion import DiffusionPolicy

    out = Path(out).resolve()
    cameras = cameras or {'front': REDUCED_CAMERA if reduced else (480, 640)}
    feats, outputs = policy_features(cameras, state_dim, action_dim)
    cfg = DiffusionConfig(input_features=feats, output_features=outputs, device='cpu',
                          **(REDUCED if reduced else {}))
    torch.manual_seed(seed)
    policy = DiffusionPolicy(cfg).eval()
    g = torch.Generator().manual_seed(seed + 1)

    def min_max(n: int) -> dict:
        lo = torch.rand(n, generator=g) * -1.0 - 0.2
        return {'min': lo, 'max': lo + torch.rand(n, generator=g) * 1.5 + 0.3}

    stats = {STATE_KEY: min_max(state_dim), 'action': min_max(action_dim)}
    for key in cfg.image_features:
        stats[key] = {'mean': (torch.rand(3, 1, 1, generator=g) * 0.2 + 0.4),
                      'std': (torch.rand(3, 1, 1, generator=g) * 0.1 + 0.2)}
    return save_with_processors(policy, cfg, stats, out, 'DiffusionPolicy')


def noise_draws(policy) -> int:
    """Noise slots of one chunk: the initial sample + one per DDPM step with ``t > 0``."""
    sched = policy.diffusion.noise_scheduler
    sched.set_timesteps(policy.diffusion.num_inference_steps)
    if type(sched).__name__ == 'DDIMScheduler':
        return 1  # LeRobot calls step() with eta = 0: deterministic
    return 1 + int((sched.timesteps > 0).sum())


@contextlib.contextmanager
def fed_noise(noise):
    """
    Make diffusers' schedulers draw their step noise from ``noise[:, 1:]``, in draw order.

    ``noise``: torch ``[B, draws, horizon, A]``. Raises RuntimeError when the chunk drew a
    different number of slots than ``noise`` holds (checked on exit).
    """
    # optional heavy dependency: diffusers
    from diffusers.schedulers import scheduling_ddim, scheduling_ddpm

    used = [0]

    def draw(shape, generator=None, device=None, dtype=None, layout=None):
        used[0] += 1
        if used[0] >= noise.shape[1]:
            raise RuntimeError(f'the scheduler drew more than {noise.shape[1] - 1} step noises')
        x = noise[:, used[0]]
        if tuple(x.shape) != tuple(shape):
            raise RuntimeError(f'step noise of shape {tuple(shape)} asked, slot is '
                               f'{tuple(x.shape)}')
        return x.to(dtype) if dtype is not None else x

    saved = scheduling_ddpm.randn_tensor, scheduling_ddim.randn_tensor
    scheduling_ddpm.randn_tensor = scheduling_ddim.randn_tensor = draw
    try:
        yield used
    finally:
        scheduling_ddpm.randn_tensor, scheduling_ddim.randn_tensor = saved
    if used[0] != noise.shape[1] - 1:
        raise RuntimeError(f'the chunk drew {used[0]} step noises, {noise.shape[1] - 1} given')


def lerobot_chunk(policy, frames: list[dict], noise=None):
    """
    Return LeRobot's chunk after the observations ``frames`` (oldest first, preprocessed).

    Fills the policy's observation queues exactly as ``select_action`` does (images stacked
    under ``observation.images``, ``populate_queues``; the first frame repeated to fill), then
    ``predict_action_chunk`` -- with ``noise`` ``[B, draws, horizon, A]`` fed (:func:`fed_noise`)
    or LeRobot's own random draws when None.
    """
    # optional heavy dependency: torch
    import torch
    # optional heavy dependency: lerobot
    from lerobot.policies.utils import populate_queues

    policy.reset()
    cams = list(policy.config.image_features)
    for f in frames:
        batch = dict(f)
        batch.pop('action', None)  # as select_action does (the preprocessor adds None)
        if cams:
            batch['observation.images'] = torch.stack([batch[k] for k in cams], dim=-4)
        policy._queues = populate_queues(policy._queues, batch)
    if noise is None:
        return policy.predict_action_chunk(batch)
    with fed_noise(noise):
        return policy.predict_action_chunk(batch, noise=noise[:, 0])


def graph_module(policy, cams: list[str]):
    """Return the module ``(state, noise, *images) -> action`` (LeRobot's generate_actions)."""
    # optional heavy dependency: torch
    import torch

    class DiffusionGraph(torch.nn.Module):

        def __init__(self) -> None:
            super().__init__()
            self.policy = policy

        def forward(self, state, noise, *images):
            batch = {STATE_KEY: state,
                     'observation.images': torch.stack(images, dim=2)}  # [B, k, N, 3, H, W]
            with fed_noise(noise):
                return self.policy.diffusion.generate_actions(batch, noise=noise[:, 0])

    return DiffusionGraph().eval()


@contextlib.contextmanager
def _matmul_convs(module, example: tuple):
    """
    Run every ``Conv1d`` under ``module`` as two MatMuls (undone on exit).

    ``example``: arguments of one ``module`` call (a dry run finds each convolution's length).

    ``x [B, C, L] @ S [L, K * L_out]`` gathers the K (padded, strided) windows -- ``S`` holds one
    1 per column, zero columns for the padding: exact --, then ``[B, L_out, C * K] @ W`` with the
    weight reshaped once to ``[C * K, C_out]``. Nine ONNX nodes per convolution, ``S`` and ``W``
    initializers shared by the unrolled steps (registered as buffers while tracing: a captured
    tensor would become a Constant per use, and the exporter lifts only persistent buffers).
    """
    # optional heavy dependency: torch
    import torch

    convs = [m for m in module.modules() if isinstance(m, torch.nn.Conv1d)]
    lengths: dict[int, int] = {}  # the input length of each conv, from one dry run

    def record(m, args) -> None:  # a pre-hook's return value would replace the input
        lengths[id(m)] = int(args[0].shape[-1])

    hooks = [c.register_forward_pre_hook(record) for c in convs]
    with torch.no_grad():
        module(*example)
    for h in hooks:
        h.remove()
    for conv in convs:
        if conv.groups != 1 or conv.padding_mode != 'zeros' or isinstance(conv.padding, str):
            raise ValueError(f'Conv1d {conv} is not exported in MatMul form')
        w = conv.weight.detach()
        conv.register_buffer(WT, w.reshape(w.shape[0], -1).t().contiguous())  # row c * K + k
        conv.register_buffer(SEL, _window_matrix(conv, lengths[id(conv)]))

        def forward(x, conv=conv):
            c = int(x.shape[1])  # the horizon is fixed: static sizes
            k = conv.kernel_size[0]
            n = getattr(conv, SEL).shape[1] // k
            cols = torch.matmul(x, getattr(conv, SEL))  # [B, C, K * L_out], k-major
            cols = cols.reshape(-1, c, k, n).permute(0, 3, 1, 2).reshape(-1, n, c * k)
            y = torch.matmul(cols, getattr(conv, WT))
            if conv.bias is not None:
                y = y + conv.bias
            return y.transpose(1, 2)

        conv.forward = forward
    try:
        yield len(convs)
    finally:
        for conv in convs:
            del conv.forward
            for name in [b for b, _ in conv.named_buffers() if b.startswith('_vla_ros_')]:
                delattr(conv, name)


def _window_matrix(conv, length: int):
    """Return ``S [length, K * L_out]``: column ``k * L_out + j`` picks input ``j*s + k*d - p``."""
    # optional heavy dependency: torch
    import torch

    k, p, s, d = conv.kernel_size[0], conv.padding[0], conv.stride[0], conv.dilation[0]
    n = (length + 2 * p - d * (k - 1) - 1) // s + 1
    sel = torch.zeros(length, k * n, dtype=conv.weight.dtype)
    for i in range(k):
        for j in range(n):
            src = j * s + i * d - p
            if 0 <= src < length:
                sel[src, i * n + j] = 1.0
    return sel


@contextlib.contextmanager
def _static_crop(policy, image_hw: tuple[int, int]):
    """
    Replace torchvision's ``CenterCrop`` by the same slice for the known image size.

    ``CenterCrop`` rounds the traced image height (a tensor) and fails to trace; its offsets are
    ``round((H - h) / 2)``, ``round((W - w) / 2)`` as torchvision computes them. Undone on exit.
    """
    # optional heavy dependency: torch
    import torch

    enc = policy.diffusion.rgb_encoder
    encoders = list(enc) if isinstance(enc, torch.nn.ModuleList) else [enc]
    saved = [e.center_crop for e in encoders if e.do_crop]
    H, W = image_hw

    class Crop(torch.nn.Module):

        def __init__(self, size) -> None:
            super().__init__()
            self.h, self.w = int(size[0]), int(size[1])
            self.top, self.left = int(round((H - self.h) / 2.0)), int(round((W - self.w) / 2.0))

        def forward(self, x):
            return x[..., self.top:self.top + self.h, self.left:self.left + self.w]

    for e in encoders:
        if e.do_crop:
            e.center_crop = Crop(e.center_crop.size)
    try:
        yield
    finally:
        for e, c in zip([e for e in encoders if e.do_crop], saved):
            e.center_crop = c


def export_graph(policy, cfg, out: Path, *, opset: int = 17) -> list[str]:
    """Trace the chunk to ``out/policy.onnx`` (batch 2 example, dynamic batch)."""
    # optional heavy dependency: torch
    import torch

    if cfg.resize_shape is not None:
        raise ValueError(f'resize_shape {cfg.resize_shape}: the antialiased torchvision Resize '
                         'is not exported yet (crop_shape alone is); see docs/lerobot.md')
    cams = list(cfg.image_features)
    b, k = 2, cfg.n_obs_steps
    example = (torch.zeros(b, k, cfg.robot_state_feature.shape[0]),
               torch.randn(b, noise_draws(policy), cfg.horizon, cfg.action_feature.shape[0]),
               *(torch.rand(b, k, *cfg.image_features[c].shape) for c in cams))
    names = [STATE_KEY, NOISE_KEY, *cams]
    hw = tuple(cfg.image_features[cams[0]].shape[1:]) if cams else (0, 0)
    unet = policy.diffusion.unet
    cond = unet.down_modules[0][0].cond_encoder[1].in_features - cfg.diffusion_step_embed_dim
    dry = (torch.zeros(1, cfg.horizon, cfg.action_feature.shape[0]),
           torch.zeros(1, dtype=torch.long), torch.zeros(1, cond))
    with torch.no_grad(), _static_crop(policy, hw), _matmul_convs(unet, dry):
        torch.onnx.export(graph_module(policy, cams), example, str(out / 'policy.onnx'),
                          input_names=names, output_names=['action'], opset_version=opset,
                          dynamo=False, dynamic_axes={**{n: {0: 'batch'} for n in names},
                                                      'action': {0: 'batch'}})
    return names


def reference(policy, pre, post, raw: dict[str, np.ndarray], noise: np.ndarray) -> np.ndarray:
    """
    Run LeRobot's pipeline on a history: preprocessor per frame -> chunk -> postprocessor.

    ``raw``: state ``[1, k, J]`` and uint8 images ``[1, k, H, W, 3]`` per camera, oldest first.
    """
    # optional heavy dependency: torch
    import torch

    k = raw[STATE_KEY].shape[1]
    frames = []
    for i in range(k):
        obs = {STATE_KEY: torch.from_numpy(raw[STATE_KEY][:, i])}
        for key, v in raw.items():
            if key != STATE_KEY:
                obs[key] = torch.from_numpy(v[:, i]).permute(0, 3, 1, 2).float() / 255
        frames.append(pre(obs))
    with torch.no_grad():
        return post(lerobot_chunk(policy, frames, torch.from_numpy(noise))).numpy()
