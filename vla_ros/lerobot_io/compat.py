"""
Make LeRobot 0.4.4 run beside torch 2.13 (CPU) in the LeRobot tooling venv.

Runs on the LeRobot side only (``.venv-lerobot``), before ``lerobot`` is imported. Two gaps:

- torchvision 0.28 on PyPI links against CUDA torch, so with the CPU wheel its C ops cannot
  load, and its import fails registering fake kernels for ``torchvision::nms`` / ``qnms``. We
  define those two schemas (no kernels): the Python parts (models, transforms) import; the
  detection ops stay unavailable (neither ACT nor Diffusion Policy uses them).
- torchvision 0.26 removed ``torchvision.io.VideoReader``, behind LeRobot's ``pyav`` decoding
  backend (torchcodec would need FFmpeg shared libraries). :func:`decode_video_frames_pyav`
  decodes with PyAV directly, with LeRobot's semantics (seek to the key frame before the first
  timestamp, nearest frame per query within ``tolerance_s``, float32 [N, 3, H, W] in [0, 1]).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

_DONE: list[bool] = []


def apply() -> None:
    """Install both fixes (idempotent). Call before importing lerobot."""
    if _DONE:
        return
    # optional heavy dependency: torch
    import torch

    lib = torch.library.Library('torchvision', 'DEF')
    for op in ('nms', 'qnms'):
        if not torch._C._dispatch_has_kernel(f'torchvision::{op}'):
            try:
                lib.define(f'{op}(Tensor dets, Tensor scores, float iou_threshold) -> Tensor')
            except RuntimeError:
                pass  # the real extension loaded: its schema exists
    _DONE.append(True)
    globals()['_LIB'] = lib  # keep the registration alive
    # optional heavy dependency: lerobot
    from lerobot.datasets import video_utils

    video_utils.decode_video_frames_torchvision = decode_video_frames_pyav


def decode_video_frames_pyav(video_path: Path | str, timestamps: list[float],
                             tolerance_s: float, backend: str = 'pyav',
                             log_loaded_timestamps: bool = False):
    """Frames nearest ``timestamps`` [s]: torch float32 [N, 3, H, W] in [0, 1]."""
    # optional heavy dependency: av
    import av
    # optional heavy dependency: torch
    import torch
    # optional heavy dependency: lerobot
    from lerobot.datasets.video_utils import FrameTimestampError

    first, last = min(timestamps), max(timestamps)
    frames, stamps = [], []
    with av.open(str(video_path)) as container:
        stream = container.streams.video[0]
        tb = float(stream.time_base)
        container.seek(int(first / tb), stream=stream, backward=True, any_frame=False)
        for frame in container.decode(stream):
            ts = float(frame.pts * tb)
            frames.append(frame.to_ndarray(format='rgb24'))
            stamps.append(ts)
            if ts >= last:
                break
    q = np.asarray(timestamps)[:, None]
    dist = np.abs(q - np.asarray(stamps)[None])
    idx = dist.argmin(1)
    worst = dist[np.arange(len(idx)), idx]
    if not (worst < tolerance_s).all():
        raise FrameTimestampError(
            f'query timestamps {q[worst >= tolerance_s, 0].tolist()} farther than '
            f'{tolerance_s} s from any frame of {video_path} (loaded {stamps[:3]}..)')
    out = np.stack([frames[i] for i in idx]).transpose(0, 3, 1, 2)
    return torch.from_numpy(np.ascontiguousarray(out)).float() / 255
