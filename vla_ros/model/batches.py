"""
Training minibatches from demonstration samples (torch).

:func:`norm_stats` computes the normalization statistics that travel in the bundle;
:class:`Batcher` draws random minibatches as model inputs (random image shifts, modality and
word dropout, delay-aware action prefixes) with normalized targets.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn
from vla_ros.model.config import ModelConfig, TextEncoderKind
from vla_ros.model.dataset import Samples
from vla_ros.model.export import NormStats
from vla_ros.model.prefix import make_prefix, sample_delays
from vla_ros.model.text_table import drop_words, FrozenTextTable
from vla_ros.model.train_utils import modality_dropout
from vla_ros.model.wordbag import tokenize


def _std(x: np.ndarray, floor: float) -> np.ndarray:
    return np.maximum(x.std(0), floor)


def norm_stats(s: Samples) -> NormStats:
    a = s.actions.reshape(-1, s.actions.shape[-1])
    return NormStats(
        action_mean=tuple(a.mean(0).tolist()), action_std=tuple(_std(a, 1e-3).tolist()),
        position_mean=tuple(s.positions.mean(0).tolist()),
        position_std=tuple(_std(s.positions, 1e-3).tolist()),
        velocity_mean=tuple([0.0] * s.velocities.shape[1]),
        velocity_std=tuple(_std(s.velocities, 0.05).tolist()))


class Batcher:
    """Random minibatches as model inputs (input_names order) + normalized targets."""

    def __init__(self, s: Samples, cfg: ModelConfig, stats: NormStats, text: nn.Module,
                 *, shift_px: int, dropout: float, seed: int,
                 word_dropout: float = 0.0) -> None:
        self.s, self.cfg, self.text = s, cfg, text
        self.word_dropout = word_dropout
        self.shift = shift_px
        self.dropout = dropout
        self.rng = np.random.default_rng(seed)
        self.g = torch.Generator().manual_seed(seed)
        self.phrases = sorted(set(s.commands))
        index = {p: i for i, p in enumerate(self.phrases)}
        self.phrase_idx = np.array([index[c] for c in s.commands])
        self.ids, self.mask = tokenize(self.phrases, cfg.text_max_length)
        # a frozen encoder embeds each phrasing once (+ word-dropout variants), up front
        self.table = (None if cfg.text_encoder == TextEncoderKind.WORDBAG.value else
                      FrozenTextTable(text, self.ids, self.mask, word_dropout=word_dropout,
                                      seed=seed))
        f = lambda v: np.asarray(v, np.float32)  # noqa: E731
        self.a_mean, self.a_std = f(stats.action_mean), f(stats.action_std)
        self.p_mean, self.p_std = f(stats.position_mean), f(stats.position_std)
        self.v_std = f(stats.velocity_std)

    def rng_state(self) -> dict:
        """Every random generator's state (batches, shifts, dropout, text-table variants)."""
        return {'rng': self.rng.bit_generator.state, 'g': self.g.get_state(),
                'table': None if self.table is None else self.table.rng.bit_generator.state}

    def set_rng_state(self, st: dict) -> None:
        """Restore :meth:`rng_state`."""
        self.rng.bit_generator.state = st['rng']
        self.g.set_state(st['g'])
        if self.table is not None:
            self.table.rng.bit_generator.state = st['table']

    def __call__(self, batch: int, train: bool = True, *, delays: np.ndarray | None = None,
                 prefix_noise: float = 0.0
                 ) -> tuple[tuple[torch.Tensor, ...], torch.Tensor, torch.Tensor | None]:
        """
        Return (inputs, normalized targets B x H x A, prefix mask B x H or None).

        Delay-aware configs get a prefix of the targets' first d steps, d per example from
        :func:`sample_delays` unless ``delays`` are given.
        """
        s, cfg = self.s, self.cfg
        idx = self.rng.integers(0, len(s), batch)
        imgs = torch.from_numpy(s.images[idx].astype(np.float32))   # B x cams x 3 x h x w
        if train and self.shift:
            k = self.shift
            h, w = cfg.image_size
            pad = nn.functional.pad(imgs.flatten(1, 2), (k, k, k, k), mode='replicate')
            dy, dx = self.rng.integers(0, 2 * k + 1, 2)
            imgs = pad[:, :, dy:dy + h, dx:dx + w].reshape(imgs.shape)
        xs = [imgs[:, c] for c in range(len(cfg.cameras))]
        if cfg.use_audio:
            xs.append(torch.from_numpy(s.mel[idx].astype(np.float32)))
        if cfg.tactile_pads:
            xs.append(torch.from_numpy(s.tactile[idx]))
        y = (s.actions[idx] - self.a_mean) / self.a_std
        pmask = None
        if cfg.delay_aware:
            d = sample_delays(self.rng, batch, cfg.max_delay) if delays is None else delays
            prefix, pmask = make_prefix(y, d, self.rng, prefix_noise if train else 0.0)
            pmask = torch.from_numpy(pmask)
            xs += [torch.from_numpy(prefix), pmask]
        prop = [(s.positions[idx] - self.p_mean) / self.p_std]
        if cfg.use_velocities:
            prop.append(s.velocities[idx] / self.v_std)
        xs.append(torch.from_numpy(np.concatenate(prop, 1).astype(np.float32)))
        p = self.phrase_idx[idx]
        if self.table is not None:
            xs.append(self.table(p, train))
        else:
            mask = self.mask[p]
            if train and self.word_dropout > 0:
                mask = drop_words(mask, self.word_dropout, self.g)
            xs.append(self.text(self.ids[p], mask))
        pres = torch.from_numpy(s.presence[idx])
        if train:
            pres = modality_dropout(pres, self.dropout, cfg.modality_keys, self.g)
        xs.append(pres)
        return tuple(xs), torch.from_numpy(y.astype(np.float32)), pmask
