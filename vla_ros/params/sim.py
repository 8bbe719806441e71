"""
The parameters of ``mujoco_sim``: the node declares them, tools validate against them.

Tools that start or mimic the simulator (eval, demo, ``record --expert``) validate their
params file + overrides against this table (:mod:`vla_ros.params.files`).
"""

from __future__ import annotations

from vla_ros import constants as C
from vla_ros.params.spec import as_mapping, ParamSpec, ParamType, spec

I, D, B, SA = ParamType.INTEGER, ParamType.DOUBLE, ParamType.BOOL, ParamType.STRING_ARRAY
S = ParamType.STRING
RATE_RANGE_HZ = (0.001, 1000.0)  # a stream rate [Hz]: above 0, at most 1 kHz

_TABLE = (
    spec('seed', I, 0, 'seed of the next reset (settable at run time)',
         read_only=False),
    spec('real_time_factor', D, 1.0, 'sim seconds per wall second; 0 = as fast as possible '
         '(settable)', read_only=False),
    spec('cameras', SA, list(C.DEFAULT_CAMERAS), 'published cameras'),
    spec('image_width', I, 224, 'image width [px] (up to 640)'),
    spec('image_height', I, 224, 'image height [px] (up to 480)'),
    spec('camera_rate_hz', D, 30.0, 'image rate per camera, sim time [Hz]', range=RATE_RANGE_HZ),
    spec('audio_chunk_rate_hz', D, 50.0, 'audio chunks per sim second [Hz]',
         range=RATE_RANGE_HZ),
    spec('tactile_rate_hz', D, 100.0, 'tactile rate, sim time [Hz]', range=RATE_RANGE_HZ),
    spec('joint_rate_hz', D, 100.0, 'joint-state rate, sim time [Hz]', range=RATE_RANGE_HZ),
    spec('clock_rate_hz', D, 200.0, '/clock rate, sim time [Hz]', range=RATE_RANGE_HZ),
    spec('task_state_rate_hz', D, 10.0, 'sim/task_state rate, sim time [Hz]',
         range=RATE_RANGE_HZ),
    spec('speak_commands', B, False, 'speak vla/command texts into the microphone (espeak-ng)'),
    spec('cube_physics', S, 'fixed', 'fixed: 4 cm 50 g cubes; varied: hidden mass, friction, '
         'size and crush limit per cube and episode (the gentle task needs touch, docs/sim.md)',
         choices=('fixed', 'varied')),
)

SIM_PARAMETERS: dict[str, ParamSpec] = as_mapping(_TABLE)
# stream name of the node -> its rate parameter
RATE_PARAMETERS = {'camera': 'camera_rate_hz', 'audio': 'audio_chunk_rate_hz',
                   'tactile': 'tactile_rate_hz', 'joints': 'joint_rate_hz',
                   'clock': 'clock_rate_hz', 'task_state': 'task_state_rate_hz'}
