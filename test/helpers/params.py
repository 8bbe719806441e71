"""Parameter-file helpers shared by the launch/config tests (the package's own reader)."""

from __future__ import annotations

from vla_ros.ros.params_file import flatten

__all__ = ['flatten']
