"""Parameter-file helpers shared by the launch/config tests (the package's own reader)."""

from __future__ import annotations

from vla_ros.params.files import flatten

__all__ = ['flatten']
