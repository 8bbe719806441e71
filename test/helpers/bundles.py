"""
Tiny random-weights policy bundles for tests (needs torch; seconds each).

The one place tests get a bundle from. ``bench/`` calls the package functions wrapped here
(``vla_ros.model.export.export_random_bundle`` of a ``tiny_model_config``).
"""

from __future__ import annotations

import dataclasses
from pathlib import Path

from vla_ros.model.config import tiny_model_config

tiny_config = tiny_model_config  # tests' name for it


def make_random_bundle(out_dir: str | Path, *, fusion: str = 'cross_attention',
                       nan_output: bool = False, horizon: int = 16, dt: float = 0.02,
                       cameras: tuple[str, ...] = ('front',),
                       image_size: tuple[int, int] = (64, 64), seed: int = 0,
                       int8: bool = False, max_delay: int = 0) -> Path:
    """
    Make a tiny random-weights bundle (byte text encoder) in ``out_dir``; return ``out_dir``.

    Actions: absolute joint positions of the 6 default arm joints [rad] + gripper [m].
    With ``nan_output`` the ONNX graph emits NaN actions (the runtime must refuse them).
    ``max_delay`` > 0: delay-aware (``action_prefix`` + ``prefix_mask`` inputs).
    """
    from vla_ros.model.export import export_random_bundle

    cfg = tiny_model_config(fusion=fusion, horizon=horizon, dt=dt, cameras=cameras,
                            image_size=image_size)
    if max_delay:
        cfg = dataclasses.replace(cfg, delay_aware=True, max_delay=max_delay)
    return export_random_bundle(out_dir, cfg, seed=seed, nan_output=nan_output, int8=int8)
