"""The reference VLA policy: encoders -> presence gating -> fusion -> normalized action chunk."""

from __future__ import annotations

import torch
from torch import nn
from vla_ros.model.config import Fusion, ImageStem, input_names, ModelConfig, PREFIX_INPUTS
from vla_ros.model.conv_stem import ConvImageEncoder
from vla_ros.model.encoders import AudioEncoder, ImageEncoder, TactileEncoder, VectorEncoder
from vla_ros.model.fusion import FUSIONS
from vla_ros.model.keypoints import KeypointImageEncoder
from vla_ros.model.prefix import inpaint, PrefixEncoder

IMAGE_ENCODERS: dict[str, type[nn.Module]] = {
    ImageStem.VIT.value: ImageEncoder, ImageStem.CONV.value: ConvImageEncoder,
    ImageStem.KEYPOINTS.value: KeypointImageEncoder,
}


class VlaPolicyNet(nn.Module):
    """
    The reference VLA policy network: encoders -> presence gating -> fusion -> action chunk.

    forward(*inputs) in :func:`input_names` order:

    image_<cam> B x 3 x H x W, audio_mel B x n_mels x T, tactile B x N_taxels, proprio
    B x J(*2) (normalized), text_embedding B x D, presence B x M (``cfg.modality_keys`` order,
    1 = present); delay-aware models also action_prefix B x H x A (normalized) and prefix_mask
    B x H (before proprio). Returns actions B x H x A (normalized units; a delay-aware model's
    masked steps are the prefix itself) and, for ``moe``, gate weights B x E.

    A modality with presence 0 is replaced by its learned "missing" tokens (not zeros), so
    absence is distinguishable from a black image or silence. With the ``keypoints`` image
    stem the camera encoders are conditioned on the (presence-gated) language token (FiLM).
    """

    def __init__(self, cfg: ModelConfig) -> None:
        super().__init__()
        self.cfg = cfg
        d = cfg.d_model
        image_cls = IMAGE_ENCODERS[cfg.image_stem]
        self.film = cfg.image_stem == ImageStem.KEYPOINTS.value
        encs: list[nn.Module] = [image_cls(cfg) for _ in cfg.cameras]
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
        self.prefix = PrefixEncoder(cfg.horizon, cfg.action_dim, d, cfg.ff_mult) \
            if cfg.delay_aware else None

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
        order = [n for n in names
                 if n not in ('proprio', 'text_embedding', 'presence', *PREFIX_INPUTS)]
        return [by[n] for n in order] + [by['text_embedding'], by['proprio']]

    def _gated(self, i: int, t: torch.Tensor, presence: torch.Tensor) -> torch.Tensor:
        m = presence[:, i].reshape(-1, 1, 1)
        return m * t + (1.0 - m) * self.missing[i]

    def forward(self, *inputs: torch.Tensor) -> torch.Tensor | tuple[torch.Tensor, torch.Tensor]:
        presence = inputs[-1]
        xs = self._modality_inputs(inputs)
        lang_i = len(xs) - 2
        lang = self._gated(lang_i, self.encoders[lang_i](xs[lang_i]), presence)
        n_cams = len(self.cfg.cameras)
        tokens = []
        for i, (enc, x) in enumerate(zip(self.encoders, xs)):
            if i == lang_i:
                t = lang
            elif i < n_cams and self.film:
                t = self._gated(i, enc(x, lang[:, 0]), presence)
            else:
                t = self._gated(i, enc(x), presence)
            tokens.append(t + self.type_emb[i])
        if self.prefix is not None:  # the committed actions join the joints token
            by = dict(zip(self.input_names, inputs))
            prefix, mask = by[PREFIX_INPUTS[0]], by[PREFIX_INPUTS[1]]
            tokens[-1] = tokens[-1] + self.prefix(prefix, mask)
        actions, gate = self.fusion(tokens, presence)
        if self.prefix is not None:
            actions = inpaint(actions, prefix, mask)
        return (actions, gate) if gate is not None else actions
