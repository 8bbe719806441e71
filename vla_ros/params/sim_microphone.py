"""The parameters of ``sim_microphone`` (the simulated microphone for Gazebo)."""

from __future__ import annotations

from vla_ros import constants as C
from vla_ros.params.spec import as_mapping, ParamSpec, ParamType, spec

_TABLE = (
    spec('sample_rate', ParamType.INTEGER, C.DEFAULT_SAMPLE_RATE_HZ, 'audio sample rate [Hz]',
         range=(4000, 96000)),
    spec('audio_chunk_rate_hz', ParamType.DOUBLE, 50.0, 'AudioChunk messages per second [Hz]',
         range=(0.001, 1000.0)),
)
SIM_MICROPHONE_PARAMETERS: dict[str, ParamSpec] = as_mapping(_TABLE)
