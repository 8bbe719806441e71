"""
The synchronizer's parameters (``multimodal_sync``, and ``vla_policy`` which embeds it).

``SYNC_PARAMETERS`` is the one statement of each parameter: the nodes declare from it,
:class:`~vla_ros.core.sync.config.SyncConfig` takes its defaults and range checks from it, and
docs/sync.md's table is generated from it.
"""

from __future__ import annotations

from vla_ros import constants as C
from vla_ros.constants import Modality
from vla_ros.params.spec import as_mapping, ParamSpec, ParamType, spec

S, I, D, B = ParamType.STRING, ParamType.INTEGER, ParamType.DOUBLE, ParamType.BOOL
SA, IA = ParamType.STRING_ARRAY, ParamType.INTEGER_ARRAY

ALL_MODALITIES = tuple(m.value for m in Modality)
AUDIO_MSG_TYPES = ('vla_ros_msgs/msg/AudioChunk', 'audio_common_msgs/msg/AudioData')
TACTILE_MSG_TYPES = ('vla_ros_msgs/msg/TactileArray', 'std_msgs/msg/Float32MultiArray')
AUDIO_DATA_ENCODINGS = ('S16LE', 'S32LE', 'F32LE', 'U8')
FRAME_TRIGGERS = ('primary_camera', 'timer')
TACTILE_MODES = ('latest', 'max', 'mean')
STAMP_POLICIES = ('reject', 'arrival')
DEFAULT_MAX_AGE_S = {'image': 0.2, 'audio': 0.2, 'tactile': 0.1, 'joints': 0.1,
                     'language': 0.0}

# One row per parameter, each with its type stated (never inferred from the default).
_TABLE = (
    spec('cameras', SA, list(C.DEFAULT_CAMERAS), 'camera names, in order'),
    spec('camera_topics', SA, [], "image topic per camera ([] = 'camera/<name>/image_raw'; "
         'relative names resolve in the node namespace, absolute ones are kept)'),
    spec('required_cameras', SA, [C.DEFAULT_CAMERAS[0]],
         'cameras without which no frame is made'),
    spec('compressed_cameras', SA, [],
         'cameras whose topic carries sensor_msgs/CompressedImage'),
    spec('primary_camera', S, '', "camera whose images trigger frames ('' = first camera)"),
    spec('trigger', S, 'primary_camera', "frame trigger: 'primary_camera' or 'timer'",
         choices=FRAME_TRIGGERS),
    spec('timer_rate_hz', D, 10.0, 'frame rate with trigger=timer [Hz]', range=(0.1, 1000.0)),
    spec('image_slop_s', D, 0.02, 'max |image stamp - frame time| for a present image [s]',
         range=(0.0001, 10.0)),
    spec('max_wait_s', D, 0.05, 'how long a trigger waits for the other cameras [s]',
         range=(0.0, 5.0)),
    spec('audio_topic', S, C.AUDIO_TOPIC, 'audio topic (relative: in the node namespace)'),
    spec('audio_msg_type', S, AUDIO_MSG_TYPES[0], f'one of {list(AUDIO_MSG_TYPES)}',
         choices=AUDIO_MSG_TYPES),
    spec('audio_data_rate', I, C.DEFAULT_SAMPLE_RATE_HZ, 'AudioData adapter: sample rate [Hz]',
         range=(1, 1_000_000)),
    spec('audio_data_channels', I, 1, 'AudioData adapter: channels', range=(1, 64)),
    spec('audio_data_encoding', S, 'S16LE', 'AudioData adapter: S16LE, S32LE, F32LE or U8',
         choices=AUDIO_DATA_ENCODINGS),
    spec('audio_window_s', D, 1.0, 'audio window ending at the frame time [s]',
         range=(0.001, 60.0)),
    spec('audio_rate', I, C.DEFAULT_SAMPLE_RATE_HZ, 'model audio sample rate [Hz]',
         range=(1000, 384000)),
    spec('tactile_topic', S, C.TACTILE_TOPIC, 'tactile topic (relative: in the node namespace)'),
    spec('tactile_msg_type', S, TACTILE_MSG_TYPES[0], f'one of {list(TACTILE_MSG_TYPES)}',
         choices=TACTILE_MSG_TYPES),
    spec('tactile_pad_names', SA, [], 'tactile layout: pad names (Float32MultiArray adapter; '
         'with TactileArray, messages with another layout are rejected)'),
    spec('tactile_pad_rows', IA, [], 'tactile layout: rows per pad'),
    spec('tactile_pad_cols', IA, [], 'tactile layout: cols per pad'),
    spec('tactile_pad_channels', IA, [], 'tactile layout: channels per pad ([] = 1)'),
    spec('tactile_mode', S, 'latest', "tactile reduction: 'latest', 'max' or 'mean'",
         choices=TACTILE_MODES),
    spec('tactile_window_s', D, 0.05, 'tactile max/mean window [s]', range=(0.001, 10.0)),
    spec('joint_states_topic', S, C.JOINT_STATES_TOPIC,
         'joint state topic (relative: in the node namespace)'),
    spec('joint_names', SA, [*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT],
         'required joints, in frame order'),
    spec('command_topic', S, C.COMMAND_TOPIC,
         'language command topic (std_msgs/String, latched)'),
    *(spec(f'max_age_s.{k}', D, float(v), f'max age of {k} for presence [s] (0 = never stale)',
           range=(0.0, 3600.0)) for k, v in DEFAULT_MAX_AGE_S.items()),
    spec('required_modalities', SA, ['joints'], 'modality keys required besides '
         "required_cameras ('audio', 'tactile', 'joints', 'language', 'image/<cam>')"),
    spec('modalities', SA, list(ALL_MODALITIES), 'modalities in use', choices=ALL_MODALITIES),
    spec('stamp_policy', S, 'reject', "zero header stamps: 'reject' or 'arrival'",
         choices=STAMP_POLICIES),
    spec('buffer_s', D, 2.0, 'history kept per stream (audio, tactile, joints) [s]',
         range=(0.01, 600.0)),
    spec('image_buffer_s', D, 0.25, 'images kept per camera [s] (an image is used within '
         'image_slop_s of a frame; longer when a bundle history needs it)',
         range=(0.001, 600.0)),
    spec('clock_jump_s', D, 1.0, 'a stamp this far behind its stream is a clock jump when the '
         'node clock went back too (before any clock: 3 in a row); otherwise, and this far '
         'ahead of the clock, it is rejected [s]', range=(0.001, 3600.0)),
    spec('max_message_bytes', I, 64 * 1024 * 1024,
         'larger messages are rejected unconverted [B]', range=(1, 2 ** 31 - 1)),
)
SYNC_PARAMETERS: dict[str, ParamSpec] = as_mapping(_TABLE)
