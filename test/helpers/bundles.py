"""
Tiny random-weights policy bundles for tests (needs torch; seconds each).

The one place tests get a bundle from. ``bench/`` calls the package functions wrapped here
(``vla_ros.model.export.export_random_bundle`` of a ``tiny_model_config``).

A bundle is exported once per process for each set of arguments (the export is seeded, so the
files are the same) and copied to each caller's directory: the suite asks for ~45 bundles of
a dozen kinds, ~2 s of CPU per export. Each caller owns its copy (a test may tamper with it).
"""

from __future__ import annotations

import atexit
import dataclasses
from pathlib import Path
import shutil
import tempfile

from vla_ros.model.config import tiny_model_config

tiny_config = tiny_model_config  # tests' name for it
# make_random_bundle's arguments -> the exported bundle and torch's RNG state after the export
# (restored on a hit: the export seeds torch's global generator, as a test may rely on)
_CACHE: dict[tuple, tuple[Path, object]] = {}
_cache_root: Path | None = None


def _cache_dir() -> Path:
    global _cache_root
    if _cache_root is None:
        _cache_root = Path(tempfile.mkdtemp(prefix='vla_ros_test_bundles_'))
        atexit.register(shutil.rmtree, _cache_root, True)
    return _cache_root / str(len(_CACHE))


def make_random_bundle(out_dir: str | Path, *, fusion: str = 'cross_attention',
                       nan_output: bool = False, horizon: int = 16, dt: float = 0.02,
                       cameras: tuple[str, ...] = ('front',),
                       image_size: tuple[int, int] = (64, 64), seed: int = 0,
                       int8: bool = False, max_delay: int = 0,
                       extra_actions: tuple[str, ...] = ()) -> Path:
    """
    Make a tiny random-weights bundle (byte text encoder) in ``out_dir``; return ``out_dir``.

    Actions: absolute joint positions of the 6 default arm joints [rad] + gripper [m].
    With ``nan_output`` the ONNX graph emits NaN actions (the runtime must refuse them).
    ``max_delay`` > 0: delay-aware (``action_prefix`` + ``prefix_mask`` inputs).
    ``extra_actions``: actions after the joints (``gripper_max_effort`` [N]).
    """
    import torch  # optional heavy dependency: torch (as vla_ros.model.export)
    from vla_ros.model.export import export_random_bundle

    key = (fusion, nan_output, horizon, dt, tuple(cameras), tuple(image_size), seed, int8,
           max_delay, tuple(extra_actions))
    if key not in _CACHE:
        cfg = tiny_model_config(fusion=fusion, horizon=horizon, dt=dt, cameras=cameras,
                                image_size=image_size)
        if max_delay:
            cfg = dataclasses.replace(cfg, delay_aware=True, max_delay=max_delay)
        if extra_actions:
            cfg = dataclasses.replace(cfg, extra_actions=tuple(extra_actions))
        cached = _cache_dir()
        export_random_bundle(cached, cfg, seed=seed, nan_output=nan_output, int8=int8)
        _CACHE[key] = cached, torch.get_rng_state()
    cached, rng = _CACHE[key]
    torch.set_rng_state(rng)
    out = Path(out_dir)
    shutil.copytree(cached, out, dirs_exist_ok=True)
    return out
