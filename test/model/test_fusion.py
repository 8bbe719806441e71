"""Each fusion design: builds, trains (loss drops), exports with ORT parity, honours masks."""

from __future__ import annotations

import dataclasses

from helpers.bundles import tiny_config
import numpy as np
import pytest
import torch
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.errors import ConfigError, ParityError
from vla_ros.model.config import ModelConfig
from vla_ros.model.export import check_parity, export_bundle, export_onnx
from vla_ros.model.policy import VlaPolicyNet
from vla_ros.model.text import ByteTextEncoder
from vla_ros.model.train_utils import example_inputs, modality_dropout, train_steps

pytestmark = pytest.mark.timeout(120)
FUSIONS = ('early', 'late', 'cross_attention', 'moe')


@pytest.mark.parametrize('fusion', FUSIONS)
def test_fusion_trains_exports_and_matches_ort(fusion, tmp_path):
    torch.manual_seed(0)
    cfg = dataclasses.replace(tiny_config(fusion=fusion), modality_dropout=0.0)
    model = VlaPolicyNet(cfg)
    losses = train_steps(model, steps=8, batch=4)
    assert losses[-1] < 0.8 * losses[0], losses
    report = export_bundle(model, ByteTextEncoder(cfg.text_dim), tmp_path / 'b',
                           model_id=f't-{fusion}')
    assert report.parity_max_abs <= 1e-4
    rt = PolicyRuntime.from_bundle(tmp_path / 'b')
    # ORT through the bundle == torch on the same prepared inputs
    xs = example_inputs(cfg, batch=3, seed=5, random_presence=True)
    got = rt.run_raw({n: x.numpy() for n, x in zip(model.input_names, xs)})
    with torch.no_grad():
        ref = model(*xs)
    ref = ref[0] if isinstance(ref, tuple) else ref
    assert np.max(np.abs(got['actions'] - ref.numpy())) <= 1e-4
    if fusion == 'moe':
        assert got['gate_weights'].shape == (3, cfg.n_experts)


@pytest.mark.parametrize('fusion', FUSIONS)
def test_presence_masks(fusion):
    torch.manual_seed(1)
    cfg = tiny_config(fusion=fusion)
    model = VlaPolicyNet(cfg).eval()
    xs = example_inputs(cfg, batch=2, seed=2)
    pres = xs[-1]
    with torch.no_grad():
        full = _actions(model(*xs))
        no_img = pres.clone()
        no_img[:, 0] = 0
        masked = _actions(model(*xs[:-1], no_img))
        assert not torch.allclose(full, masked)
        # absent != zeros: a zero image that is present differs from an absent one
        zero_img = (torch.zeros_like(xs[0]), *xs[1:])
        assert not torch.allclose(_actions(model(*zero_img)), masked)
        only = torch.zeros_like(pres)
        only[:, -1] = 1  # proprioception only; other inputs garbage-but-finite
        proprio_idx = model.input_names.index('proprio')
        big = tuple(x if i == proprio_idx else x * 1e3 for i, x in enumerate(xs[:-1]))
        out = _actions(model(*big, only))
        assert torch.all(torch.isfinite(out))
        # with everything masked but proprio, the other inputs do not matter
        assert torch.allclose(out, _actions(model(*xs[:-1], only)), atol=1e-5)


def test_modality_dropout_never_drops_proprio():
    keys = tiny_config().modality_keys
    pres = modality_dropout(torch.ones(200, len(keys)), 0.5, keys, torch.Generator())
    assert torch.all(pres[:, keys.index('joints')] == 1)
    assert 0.3 < float(pres[:, 0].mean()) < 0.7


def test_parity_error_when_graph_and_torch_differ(tmp_path):
    class Scaled(torch.nn.Module):
        k = 1.0

        def forward(self, x):
            return x * self.k

    m, x = Scaled(), torch.randn(2, 3)
    export_onnx(m, (x,), tmp_path / 's.onnx', input_names=['x'], output_names=['y'],
                dynamic={'x': {0: 'b'}})
    assert check_parity(m, (x,), tmp_path / 's.onnx', ['x'], atol=1e-6, what='s') < 1e-6
    m.k = 1.01  # the traced graph baked k = 1.0
    with pytest.raises(ParityError, match='max abs diff'):
        check_parity(m, (x,), tmp_path / 's.onnx', ['x'], atol=1e-6, what='s')


def test_int8_export_reports_error(tmp_path):
    torch.manual_seed(0)
    cfg = tiny_config(fusion='cross_attention')
    report = export_bundle(VlaPolicyNet(cfg), ByteTextEncoder(cfg.text_dim), tmp_path / 'q',
                           model_id='q', int8=True)
    assert report.int8_max_abs is not None and 0 < report.int8_rel_std < 0.5
    out = PolicyRuntime.from_bundle(tmp_path / 'q').run_raw(
        {n: x.numpy() for n, x in zip(VlaPolicyNet(cfg).input_names, example_inputs(cfg))})
    assert np.all(np.isfinite(out['actions']))


def test_config_validation_quotes_bad_values():
    with pytest.raises(ConfigError, match="'fusionx'"):
        ModelConfig(fusion='fusionx')
    with pytest.raises(ConfigError, match='patch'):
        ModelConfig(image_size=(100, 100), patch=32)
    with pytest.raises(ConfigError, match='384'):
        ModelConfig(text_encoder='minilm', text_dim=64)


def _actions(out):
    return out[0] if isinstance(out, tuple) else out
