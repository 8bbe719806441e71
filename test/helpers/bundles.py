"""Tiny random-weights policy bundles for tests and benchmarks (needs torch; seconds)."""

from __future__ import annotations

from pathlib import Path

from vla_ros.core.audio_features import MelConfig
from vla_ros.model.config import PolicyConfig


def tiny_config(*, fusion: str = 'cross_attention', horizon: int = 16, dt: float = 0.02,
                cameras: tuple[str, ...] = ('front',),
                image_size: tuple[int, int] = (64, 64)) -> PolicyConfig:
    """A ~100 k-parameter config with every modality (0.5 s audio, 2 x 4x4 taxels, 7 joints)."""
    return PolicyConfig(fusion=fusion, cameras=tuple(cameras), image_size=tuple(image_size),
                        patch=16, image_layers=1, mel=MelConfig(window_s=0.5, n_mels=32),
                        audio_stride=8, text_dim=32, d_model=32, n_heads=2, n_layers=1,
                        ff_mult=2, n_experts=3, horizon=horizon, dt=dt)


def make_random_bundle(out_dir: str | Path, *, fusion: str = 'cross_attention',
                       nan_output: bool = False, horizon: int = 16, dt: float = 0.02,
                       cameras: tuple[str, ...] = ('front',),
                       image_size: tuple[int, int] = (64, 64), seed: int = 0,
                       int8: bool = False) -> Path:
    """Build a tiny random-weights bundle (byte text encoder) in out_dir; returns out_dir.

    Actions: absolute joint positions of the 6 default arm joints [rad] + gripper [m].
    With ``nan_output`` the ONNX graph emits NaN actions (the runtime must refuse them).
    """
    import torch

    from vla_ros.model.export import NormStats, export_bundle
    from vla_ros.model.policy import VlaPolicy
    from vla_ros.model.text import ByteTextEncoder

    torch.manual_seed(seed)
    cfg = tiny_config(fusion=fusion, horizon=horizon, dt=dt, cameras=cameras,
                      image_size=image_size)
    policy, text = VlaPolicy(cfg), ByteTextEncoder(cfg.text_dim)
    a = cfg.action_dim
    stats = NormStats(action_mean=(0.0,) * (a - 1) + (0.02,),
                      action_std=(0.1,) * (a - 1) + (0.005,))
    model_id = f'random-{fusion}' + ('-nan' if nan_output else '')
    export_bundle(policy, text, out_dir, model_id=model_id, stats=stats, nan_output=nan_output,
                  int8=int8,
                  provenance={'source': 'vla_ros.tools.test_bundles.make_random_bundle',
                              'seed': seed})
    return Path(out_dir)
