r"""
SmolVLA (LeRobot 0.4.4) -> one ONNX graph of its whole sampling path (LeRobot side).

The graph is LeRobot's own ``VLAFlowMatching.sample_actions`` traced as it runs in
``predict_action_chunk``: the image + language + state prefix goes through the VLM once and
fills the KV cache, then ``num_steps`` Euler steps of the action expert run over that cache
(unrolled). What LeRobot's processors and ``prepare_images`` do is either in the graph or in the
bundle contract:

- images: graph input at the dataset's camera size, [0, 1] (the runtime resizes a different
  camera size to it); LeRobot's ``resize_with_pad`` (bilinear, padding at the *top and left*)
  and the [-1, 1] mapping for SigLIP are in the graph.
- language: ``'{command}\n'`` (SmolVLANewLineProcessor) tokenized with the VLM's tokenizer
  (bundle ``tokenizer.json``), padded to ``tokenizer_max_length`` on the right; the mask is a
  bool input. LeRobot pads to the longest prompt of the batch; padded tokens are masked out of
  attention and positions, so the chunk is the same (the parity check measures it).
- state: MEAN_STD-normalized by the runtime and zero-padded to ``max_state_dim`` (``pad_to``).
- noise: ``[B, chunk_size, max_action_dim]`` input (contract v2 ``kind: noise``).
- action: ``[B, chunk_size, max_action_dim]`` normalized; the bundle takes the real columns
  (``slice``) and un-normalizes.

Export patches (TorchScript exporter, opset 17), numerically identical to eager: ``torch.cumsum``
of a bool mask is done on int64 and SigLIP's position ids (computed per image with
``bucketize`` in a Python loop) once for the fixed image size -- without these two the export
fails --, and RoPE writes its two halves with a concat instead of slice assignments (which
became ~540 ScatterND nodes, ~4 % of the run).
"""

from __future__ import annotations

import contextlib
from pathlib import Path

import numpy as np
from vla_ros.lerobot_io.random_policy import (policy_features, save_with_processors,
                                              STATE_KEY)
from vla_ros.lerobot_io.rtc_export import RTCSettings, smolvla_rtc_module
from vla_ros.lerobot_io.smolvlm_standin import write_vlm_dir

PROMPT = '{command}\n'
TOKENS_KEY = 'observation.language.tokens'
MASK_KEY = 'observation.language.attention_mask'
NOISE_KEY = 'noise'
PREFIX_KEY = 'action_prefix'
PREFIX_MASK_KEY = 'prefix_mask'
# the test / tiny size: every structural feature of the full model, small widths
REDUCED = {'chunk_size': 10, 'n_action_steps': 10, 'num_steps': 3, 'num_vlm_layers': 4,
           'tokenizer_max_length': 16, 'resize_imgs_with_padding': (128, 128)}


def make_checkpoint(out: Path, *, reduced: bool = False, state_dim: int = 7,
                    action_dim: int = 7, cameras: dict[str, tuple[int, int]] | None = None,
                    seed: int = 0) -> Path:
    """
    Build a randomly initialised SmolVLA with LeRobot's classes; save it as LeRobot does.

    ``out`` gets ``config.json`` + ``model.safetensors`` (``save_pretrained``) and the
    pre/post-processor pipelines with random MEAN_STD stats; the stand-in VLM directory
    (:mod:`~vla_ros.lerobot_io.smolvlm_standin`) goes to ``out/vlm`` and ``vlm_model_name``
    points at it. ``cameras``: name -> (height, width) of the dataset images.
    """
    # optional heavy dependency: torch
    import torch
    # optional heavy dependency: lerobot
    from lerobot.policies.smolvla.configuration_smolvla import SmolVLAConfig
    from lerobot.policies.smolvla.modeling_smolvla import SmolVLAPolicy

    out = Path(out).resolve()
    vlm = write_vlm_dir(out / 'vlm', reduced=reduced)
    feats, outputs = policy_features(cameras or {'front': (480, 640)}, state_dim, action_dim)
    cfg = SmolVLAConfig(input_features=feats, output_features=outputs, device='cpu',
                        vlm_model_name=str(vlm), load_vlm_weights=False,
                        **(REDUCED if reduced else {}))
    torch.manual_seed(seed)
    policy = SmolVLAPolicy(cfg).eval()
    g = torch.Generator().manual_seed(seed + 1)
    stats = {STATE_KEY: {'mean': torch.randn(state_dim, generator=g) * 0.3,
                         'std': torch.rand(state_dim, generator=g) * 0.5 + 0.2},
             'action': {'mean': torch.randn(action_dim, generator=g) * 0.3,
                        'std': torch.rand(action_dim, generator=g) * 0.5 + 0.2}}
    return save_with_processors(policy, cfg, stats, out, 'SmolVLA')


