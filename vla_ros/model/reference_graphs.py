"""
Reference policy graphs with the I/O of real VLA exports, built here with random weights.

They stand for a foreign exporter (no ``vla_ros.model`` code): the tests and ``bench runtime``
take them through ``vla-ros bundle init`` -> the edits a person makes -> ``bundle check`` ->
``vla_policy``. An export-side tool (torch); the robot runtime never imports it.

- :func:`export_act`: ACT-shaped (LeRobot): a small CNN backbone per camera, a transformer
  encoder over [state token, image tokens], a decoder of ``chunk`` learned queries ->
  ``action`` [B, chunk, 7]. Inputs ``observation.state`` [B, 7],
  ``observation.images.<cam>`` [B, 3, H, W] (ImageNet-normalized).
- :func:`export_pi0`: pi0 / SmolVLA-shaped (openpi): ViT patch tokens of stacked cameras
  ``observation.images`` [B, N, 3, H, W] in [-1, 1] with ``image_mask`` [B, N] bool, a token-id
  prefix ``input_ids`` / ``attention_mask`` [B, L] int64, ``observation.state`` padded to 32,
  and an action expert that integrates a flow from ``noise`` [B, chunk, 32] over ``steps``
  unrolled Euler steps -> ``actions`` [B, chunk, 32] (the real 7 sliced off by the manifest).
  With ``rtc`` settings it also takes ``action_prefix`` [B, chunk, 32] + ``prefix_mask``
  [B, chunk] and guides every step towards the prefix as LeRobot's RTC does
  (:mod:`vla_ros.rtc_guidance`; an all-zero mask is the plain flow).
- :func:`export_diffusion`: Diffusion-Policy-shaped with ``n_obs_steps`` = 2: state and image
  with a history axis, a few unrolled denoising steps from ``noise`` -> ``action``.

- :func:`export_act_full`: LeRobot's ACT at its default size (ResNet-18, d_model 512, 4 + 1
  layers, chunk 100; ~34 M parameters, ~130 MiB): the same I/O as :func:`export_act`.

Attention is written out (matmul + softmax), so the export does not depend on the fast paths
of ``torch.nn.Transformer*``. Every graph exports in about a second and runs in milliseconds,
except :class:`ActFull` (``nn.MultiheadAttention`` as in LeRobot; ~2 s, ~20 ms per frame).
"""

from __future__ import annotations

import math
from pathlib import Path

from tokenizers import processors, Tokenizer
from tokenizers.models import WordLevel
from tokenizers.pre_tokenizers import Whitespace
import torch
from torch import nn
from vla_ros.rtc_guidance import guided_velocity, prefix_weights, RTCSettings

VOCAB = ['[PAD]', '[UNK]', '[BOS]', 'pick', 'up', 'the', 'red', 'blue', 'green', 'cube',
         'push', 'open', 'drawer', 'task', ':', ',', 'state', ';', 'action', 'and', 'lift',
         'it'] + [str(i) for i in range(256)]


