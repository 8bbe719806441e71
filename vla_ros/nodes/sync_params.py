"""
Declare the synchronizer's ROS parameters once, with descriptors, and read a SyncConfig.

Shared by ``multimodal_sync`` and ``vla_policy`` (through :mod:`vla_ros.ros.sensor_inputs`).
"""

from __future__ import annotations

from rclpy.node import Node
from vla_ros import constants as C
from vla_ros.core.convert import layout_from_params
from vla_ros.core.sync.config import (
    ALL_MODALITIES,
    AUDIO_MSG_TYPES,
    CameraConfig,
    DEFAULT_MAX_AGE_S,
    SyncConfig,
    TACTILE_MSG_TYPES,
)
from vla_ros.errors import ConfigError, VlaRosError
from vla_ros.ros.param_table import as_mapping, declare_table, ParamSpec, PType, read_table, spec

S, I, D, B = PType.STRING, PType.INTEGER, PType.DOUBLE, PType.BOOL
SA, IA = PType.STRING_ARRAY, PType.INTEGER_ARRAY

# One row per parameter, each with its type stated (see param_table: no type from a default).
_TABLE = (
    spec('cameras', SA, list(C.DEFAULT_CAMERAS), 'camera names, in order'),
    spec('camera_topics', SA, [], "image topic per camera ([] = 'camera/<name>/image_raw'; "
         'relative names resolve in the node namespace, absolute ones are kept)'),
    spec('required_cameras', SA, [C.DEFAULT_CAMERAS[0]],
         'cameras without which no frame is made'),
    spec('compressed_cameras', SA, [],
         'cameras whose topic carries sensor_msgs/CompressedImage'),
    spec('primary_camera', S, '', "camera whose images trigger frames ('' = first camera)"),
    spec('trigger', S, 'primary_camera', "frame trigger: 'primary_camera' or 'timer'"),
    spec('timer_rate_hz', D, 10.0, 'frame rate with trigger=timer [Hz]', range=(0.1, 1000.0)),
    spec('image_slop_s', D, 0.02, 'max |image stamp - frame time| for a present image [s]',
         range=(0.0001, 10.0)),
    spec('max_wait_s', D, 0.05, 'how long a trigger waits for the other cameras [s]',
         range=(0.0, 5.0)),
    spec('audio_topic', S, C.AUDIO_TOPIC, 'audio topic (relative: in the node namespace)'),
    spec('audio_msg_type', S, AUDIO_MSG_TYPES[0], f'one of {list(AUDIO_MSG_TYPES)}'),
    spec('audio_data_rate', I, C.DEFAULT_SAMPLE_RATE_HZ, 'AudioData adapter: sample rate [Hz]',
         range=(1, 1_000_000)),
    spec('audio_data_channels', I, 1, 'AudioData adapter: channels', range=(1, 64)),
    spec('audio_data_encoding', S, 'S16LE', 'AudioData adapter: S16LE, S32LE, F32LE or U8'),
    spec('audio_window_s', D, 1.0, 'audio window ending at the frame time [s]',
         range=(0.001, 60.0)),
    spec('audio_rate', I, C.DEFAULT_SAMPLE_RATE_HZ, 'model audio sample rate [Hz]',
         range=(1000, 384000)),
    spec('tactile_topic', S, C.TACTILE_TOPIC, 'tactile topic (relative: in the node namespace)'),
    spec('tactile_msg_type', S, TACTILE_MSG_TYPES[0], f'one of {list(TACTILE_MSG_TYPES)}'),
    spec('tactile_pad_names', SA, [], 'tactile layout: pad names (Float32MultiArray adapter; '
         'with TactileArray, messages with another layout are rejected)'),
    spec('tactile_pad_rows', IA, [], 'tactile layout: rows per pad'),
    spec('tactile_pad_cols', IA, [], 'tactile layout: cols per pad'),
    spec('tactile_pad_channels', IA, [], 'tactile layout: channels per pad ([] = 1)'),
    spec('tactile_mode', S, 'latest', "tactile reduction: 'latest', 'max' or 'mean'"),
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
    spec('modalities', SA, list(ALL_MODALITIES), 'modalities in use'),
    spec('stamp_policy', S, 'reject', "zero header stamps: 'reject' or 'arrival'"),
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


def declare_sync_parameters(node: Node, *, prefix: str = '') -> SyncConfig:
    """
    Declare every sync parameter on ``node`` and return the validated :class:`SyncConfig`.

    Names are prefixed by ``prefix``. Raises :class:`ConfigError` quoting bad values.
    """
    declare_table(node, _TABLE, prefix=prefix)
    return config_from_values(read_table(node, _TABLE, prefix=prefix))


def config_from_values(v: dict) -> SyncConfig:
    """Build a SyncConfig from parameter values keyed like :data:`SYNC_PARAMETERS`."""
    cams = list(v['cameras'])
    topics = list(v['camera_topics']) or [''] * len(cams)
    if len(topics) != len(cams):
        raise ConfigError(f'camera_topics {topics} must list one topic per camera {cams}')
    unknown = set(v['required_cameras']) - set(cams) | set(v['compressed_cameras']) - set(cams)
    if unknown:
        raise ConfigError(f'required/compressed cameras {sorted(unknown)} not in {cams}')
    try:
        layout = None
        if v['tactile_pad_names']:
            layout = layout_from_params(v['tactile_pad_names'], v['tactile_pad_rows'],
                                        v['tactile_pad_cols'], v['tactile_pad_channels'])
        cameras = tuple(CameraConfig(n, t, n in v['required_cameras'],
                                     n in v['compressed_cameras']) for n, t in zip(cams, topics))
        return SyncConfig(
            cameras=cameras, primary_camera=v['primary_camera'], trigger=v['trigger'],
            timer_rate_hz=v['timer_rate_hz'], image_slop_s=v['image_slop_s'],
            max_wait_s=v['max_wait_s'], audio_window_s=v['audio_window_s'],
            audio_rate=v['audio_rate'], tactile_mode=v['tactile_mode'],
            tactile_window_s=v['tactile_window_s'], joint_names=tuple(v['joint_names']),
            max_age_s={k.split('.', 1)[1]: v[k] for k in v if k.startswith('max_age_s.')},
            required=tuple(v['required_modalities']), modalities=tuple(v['modalities']),
            stamp_policy=v['stamp_policy'], buffer_s=v['buffer_s'],
            image_buffer_s=v['image_buffer_s'],
            clock_jump_s=v['clock_jump_s'], max_message_bytes=v['max_message_bytes'],
            audio_topic=v['audio_topic'], audio_msg_type=v['audio_msg_type'],
            audio_data_rate=v['audio_data_rate'], audio_data_channels=v['audio_data_channels'],
            audio_data_encoding=v['audio_data_encoding'], tactile_topic=v['tactile_topic'],
            tactile_msg_type=v['tactile_msg_type'], tactile_layout=layout,
            joint_states_topic=v['joint_states_topic'], command_topic=v['command_topic'])
    except ConfigError:
        raise
    except VlaRosError as e:
        raise ConfigError(str(e)) from e
