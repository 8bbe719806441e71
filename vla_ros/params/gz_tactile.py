"""The parameters of ``gz_tactile`` (Gazebo contacts -> TactileArray)."""

from __future__ import annotations

from vla_ros.params.spec import as_mapping, ParamSpec, ParamType, spec

_TABLE = (
    spec('tactile_rate_hz', ParamType.DOUBLE, 100.0, 'TactileArray rate [Hz]',
         range=(0.001, 1000.0)),
    spec('hold_s', ParamType.DOUBLE, 0.05, 'a pad without a contact report for this long '
         'reads 0 [s]', range=(0.0, 60.0)),
)
GZ_TACTILE_PARAMETERS: dict[str, ParamSpec] = as_mapping(_TABLE)
