"""The parameters of ``multimodal_sync`` besides the sync ones (:mod:`vla_ros.params.sync`)."""

from __future__ import annotations

from vla_ros.params.spec import as_mapping, ParamSpec, ParamType, spec

_TABLE = (
    spec('publish_images', ParamType.BOOL, True,
         'copy images into ~/frame (false: empty Image per camera)'),
    spec('diagnostics_period_s', ParamType.DOUBLE, 1.0, 'period of /diagnostics [s]',
         range=(0.01, 3600.0)),
)
MULTIMODAL_SYNC_PARAMETERS: dict[str, ParamSpec] = as_mapping(_TABLE)
