"""
Which task kinds a bundle was trained on, so that evaluations ask it only for those (ROS-free).

``vla-ros train`` records the kinds of its demonstrations in the bundle's provenance
(``task_kinds``); a bundle without that record was trained before the task set grew, on
:data:`~vla_ros.sim.task_suite.CORE_KINDS`. Bundles from elsewhere (LeRobot exports) record
none either and are asked for the core kinds.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.model.dataset import TASK_KINDS_KEY
from vla_ros.sim.task_suite import CORE_KINDS, TaskKind


def trained_kinds(bundle: str | Path) -> list[str]:
    """Return the task kinds (values, :class:`TaskKind` order) the bundle at ``bundle`` knows."""
    return kinds_of(load_bundle(bundle, verify_hashes=False).manifest.provenance)


def kinds_of(provenance: Mapping[str, Any]) -> list[str]:
    """Return the task kinds a bundle with this ``provenance`` (bundle.yaml) was trained on."""
    recorded = provenance.get(TASK_KINDS_KEY)
    if not recorded:
        return [k.value for k in CORE_KINDS]
    known = {str(k) for k in recorded}
    return [k.value for k in TaskKind if k.value in known]
