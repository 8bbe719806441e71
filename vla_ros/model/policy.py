"""The reference VLA policy: encoders -> presence gating -> fusion -> normalized action chunk."""

from __future__ import annotations

import torch
from torch import nn

from vla_ros.model.config import Fusion, PolicyConfig, input_names
from vla_ros.model.encoders import AudioEncoder, ImageEncoder, TactileEncoder, VectorEncoder
from vla_ros.model.fusion import FUSIONS


class VlaPolicy(nn.Module):
    """forward(*inputs) in :func:`input_names` order:

    image_<cam> B x 3 x H x W, audio_mel B x n_mels x T, tactile B x N_taxels, proprio
    B x J(*2) (normalized), text_embedding B x D, presence B x M (``cfg.modality_keys`` order,
    1 = present). Returns actions B x H x A (normalized units) and, for ``moe``, gate weights
    B x E.

    A modality with presence 0 is replaced by its learned "missing" tokens (not zeros), so
    absence is distinguishable from a black image or silence.
    """

    def __init__(self, cfg: PolicyConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        encs: list[nn.Module] = [ImageEncoder(cfg) for _ in cfg.cameras]
        if cfg.use_audio:
            encs.append(AudioEncoder(cfg))
        if cfg.tactile_pads:
            encs.append(TactileEncoder(cfg))
        encs.append(VectorEncoder(cfg.text_dim, d))     # language
        encs.append(VectorEncoder(cfg.proprio_dim, d))  # joints (proprioception)
        self.encoders = nn.ModuleList(encs)
        m = len(cfg.modality_keys)
        self.type_emb = nn.Parameter(torch.randn(m, d) * 0.02)
        self.missing = nn.Parameter(torch.randn(m, d) * 0.02)
        self.fusion = FUSIONS[cfg.fusion](cfg)

    @property
    def input_names(self) -> list[str]:
        return input_names(self.cfg)

    @property
    def output_names(self) -> list[str]:
        return ['actions', 'gate_weights'] if self.cfg.fusion == Fusion.MOE.value \
            else ['actions']

    def _modality_inputs(self, inputs: tuple[torch.Tensor, ...]) -> list[torch.Tensor]:
        """Reorder graph inputs to encoder order (cams, audio, tactile, language, joints)."""
        names = self.input_names
        by = dict(zip(names, inputs))
        order = [n for n in names if n not in ('proprio', 'text_embedding', 'presence')]
        return [by[n] for n in order] + [by['text_embedding'], by['proprio']]

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        presence = inputs[-1]
        tokens = []
        for i, (enc, x) in enumerate(zip(self.encoders, self._modality_inputs(inputs))):
            t = enc(x)
            m = presence[:, i].reshape(-1, 1, 1)
            t = m * t + (1.0 - m) * self.missing[i]
            tokens.append(t + self.type_emb[i])
        actions, gate = self.fusion(tokens, presence)
        return (actions, gate) if gate is not None else actions
