"""Image stems: keypoints (FiLM + spatial softmax), ViT and CoordConv all export with parity."""

from __future__ import annotations

import dataclasses

from helpers.bundles import tiny_config
import numpy as np
import pytest
import torch
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.errors import ConfigError
from vla_ros.model.export import export_bundle
from vla_ros.model.keypoints import KeypointImageEncoder, SpatialSoftmax
from vla_ros.model.policy import VlaPolicyNet
from vla_ros.model.text import ByteTextEncoder
from vla_ros.model.train_utils import example_inputs, train_steps

pytestmark = pytest.mark.timeout(120)


def test_spatial_softmax_finds_the_bright_pixel():
    ss = SpatialSoftmax(9, 9)
    ss.log_temp.data.fill_(np.log(0.01))         # sharp
    f = torch.zeros(1, 2, 9, 9)
    f[0, 0, 0, 8] = 10.0                          # top right: x = +1, y = -1
    f[0, 1, 4, 4] = 10.0                          # centre
    kp = ss(f)[0]
    assert torch.allclose(kp[0], torch.tensor([1.0, -1.0]), atol=1e-3)
    assert torch.allclose(kp[1], torch.tensor([0.0, 0.0]), atol=1e-3)


def test_keypoint_tokens_follow_the_object_and_the_language():
    torch.manual_seed(0)
    cfg = dataclasses.replace(tiny_config(), image_stem='keypoints', keypoints=4,
                              stem_channels=8)
    enc = KeypointImageEncoder(cfg).eval()
    img = torch.zeros(1, 3, 64, 64)
    img[0, 0, 10:16, 40:46] = 3.0                 # a red blob
    moved = torch.zeros_like(img)
    moved[0, 0, 40:46, 10:16] = 3.0
    cond = torch.zeros(1, cfg.d_model)
    with torch.no_grad():
        a, b = enc(img, cond), enc(moved, cond)
        assert a.shape == (1, cfg.keypoints + 1, cfg.d_model)
        assert not torch.allclose(a, b, atol=1e-4)    # the object position reaches the tokens
        # FiLM starts as identity; once trained, the language token changes the features
        enc.film.weight.data.normal_(0, 0.5)
        c2 = enc(img, torch.randn(1, cfg.d_model))
        assert not torch.allclose(enc(img, cond), c2, atol=1e-4)


@pytest.mark.parametrize('stem', ['keypoints', 'conv', 'vit'])
def test_stem_trains_and_exports_with_parity(stem, tmp_path):
    torch.manual_seed(0)
    cfg = dataclasses.replace(tiny_config(cameras=('front', 'wrist')), image_stem=stem,
                              patch=8, keypoints=4, stem_channels=8, modality_dropout=0.0)
    model = VlaPolicyNet(cfg)
    losses = train_steps(model, steps=8, batch=4)
    assert losses[-1] < losses[0], losses
    report = export_bundle(model, ByteTextEncoder(cfg.text_dim), tmp_path / 'b',
                           model_id=f't-{stem}')
    assert report.parity_max_abs <= 1e-4
    rt = PolicyRuntime.from_bundle(tmp_path / 'b')
    xs = example_inputs(cfg, batch=2, seed=3, random_presence=True)
    got = rt.run_raw({n: x.numpy() for n, x in zip(model.input_names, xs)})
    with torch.no_grad():
        assert np.max(np.abs(got['actions'] - model(*xs).numpy())) <= 1e-4


def test_unknown_stem_is_a_config_error():
    with pytest.raises(ConfigError, match="image_stem.*'hog'"):
        dataclasses.replace(tiny_config(), image_stem='hog')
