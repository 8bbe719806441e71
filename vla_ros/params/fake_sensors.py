"""The parameters of ``fake_sensors`` (synthetic drivers for tests and benchmarks)."""

from __future__ import annotations

from vla_ros import constants as C
from vla_ros.params.spec import as_mapping, ParamSpec, ParamType, spec

I, D = ParamType.INTEGER, ParamType.DOUBLE
SA, DA = ParamType.STRING_ARRAY, ParamType.DOUBLE_ARRAY
STREAMS = ('camera', 'audio', 'tactile', 'joints')

_TABLE = (
    spec('cameras', SA, list(C.DEFAULT_CAMERAS), 'camera names'),
    spec('image_width', I, 640, 'image width [px]', range=(1, 8192)),
    spec('image_height', I, 480, 'image height [px]', range=(1, 8192)),
    spec('camera_rate_hz', D, 30.0, 'image rate per camera [Hz]', range=(0.001, 10000.0)),
    spec('sample_rate', I, C.DEFAULT_SAMPLE_RATE_HZ, 'audio rate [Hz]', range=(1, 1_000_000)),
    spec('audio_chunk_rate_hz', D, 50.0, 'audio chunks per second [Hz]',
         range=(0.001, 10000.0)),
    spec('tactile_rate_hz', D, 100.0, 'tactile rate [Hz]', range=(0.001, 10000.0)),
    spec('joint_rate_hz', D, 100.0, 'joint-state rate [Hz]', range=(0.001, 10000.0)),
    spec('joint_names', SA, [*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT], 'joints'),
    spec('enabled_streams', SA, list(STREAMS), f'subset of {list(STREAMS)} (settable at run '
         'time to stop or restart a stream)', choices=STREAMS, read_only=False),
    spec('joint_center', DA, [0.0], 'sine centre per joint (one value = all joints) [rad, m]'),
    spec('joint_amplitude', DA, [0.3], 'sine amplitude per joint (one value = all) [rad, m]'),
)
FAKE_SENSORS_PARAMETERS: dict[str, ParamSpec] = as_mapping(_TABLE)
