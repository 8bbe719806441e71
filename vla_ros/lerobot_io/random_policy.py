"""
What the random-checkpoint builders share (LeRobot side, ``.venv-lerobot``).

SmolVLA and Diffusion Policy checkpoints for tests and benchmarks are made the same way: the
robot's features, a randomly initialised policy, random dataset stats, and LeRobot's own
``save_pretrained`` for the policy and its processor pipelines.
"""

from __future__ import annotations

from pathlib import Path

STATE_KEY = 'observation.state'


def policy_features(cameras: dict[str, tuple[int, int]], state_dim: int,
                    action_dim: int) -> tuple[dict, dict]:
    """Return LeRobot (input, output) features: state, one image per camera (H, W), action."""
    # optional heavy dependency: lerobot
    from lerobot.configs.types import FeatureType, PolicyFeature

    feats = {STATE_KEY: PolicyFeature(type=FeatureType.STATE, shape=(state_dim,))}
    for c, (h, w) in cameras.items():
        feats[f'observation.images.{c}'] = PolicyFeature(type=FeatureType.VISUAL,
                                                         shape=(3, h, w))
    return feats, {'action': PolicyFeature(type=FeatureType.ACTION, shape=(action_dim,))}


def save_with_processors(policy, cfg, stats: dict, out: Path, label: str) -> Path:
    """Save ``policy`` and its pre/postprocessors (built from ``stats``) into ``out``."""
    # optional heavy dependency: lerobot
    from lerobot.policies.factory import make_pre_post_processors

    pre, post = make_pre_post_processors(cfg, dataset_stats=stats)
    policy.save_pretrained(out)
    pre.save_pretrained(out)
    post.save_pretrained(out)
    n = sum(p.numel() for p in policy.parameters())
    print(f'[lerobot] saved a random {label} ({n} parameters) to {out}', flush=True)
    return out
