"""
Run-time modality masking for ablations (ROS-free).

A masked frame has the chosen modalities marked absent, exactly as if their sensors had stopped
(the policy sees presence 0, never zeros).
"""

from __future__ import annotations

from collections.abc import Iterable
import dataclasses

from vla_ros.constants import Modality
from vla_ros.core.frame import Frame
from vla_ros.errors import ConfigError

MASKABLE = ('image', 'audio', 'tactile', 'language')


def check_mask(keys: Iterable[str]) -> tuple[str, ...]:
    """
    Validate mask keys.

    Keys: ``image`` (every camera), ``image/<cam>``, ``audio``, ``tactile``, ``language``.

    Proprioception (``joints``) is required and cannot be masked.
    """
    out = tuple(str(k) for k in keys if str(k))
    bad = [k for k in out if k not in MASKABLE and not k.startswith('image/')]
    if bad:
        raise ConfigError(f'cannot mask {bad}; maskable: {list(MASKABLE)} or image/<camera>')
    return out


def mask_frame(frame: Frame, keys: Iterable[str]) -> Frame:
    """Return a shallow copy of ``frame`` with the ``keys`` modalities absent."""
    keys = check_mask(keys)
    if not keys:
        return frame
    present = dict(frame.present)
    images = dict(frame.images)
    changes: dict = {'present': present, 'images': images}
    for k in keys:
        if k == Modality.IMAGE.value:
            for cam in list(images):
                present[f'image/{cam}'] = False
            images.clear()
            for p in list(present):
                if p.startswith('image/'):
                    present[p] = False
        elif k.startswith('image/'):
            present[k] = False
            images.pop(k.split('/', 1)[1], None)
        elif k == Modality.AUDIO.value:
            present[k], changes['audio'] = False, None
        elif k == Modality.TACTILE.value:
            present[k], changes['tactile'] = False, None
        elif k == Modality.LANGUAGE.value:
            present[k], changes['command'] = False, ''
    return dataclasses.replace(frame, **changes)
