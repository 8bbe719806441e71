"""Parameter-file helpers shared by the launch/config tests."""

from __future__ import annotations


def flatten(d: dict, prefix: str = '') -> dict:
    """Nested ``ros__parameters`` dict -> dotted names (``controller.kind``) -> values."""
    out = {}
    for k, v in d.items():
        if isinstance(v, dict):
            out.update(flatten(v, f'{prefix}{k}.'))
        else:
            out[f'{prefix}{k}'] = v
    return out
