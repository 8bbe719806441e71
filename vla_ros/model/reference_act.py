"""
LeRobot's ACT at its default size (~34 M parameters) as a reference graph: no LeRobot needed.

The modules mirror lerobot.policies.act.modeling_act and torchvision's ResNet-18 with the same
parameter names; :func:`export_act_full` writes the ONNX graph the ACT-shaped bundles of
:mod:`vla_ros.model.reference_bundles` and the fleet benchmarks use. Export-side (torch).
"""

from __future__ import annotations

import math
from pathlib import Path

import torch
from torch import nn
from vla_ros.model.reference_graphs import export_module


# -- ACT at LeRobot's default size ---------------------------------------------------------
# The modules below mirror lerobot.policies.act.modeling_act (ACT, ACTEncoderLayer,
# ACTDecoderLayer, ACTSinusoidalPositionEmbedding2d) and torchvision's ResNet-18, with the same
# parameter names (``load_state_dict`` of a checkpoint's ``model.*`` keys minus the VAE would
# fit), sequence-first like LeRobot. BatchNorm stands in for FrozenBatchNorm2d: both fold into
# the convolutions in an eval export.


class BasicBlock(nn.Module):
    """ResNet basic block: two 3x3 convolutions with BatchNorm and a (projected) shortcut."""

    def __init__(self, cin: int, cout: int, stride: int = 1) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(cin, cout, 3, stride, 1, bias=False)
        self.bn1 = nn.BatchNorm2d(cout)
        self.relu = nn.ReLU(inplace=True)
        self.conv2 = nn.Conv2d(cout, cout, 3, 1, 1, bias=False)
        self.bn2 = nn.BatchNorm2d(cout)
        self.downsample = None
        if stride != 1 or cin != cout:
            self.downsample = nn.Sequential(nn.Conv2d(cin, cout, 1, stride, bias=False),
                                            nn.BatchNorm2d(cout))

    def forward(self, x):
        skip = x if self.downsample is None else self.downsample(x)
        y = self.relu(self.bn1(self.conv1(x)))
        return self.relu(self.bn2(self.conv2(y)) + skip)


class ResNet18(nn.Module):
    """ResNet-18 trunk up to layer4: [B, 3, H, W] -> [B, 512, H/32, W/32]."""

    def __init__(self) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(3, 64, 7, 2, 3, bias=False)
        self.bn1 = nn.BatchNorm2d(64)
        self.relu = nn.ReLU(inplace=True)
        self.maxpool = nn.MaxPool2d(3, 2, 1)
        chans = [64, 64, 128, 256, 512]
        for i in range(1, 5):
            stride = 1 if i == 1 else 2
            setattr(self, f'layer{i}', nn.Sequential(BasicBlock(chans[i - 1], chans[i], stride),
                                                     BasicBlock(chans[i], chans[i])))
        for mod in self.modules():  # torchvision's init
            if isinstance(mod, nn.Conv2d):
                nn.init.kaiming_normal_(mod.weight, mode='fan_out', nonlinearity='relu')

    def forward(self, x):
        x = self.maxpool(self.relu(self.bn1(self.conv1(x))))
        return self.layer4(self.layer3(self.layer2(self.layer1(x))))


