"""The VLA-scale reference graph: its size, and a small copy through export + PolicyRuntime."""

from __future__ import annotations

import pathlib

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]


def test_default_config_is_vla_scale():
    from vla_ros.model.vla_scale import count_params, VlaScalePolicy
    assert count_params(VlaScalePolicy()) >= 100_000_000


def test_small_copy_exports_quantizes_and_runs_through_the_runtime(tmp_path):
    from helpers.runtime_fixtures import full_frame
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime
    from vla_ros.model.vla_scale import export_vla_scale, VlaScaleConfig
    cfg = VlaScaleConfig(image_size=32, patch=16, vision_dim=64, vision_layers=1,
                         prefix_layers=1, heads=4, expert_dim=32, expert_layers=1,
                         expert_heads=4, horizon=5, denoise_steps=2)
    logs: list[str] = []
    b = export_vla_scale(tmp_path / 'b', ROOT / 'models' / 'default', cfg=cfg, int8=True,
                         log=logs.append)
    assert any('int8: max error' in s for s in logs)
    rt = PolicyRuntime.from_bundle(b)
    rt.set_command('pick up the red cube')
    out = rt.infer(full_frame(0))          # front camera only: wrist absent (presence 0)
    assert out.actions.shape == (5, 7) and np.isfinite(out.actions).all()
    assert rt.manifest.horizon == 5 and rt.manifest.cameras == ('front', 'wrist')
