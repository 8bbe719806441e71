"""Episode videos: camera frames -> an animated GIF (docs, demo output)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import cv2
import numpy as np


def write_gif(path: str | Path, frames: Sequence[np.ndarray], fps: float = 10.0, *,
              height: int | None = None) -> Path:
    """Write an animated GIF of ``frames`` (H x W x 3 uint8), optionally resized to ``height``."""
    # optional heavy dependency: PIL (Pillow, not part of the runtime), for GIFs only
    from PIL import Image as PilImage
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    out = list(frames)
    if height and out and out[0].shape[0] != height:
        k = height / out[0].shape[0]
        size = (int(round(out[0].shape[1] * k)), height)
        out = [cv2.resize(f, size, interpolation=cv2.INTER_CUBIC) for f in out]
    if not out:
        raise ValueError('write_gif: no frames')
    images = [PilImage.fromarray(f) for f in out]
    images[0].save(path, save_all=True, append_images=images[1:],
                   duration=int(round(1000.0 / fps)), loop=0)
    return path
