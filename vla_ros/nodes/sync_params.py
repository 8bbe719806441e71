"""Declare the synchronizer's ROS parameters once, with descriptors, and read a SyncConfig.

Shared by ``multimodal_sync`` and ``vla_policy`` (through :mod:`vla_ros.nodes.sensor_inputs`).
"""

from __future__ import annotations

from rcl_interfaces.msg import (FloatingPointRange, IntegerRange, ParameterDescriptor,
                                ParameterType)
from rclpy.node import Node

from vla_ros import constants as C
from vla_ros.core.convert import layout_from_params
from vla_ros.core.sync_config import (ALL_MODALITIES, AUDIO_MSG_TYPES, DEFAULT_MAX_AGE_S,
                                      TACTILE_MSG_TYPES, CameraConfig, SyncConfig)
from vla_ros.errors import ConfigError, VlaRosError

_ARRAY_TYPES = {str: ParameterType.PARAMETER_STRING_ARRAY,
                int: ParameterType.PARAMETER_INTEGER_ARRAY,
                float: ParameterType.PARAMETER_DOUBLE_ARRAY}

# name -> (default, description, (min, max) or None). Lists: element type = elem_type below.
SYNC_PARAMETERS: dict[str, tuple[object, str, tuple | None]] = {
    'cameras': (list(C.DEFAULT_CAMERAS), 'camera names, in order', None),
    'camera_topics': ([], "image topic per camera ([] = '/camera/<name>/image_raw')", None),
    'required_cameras': ([C.DEFAULT_CAMERAS[0]], 'cameras without which no frame is made',
                         None),
    'compressed_cameras': ([], 'cameras whose topic carries sensor_msgs/CompressedImage',
                           None),
    'primary_camera': ('', "camera whose images trigger frames ('' = first camera)", None),
    'trigger': ('primary_camera', "frame trigger: 'primary_camera' or 'timer'", None),
    'timer_rate_hz': (10.0, 'frame rate with trigger=timer [Hz]', (0.1, 1000.0)),
    'image_slop_s': (0.02, 'max |image stamp - frame time| for a present image [s]',
                     (0.0001, 10.0)),
    'max_wait_s': (0.05, 'how long a trigger waits for the other cameras [s]', (0.0, 5.0)),
    'audio_topic': (C.AUDIO_TOPIC, 'audio topic', None),
    'audio_msg_type': (AUDIO_MSG_TYPES[0], f'one of {list(AUDIO_MSG_TYPES)}', None),
    'audio_data_rate': (C.DEFAULT_SAMPLE_RATE_HZ, 'AudioData adapter: sample rate [Hz]',
                        (1, 1_000_000)),
    'audio_data_channels': (1, 'AudioData adapter: channels', (1, 64)),
    'audio_data_encoding': ('S16LE', 'AudioData adapter: S16LE, S32LE, F32LE or U8', None),
    'audio_window_s': (1.0, 'audio window ending at the frame time [s]', (0.001, 60.0)),
    'audio_rate': (C.DEFAULT_SAMPLE_RATE_HZ, 'model audio sample rate [Hz]', (1000, 384000)),
    'tactile_topic': (C.TACTILE_TOPIC, 'tactile topic', None),
    'tactile_msg_type': (TACTILE_MSG_TYPES[0], f'one of {list(TACTILE_MSG_TYPES)}', None),
    'tactile_pad_names': ([], 'Float32MultiArray adapter: pad names', None),
    'tactile_pad_rows': ([], 'Float32MultiArray adapter: rows per pad', None),
    'tactile_pad_cols': ([], 'Float32MultiArray adapter: cols per pad', None),
    'tactile_pad_channels': ([], 'Float32MultiArray adapter: channels per pad ([] = 1)', None),
    'tactile_mode': ('latest', "tactile reduction: 'latest', 'max' or 'mean'", None),
    'tactile_window_s': (0.05, 'tactile max/mean window [s]', (0.001, 10.0)),
    'joint_states_topic': (C.JOINT_STATES_TOPIC, 'joint state topic', None),
    'joint_names': ([*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT],
                    'required joints, in frame order', None),
    'command_topic': (C.COMMAND_TOPIC, 'language command topic (std_msgs/String, latched)',
                      None),
    **{f'max_age_s.{k}': (v, f'max age of {k} for presence [s] (0 = never stale)',
                          (0.0, 3600.0)) for k, v in DEFAULT_MAX_AGE_S.items()},
    'required_modalities': (['joints'], "modality keys required besides required_cameras "
                            "('audio', 'tactile', 'joints', 'language', 'image/<cam>')", None),
    'modalities': (list(ALL_MODALITIES), 'modalities in use', None),
    'stamp_policy': ('reject', "zero header stamps: 'reject' or 'arrival'", None),
    'buffer_s': (2.0, 'history kept per stream [s]', (0.01, 600.0)),
    'clock_jump_s': (1.0, 'a stream going back by more than this clears the buffers [s]',
                     (0.001, 3600.0)),
    'max_message_bytes': (64 * 1024 * 1024, 'larger messages are rejected unconverted [B]',
                          (1, 2 ** 31 - 1)),
}
_LIST_ELEM = {'tactile_pad_rows': int, 'tactile_pad_cols': int, 'tactile_pad_channels': int}


def _descriptor(name: str, default, description: str, rng) -> ParameterDescriptor:
    d = ParameterDescriptor(description=description, read_only=True)
    if isinstance(default, list):
        d.type = _ARRAY_TYPES[_LIST_ELEM.get(name, str)]
    if rng is not None:
        if isinstance(default, float):
            d.floating_point_range = [FloatingPointRange(from_value=float(rng[0]),
                                                         to_value=float(rng[1]))]
        elif isinstance(default, int):
            d.integer_range = [IntegerRange(from_value=int(rng[0]), to_value=int(rng[1]))]
    return d


def declare_sync_parameters(node: Node, *, prefix: str = '') -> SyncConfig:
    """Declare every sync parameter on ``node`` (names prefixed by ``prefix``) and return the
    validated :class:`SyncConfig`. Raises :class:`ConfigError` quoting bad values."""
    values = {}
    for name, (default, description, rng) in SYNC_PARAMETERS.items():
        full = prefix + name
        if node.has_parameter(full):
            values[name] = node.get_parameter(full).value
            continue
        values[name] = node.declare_parameter(
            full, default, _descriptor(name, default, description, rng)).value
    return config_from_values(values)


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