@contextlib.contextmanager
def _exportable(policy, image_hw: tuple[int, int]):
    """Apply the export patches (see the module docstring); undo them on exit."""
    # optional heavy dependency: torch
    import torch
    # optional heavy dependency: lerobot
    from lerobot.policies.smolvla import smolvlm_with_expert as swe

    orig_cumsum = torch.cumsum

    def cumsum(x, *a, **k):
        return orig_cumsum(x.long() if x.dtype == torch.bool else x, *a, **k)

    emb = policy.model.vlm_with_expert.get_vlm_model().vision_model.embeddings
    h, w = (s // emb.patch_size for s in image_hw)
    n = emb.num_patches_per_side
    boundaries = torch.arange(1 / n, 1.0, 1 / n)
    bh = torch.bucketize(torch.arange(h, dtype=torch.float32) / h * (1 - 1e-6), boundaries,
                         right=True)
    bw = torch.bucketize(torch.arange(w, dtype=torch.float32) / w * (1 - 1e-6), boundaries,
                         right=True)
    pos = (bh[:, None] * n + bw).flatten()

    def embed(pixel_values, patch_attention_mask=None):
        x = emb.patch_embedding(pixel_values).flatten(2).transpose(1, 2)
        return x + emb.position_embedding(pos)[None]

    orig_rope = swe.apply_rope

    def rope(x, positions, max_wavelength=10_000):
        # swe.apply_rope with torch.cat for its two slice assignments (same arithmetic)
        d_half, dtype = x.shape[-1] // 2, x.dtype
        x = x.to(torch.float32)
        freq = (2.0 / x.shape[-1]) * torch.arange(d_half, dtype=torch.float32, device=x.device)
        radians = positions[..., None].to(torch.float32) / (max_wavelength ** freq)[None, None]
        radians = radians[..., None, :]
        sin, cos = torch.sin(radians), torch.cos(radians)
        x1, x2 = x.split(d_half, dim=-1)
        return torch.cat([x1 * cos - x2 * sin, x2 * cos + x1 * sin], dim=-1).to(dtype)

    torch.cumsum = cumsum
    emb.forward = embed
    swe.apply_rope = rope
    try:
        yield
    finally:
        torch.cumsum = orig_cumsum
        swe.apply_rope = orig_rope
        del emb.forward


def graph_module(policy, cams: list[str]):
    """Return the module ``(state, tokens, mask, noise, *images) -> action`` (LeRobot's)."""
    # optional heavy dependency: torch
    import torch

    class SmolVLAGraph(torch.nn.Module):

        def __init__(self) -> None:
            super().__init__()
            self.policy = policy

        def forward(self, state, tokens, mask, noise, *images):
            batch = {STATE_KEY: state, **dict(zip(cams, images))}
            imgs, img_masks = self.policy.prepare_images(batch)
            return self.policy.model.sample_actions(imgs, img_masks, tokens, mask,
                                                    self.policy.prepare_state(batch),
                                                    noise=noise)

    return SmolVLAGraph().eval()


def export_graph(policy, cfg, out: Path, *, opset: int = 17,
                 rtc: RTCSettings | None = None) -> list[str]:
    """
    Trace the sampling path to ``out/policy.onnx`` (batch 2 example, dynamic batch).

    ``rtc``: with LeRobot's RTC guidance (:mod:`~vla_ros.lerobot_io.rtc_export`) and the
    ``action_prefix`` [B, T, max_action_dim] / ``prefix_mask`` [B, T] inputs after the noise.
    """
    # optional heavy dependency: torch
    import torch

    cams = list(cfg.image_features)
    shape0 = cfg.image_features[cams[0]].shape
    b, L = 2, cfg.tokenizer_max_length
    mask = torch.ones(b, L, dtype=torch.bool)
    mask[:, L // 2:] = False
    example = (torch.zeros(b, cfg.max_state_dim), torch.ones(b, L, dtype=torch.long), mask,
               torch.randn(b, cfg.chunk_size, cfg.max_action_dim))
    names = [STATE_KEY, TOKENS_KEY, MASK_KEY, NOISE_KEY]
    module = graph_module(policy, cams)
    if rtc is not None:
        example += (torch.randn(b, cfg.chunk_size, cfg.max_action_dim),
                    (torch.arange(cfg.chunk_size) < 3).float().expand(b, -1))
        names += [PREFIX_KEY, PREFIX_MASK_KEY]
        module = smolvla_rtc_module(policy, cams, rtc, STATE_KEY)
    example += tuple(torch.rand(b, *cfg.image_features[c].shape) for c in cams)
    names += cams
    pad = cfg.resize_imgs_with_padding or tuple(shape0[1:])
    with torch.no_grad(), _exportable(policy, tuple(pad)):
        torch.onnx.export(module, example, str(out / 'policy.onnx'),
                          input_names=names, output_names=['action'], opset_version=opset,
                          dynamo=False, dynamic_axes={**{n: {0: 'batch'} for n in names},
                                                      'action': {0: 'batch'}})
    return names


def reference(policy, pre, post, raw: dict[str, np.ndarray], command: str,
              noise: np.ndarray) -> np.ndarray:
    """Run LeRobot's pipeline: preprocessor -> predict_action_chunk(noise) -> postprocessor."""
    # optional heavy dependency: torch
    import torch

    with torch.no_grad():
        batch = pre(lerobot_obs(raw, command))
        return post(policy.predict_action_chunk(batch, noise=torch.from_numpy(noise))).numpy()


def lerobot_obs(raw: dict[str, np.ndarray], command: str) -> dict:
    """Return LeRobot's raw observation (torch; images [B, 3, H, W] in [0, 1]; ``task``)."""
    # optional heavy dependency: torch
    import torch

    obs = {k: torch.from_numpy(v) for k, v in raw.items() if k == STATE_KEY}
    for k, v in raw.items():
        if k != STATE_KEY:
            obs[k] = torch.from_numpy(v).permute(0, 3, 1, 2).float() / 255
    obs['task'] = command
    return obs


def tokenizer_json(pre, out: Path) -> None:
    """Write the preprocessor's tokenizer as ``out/tokenizer.json``."""
    step = next(s for s in pre.steps if hasattr(s, 'input_tokenizer'))
    step.input_tokenizer.backend_tokenizer.save(str(out / 'tokenizer.json'))