class Block(nn.Module):
    """Pre-norm transformer block: self-attention (+ optional cross-attention) and an MLP."""

    def __init__(self, d: int, heads: int, cross: bool = False) -> None:
        super().__init__()
        self.heads = heads
        self.n1, self.n2, self.n3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)
        self.qkv, self.out = nn.Linear(d, 3 * d), nn.Linear(d, d)
        self.cross = cross
        if cross:
            self.q, self.kv, self.cout = nn.Linear(d, d), nn.Linear(d, 2 * d), nn.Linear(d, d)
        self.mlp = nn.Sequential(nn.Linear(d, 2 * d), nn.GELU(), nn.Linear(2 * d, d))

    def _attend(self, q, k, v, bias):
        b, n, d = q.shape
        h = self.heads

        def split(x):
            return x.reshape(b, -1, h, d // h).transpose(1, 2)

        w = split(q) @ split(k).transpose(-1, -2) / math.sqrt(d // h)
        if bias is not None:
            w = w + bias[:, None, None, :]
        return (w.softmax(-1) @ split(v)).transpose(1, 2).reshape(b, n, d)

    def forward(self, x, bias=None, memory=None, memory_bias=None):
        q, k, v = self.qkv(self.n1(x)).chunk(3, dim=-1)
        x = x + self.out(self._attend(q, k, v, bias))
        if self.cross:
            k, v = self.kv(memory).chunk(2, dim=-1)
            x = x + self.cout(self._attend(self.q(self.n2(x)), k, v, memory_bias))
        return x + self.mlp(self.n3(x))


def _key_bias(mask):
    """1/0 (or bool) key mask [B, N] -> additive attention bias (0 or -1e4)."""
    return (1.0 - mask.to(torch.float32)) * -1e4


class CnnBackbone(nn.Module):
    """3 strided convolutions: [B, 3, H, W] -> [B, (H/8) * (W/8), d] tokens."""

    def __init__(self, d: int) -> None:
        super().__init__()
        self.net = nn.Sequential(nn.Conv2d(3, 16, 5, 2, 2), nn.ReLU(), nn.Conv2d(16, 32, 3, 2, 1),
                                 nn.ReLU(), nn.Conv2d(32, d, 3, 2, 1))

    def forward(self, x):
        return self.net(x).flatten(2).transpose(1, 2)


class ActLike(nn.Module):
    """ACT: CNN tokens + state token -> encoder; chunk learned queries -> decoder -> actions."""

    def __init__(self, cameras: int, image: int, chunk: int, d: int = 32) -> None:
        super().__init__()
        self.backbone = CnnBackbone(d)
        n = cameras * (image // 8) ** 2 + 1
        self.pos = nn.Parameter(torch.randn(1, n, d) * 0.02)
        self.state = nn.Linear(7, d)
        self.encoder = nn.ModuleList([Block(d, 4), Block(d, 4)])
        self.queries = nn.Parameter(torch.randn(1, chunk, d) * 0.02)
        self.decoder = Block(d, 4, cross=True)
        self.head = nn.Linear(d, 7)

    def forward(self, state, *images):
        tokens = [self.state(state)[:, None]] + [self.backbone(im) for im in images]
        x = torch.cat(tokens, dim=1) + self.pos
        for blk in self.encoder:
            x = blk(x)
        q = self.queries.expand(state.shape[0], -1, -1)
        return self.head(self.decoder(q, memory=x))


class Pi0Like(nn.Module):
    """pi0: ViT patches + token prefix; an action expert integrates the flow from the noise."""

    def __init__(self, cameras: int, image: int, tokens: int, chunk: int, steps: int,
                 d: int = 48, width: int = 32, rtc: RTCSettings | None = None) -> None:
        super().__init__()
        self.cameras, self.steps, self.patch, self.rtc = cameras, steps, 16, rtc
        self.chunk = chunk
        self.patches = (image // self.patch) ** 2
        self.vit = nn.Conv2d(3, d, self.patch, self.patch)
        self.img_pos = nn.Parameter(torch.randn(1, cameras * self.patches, d) * 0.02)
        self.embed = nn.Embedding(len(VOCAB), d)
        self.tok_pos = nn.Parameter(torch.randn(1, tokens, d) * 0.02)
        self.prefix = nn.ModuleList([Block(d, 4), Block(d, 4)])
        self.state = nn.Linear(width, d)
        self.act_in, self.act_out = nn.Linear(width, d), nn.Linear(d, width)
        self.time = nn.Sequential(nn.Linear(d, d), nn.SiLU(), nn.Linear(d, d))
        self.expert = Block(d, 4, cross=True)
        self.d = d

    def _time(self, t: float, b: int):
        half = self.d // 2
        freqs = torch.exp(-math.log(1e4) * torch.arange(half) / half) * t
        emb = torch.cat([freqs.sin(), freqs.cos()])[None, None]
        return self.time(emb).expand(b, 1, -1)

    def forward(self, images, image_mask, input_ids, attention_mask, state, noise, *rtc_in):
        """``rtc_in``: ``(action_prefix, prefix_mask)`` with ``rtc`` settings, else empty."""
        b = images.shape[0]
        patches = self.vit(images.flatten(0, 1)).flatten(2).transpose(1, 2)
        img = patches.reshape(b, self.cameras * self.patches, self.d) + self.img_pos
        img_keys = image_mask.to(torch.float32).repeat_interleave(self.patches, dim=1)
        prefix = torch.cat([img, self.embed(input_ids) + self.tok_pos], dim=1)
        bias = _key_bias(torch.cat([img_keys, attention_mask.to(torch.float32)], dim=1))
        for blk in self.prefix:
            prefix = blk(prefix, bias)
        st = self.state(state)[:, None]
        x, dt = noise, -1.0 / self.steps
        if self.rtc is not None:
            target, mask = rtc_in
            k = torch.arange(self.chunk, dtype=mask.dtype)[None]
            w = prefix_weights(mask.sum(-1, keepdim=True), k, self.chunk, self.rtc)[..., None]
        for i in range(self.steps):  # flow matching, t = 1 (noise) -> 0, unrolled in the graph
            t = 1.0 + i * dt
            h = torch.cat([st, self.act_in(x) + self._time(t, b)], dim=1)
            v = self.act_out(self.expert(h, memory=prefix, memory_bias=bias)[:, 1:])
            if self.rtc is not None:
                v = guided_velocity(v, x, t, target, w, self.rtc)
            x = x + dt * v
        return x


class DiffusionLike(nn.Module):
    """Diffusion Policy: history-stacked observations condition unrolled denoising steps."""

    def __init__(self, obs: int, image: int, chunk: int, steps: int, d: int = 32) -> None:
        super().__init__()
        self.backbone = CnnBackbone(d)
        self.cond = nn.Linear(obs * (d + 7), 64)
        self.denoise = nn.Sequential(nn.Linear(chunk * 7 + 64 + 1, 128), nn.Mish(),
                                     nn.Linear(128, chunk * 7))
        self.steps, self.chunk = steps, chunk

    def forward(self, state, image, noise):
        b, k = image.shape[:2]
        feat = self.backbone(image.flatten(0, 1)).mean(1).reshape(b, k, -1)
        cond = self.cond(torch.cat([feat, state], dim=-1).flatten(1))
        x = noise.flatten(1)
        for i in range(self.steps):  # DDIM-like updates, unrolled
            t = torch.full((b, 1), 1.0 - i / self.steps)
            x = x - 0.3 * self.denoise(torch.cat([x, cond, t], dim=1))
        return x.reshape(b, self.chunk, 7)


def export_module(model: nn.Module, inputs: dict, outputs: list[str], path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    names = list(inputs)
    with torch.no_grad():
        torch.onnx.export(model.eval(), tuple(inputs.values()), str(path), input_names=names,
                          output_names=outputs, opset_version=17, dynamo=False,
                          dynamic_axes={n: {0: 'batch'} for n in names + outputs})
    return path


def export_act(path: Path, *, cameras: tuple[str, ...] = ('front',), image: int = 64,
               chunk: int = 50, seed: int = 0) -> Path:
    """Export the ACT-shaped graph to ``path`` (batch-2 example, dynamic batch)."""
    torch.manual_seed(seed)
    inputs = {'observation.state': torch.randn(2, 7)}
    inputs.update({f'observation.images.{c}': torch.randn(2, 3, image, image) for c in cameras})
    return export_module(ActLike(len(cameras), image, chunk), inputs, ['action'], path)


def export_pi0(path: Path, *, cameras: int = 2, image: int = 64, tokens: int = 24,
               chunk: int = 50, steps: int = 5, seed: int = 0,
               rtc: RTCSettings | None = None) -> Path:
    """Export the pi0-shaped graph to ``path`` (``rtc``: with RTC guidance, same weights)."""
    torch.manual_seed(seed)
    inputs = {'observation.images': torch.rand(2, cameras, 3, image, image) * 2 - 1,
              'image_mask': torch.ones(2, cameras, dtype=torch.bool),
              'input_ids': torch.randint(0, len(VOCAB), (2, tokens)),
              'attention_mask': torch.ones(2, tokens, dtype=torch.int64),
              'observation.state': torch.randn(2, 32), 'noise': torch.randn(2, chunk, 32)}
    model = Pi0Like(cameras, image, tokens, chunk, steps, rtc=rtc)  # the same weights
    if rtc is not None:
        inputs.update({'action_prefix': torch.randn(2, chunk, 32),
                       'prefix_mask': (torch.arange(chunk) < 3).float().expand(2, -1)})
    return export_module(model, inputs, ['actions'], path)


def export_diffusion(path: Path, *, obs: int = 2, image: int = 64, chunk: int = 16,
                     steps: int = 3, seed: int = 0) -> Path:
    """Export the Diffusion-Policy-shaped graph (``n_obs_steps`` = ``obs``) to ``path``."""
    torch.manual_seed(seed)
    inputs = {'observation.state': torch.randn(2, obs, 7),
              'observation.images.front': torch.randn(2, obs, 3, image, image),
              'noise': torch.randn(2, chunk, 7)}
    return export_module(DiffusionLike(obs, image, chunk, steps), inputs, ['action'], path)


def write_tokenizer(path: Path) -> Path:
    """Write a word-level HuggingFace ``tokenizer.json`` over :data:`VOCAB` (BOS prepended)."""
    tok = Tokenizer(WordLevel({w: i for i, w in enumerate(VOCAB)}, unk_token='[UNK]'))
    tok.pre_tokenizer = Whitespace()
    tok.post_processor = processors.TemplateProcessing(single='[BOS] $A',
                                                       special_tokens=[('[BOS]', 2)])
    tok.save(str(path))
    return path