def _sine_pos_2d(feat, dim: int):
    """DETR-style 2-D sine embedding of a [B, C, H, W] map -> [1, 2 * dim, H, W]."""
    ones = torch.ones_like(feat[0, :1])
    y = ones.cumsum(1, dtype=torch.float32)
    x = ones.cumsum(2, dtype=torch.float32)
    y = y / (y[:, -1:, :] + 1e-6) * 2 * math.pi
    x = x / (x[:, :, -1:] + 1e-6) * 2 * math.pi
    inv = 10000 ** (2 * (torch.arange(dim, dtype=torch.float32) // 2) / dim)
    x, y = x.unsqueeze(-1) / inv, y.unsqueeze(-1) / inv
    px = torch.stack((x[..., 0::2].sin(), x[..., 1::2].cos()), dim=-1).flatten(3)
    py = torch.stack((y[..., 0::2].sin(), y[..., 1::2].cos()), dim=-1).flatten(3)
    return torch.cat((py, px), dim=3).permute(0, 3, 1, 2)


class ActEncoderLayer(nn.Module):
    """Post-norm encoder layer; the positional embedding is added to queries and keys."""

    def __init__(self, d: int, heads: int, ff: int) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, heads)
        self.linear1, self.linear2 = nn.Linear(d, ff), nn.Linear(ff, d)
        self.norm1, self.norm2 = nn.LayerNorm(d), nn.LayerNorm(d)

    def forward(self, x, pos):
        q = x + pos
        x = self.norm1(x + self.self_attn(q, q, value=x, need_weights=False)[0])
        return self.norm2(x + self.linear2(torch.relu(self.linear1(x))))


class ActDecoderLayer(nn.Module):
    """Post-norm decoder layer: self-attention, cross-attention to the encoder, feedforward."""

    def __init__(self, d: int, heads: int, ff: int) -> None:
        super().__init__()
        self.self_attn = nn.MultiheadAttention(d, heads)
        self.multihead_attn = nn.MultiheadAttention(d, heads)
        self.linear1, self.linear2 = nn.Linear(d, ff), nn.Linear(ff, d)
        self.norm1, self.norm2, self.norm3 = nn.LayerNorm(d), nn.LayerNorm(d), nn.LayerNorm(d)

    def forward(self, x, memory, pos, memory_pos):
        q = x + pos
        x = self.norm1(x + self.self_attn(q, q, value=x, need_weights=False)[0])
        x = self.norm2(x + self.multihead_attn(x + pos, memory + memory_pos, value=memory,
                                               need_weights=False)[0])
        return self.norm3(x + self.linear2(torch.relu(self.linear1(x))))


class _Layers(nn.Module):
    """``layers`` + final ``norm``, named like LeRobot's ACTEncoder / ACTDecoder."""

    def __init__(self, layers: list[nn.Module], norm: nn.Module) -> None:
        super().__init__()
        self.layers, self.norm = nn.ModuleList(layers), norm

    def forward(self, x, *args):
        for layer in self.layers:
            x = layer(x, *args)
        return self.norm(x)


class ActFull(nn.Module):
    """
    LeRobot ACT at its default size, inference path (VAE off: a zero latent token).

    ResNet-18 layer4 maps -> 1x1 conv -> tokens with 2-D sine positions, after a latent and a
    state token with learned positions; 4 post-norm encoder layers; 1 decoder layer over
    ``chunk`` zero queries with learned positions -> ``action`` [B, chunk, 7].
    """

    def __init__(self, cameras: int, chunk: int = 100, d: int = 512, heads: int = 8,
                 ff: int = 3200, enc_layers: int = 4, dec_layers: int = 1,
                 latent: int = 32, state_dim: int = 7, action_dim: int = 7) -> None:
        super().__init__()
        self.cameras, self.chunk, self.d, self.latent = cameras, chunk, d, latent
        self.backbone = ResNet18()  # shared by the cameras, as in LeRobot
        self.encoder = _Layers([ActEncoderLayer(d, heads, ff) for _ in range(enc_layers)],
                               nn.Identity())  # post-norm: no final encoder norm
        self.decoder = _Layers([ActDecoderLayer(d, heads, ff) for _ in range(dec_layers)],
                               nn.LayerNorm(d))
        self.encoder_robot_state_input_proj = nn.Linear(state_dim, d)
        self.encoder_latent_input_proj = nn.Linear(latent, d)
        self.encoder_img_feat_input_proj = nn.Conv2d(512, d, 1)
        self.encoder_1d_feature_pos_embed = nn.Embedding(2, d)
        self.decoder_pos_embed = nn.Embedding(chunk, d)
        self.action_head = nn.Linear(d, action_dim)

    def forward(self, state, *images):
        b = state.shape[0]
        tokens = [self.encoder_latent_input_proj(state.new_zeros(b, self.latent))[None],
                  self.encoder_robot_state_input_proj(state)[None]]
        pos = [self.encoder_1d_feature_pos_embed.weight[:, None]]
        for im in images:
            feat = self.backbone(im)
            pos.append(_sine_pos_2d(feat, self.d // 2).flatten(2).permute(2, 0, 1))
            tokens.append(self.encoder_img_feat_input_proj(feat).flatten(2).permute(2, 0, 1))
        x, pos = torch.cat(tokens), torch.cat(pos)  # [N, B, d], [N, 1, d]
        memory = self.encoder(x, pos)
        queries = state.new_zeros(self.chunk, b, self.d)
        out = self.decoder(queries, memory, self.decoder_pos_embed.weight[:, None], pos)
        return self.action_head(out.transpose(0, 1))


def export_act_full(path: Path, *, cameras: tuple[str, ...] = ('front', 'wrist'),
                    image: int = 96, chunk: int = 100, seed: int = 0) -> Path:
    """Export :class:`ActFull` (LeRobot ACT default size, ~34 M parameters) to ``path``."""
    torch.manual_seed(seed)
    inputs = {'observation.state': torch.randn(2, 7)}
    inputs.update({f'observation.images.{c}': torch.randn(2, 3, image, image) for c in cameras})
    return export_module(ActFull(len(cameras), chunk), inputs, ['action'], path)
