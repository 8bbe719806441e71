"""Configuration of the multimodal synchronizer (ROS-free, frozen, validated)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import Enum

from vla_ros import constants as C
from vla_ros.constants import image_key, Modality
from vla_ros.core.config_utils import coerce_enums
from vla_ros.core.convert import layout_from_params
from vla_ros.core.frame import TactileLayout
from vla_ros.errors import ConfigError, VlaRosError
from vla_ros.params.sync import (ALL_MODALITIES, DEFAULT_MAX_AGE_S, SYNC_PARAMETERS,
                                 TACTILE_MSG_TYPES)


class Trigger(str, Enum):
    """What starts a frame: each primary-camera image, or a fixed-rate timer."""

    PRIMARY_CAMERA = 'primary_camera'
    TIMER = 'timer'


class TactileMode(str, Enum):
    """Tactile reduction: newest sample, or element-wise max/mean over a window."""

    LATEST = 'latest'
    MAX = 'max'
    MEAN = 'mean'


class StampPolicy(str, Enum):
    """Zero/missing header stamps: reject the message, or stamp it with the arrival time."""

    REJECT = 'reject'
    ARRIVAL = 'arrival'


_P = SYNC_PARAMETERS
# SyncConfig field -> its parameter (the default and the range check come from there)
FIELD_PARAMETERS = {
    'primary_camera': 'primary_camera', 'trigger': 'trigger', 'timer_rate_hz': 'timer_rate_hz',
    'image_slop_s': 'image_slop_s', 'audio_window_s': 'audio_window_s',
    'audio_rate': 'audio_rate', 'tactile_mode': 'tactile_mode',
    'tactile_window_s': 'tactile_window_s', 'joint_names': 'joint_names',
    'required': 'required_modalities', 'modalities': 'modalities',
    'stamp_policy': 'stamp_policy', 'buffer_s': 'buffer_s', 'image_buffer_s': 'image_buffer_s',
    'clock_jump_s': 'clock_jump_s', 'max_wait_s': 'max_wait_s',
    'max_message_bytes': 'max_message_bytes', 'audio_topic': 'audio_topic',
    'audio_msg_type': 'audio_msg_type', 'audio_data_rate': 'audio_data_rate',
    'audio_data_channels': 'audio_data_channels', 'audio_data_encoding': 'audio_data_encoding',
    'tactile_topic': 'tactile_topic', 'tactile_msg_type': 'tactile_msg_type',
    'joint_states_topic': 'joint_states_topic', 'command_topic': 'command_topic'}


def _default(name: str):
    """Return the default of parameter ``name`` (lists as tuples, for a frozen field)."""
    v = _P[name].value
    return tuple(v) if isinstance(v, list) else v


@dataclass(frozen=True)
class CameraConfig:
    """One camera: name, image topic, and whether frames require it."""

    name: str
    topic: str = ''
    required: bool = True
    compressed: bool = False

    def __post_init__(self) -> None:
        if not self.name or '/' in self.name:
            raise ConfigError(f'camera name must be non-empty without "/", got {self.name!r}')
        if not self.topic:
            object.__setattr__(self, 'topic', C.camera_topic(self.name))


@dataclass(frozen=True)
class SyncConfig:
    """
    Synchronizer settings. Times in seconds, rates in Hz.

    :ivar cameras: the cameras, in order.
    :ivar primary_camera: camera whose images trigger frames ('' = the first camera).
    :ivar trigger: ``primary_camera`` or ``timer`` (``timer_rate_hz``).
    :ivar image_slop_s: max |image stamp - frame time| for an image to count as present.
    :ivar audio_window_s: audio window length ending at the frame time.
    :ivar audio_rate: model sample rate of ``Frame.audio``.
    :ivar tactile_mode / tactile_window_s: reduction of tactile samples.
    :ivar joint_names: required joints, in the order of ``Frame.joint_positions``.
    :ivar max_age_s: modality ('image', 'audio', 'tactile', 'joints', 'language', or an
        ``image/<cam>`` key) -> max age for presence; 0 = never stale.
    :ivar required: modality keys without which no frame is produced (cameras with
        ``required=True`` are added automatically).
    :ivar modalities: modalities in use; others are never present.
    :ivar stamp_policy: zero stamps -> ``reject`` or ``arrival`` time.
    :ivar buffer_s: history kept per stream [s] (audio, tactile, joints).
    :ivar image_buffer_s: images kept per camera [s]; an image is only used within
        ``image_slop_s`` of a frame's stamp, so full-size images are kept briefly (two 640x480
        cameras at 30 Hz for 2 s hold 110 MB); lengthened to cover the history span.
    :ivar clock_jump_s: a stream going back by more than this clears every buffer.
    :ivar max_wait_s: how long a primary-camera trigger waits for the other cameras.
    :ivar max_message_bytes: larger messages are rejected before conversion.
    :ivar tactile_layout: pad layout from parameters; TactileArray messages with another layout
        are rejected at ingest (and the Float32MultiArray adapter uses it).
    :ivar tactile_size: values per tactile reading; others are rejected at ingest (0 = any;
        vla_policy sets it from the bundle so a foreign layout never reaches the model).
    :ivar history_frames / history_spacing_s: frames per observation incl. the current one,
        ``history_spacing_s`` apart; the past ones go to ``Frame.history`` (1 = none;
        vla_policy sets them from the bundle's ``history`` section,
        :func:`~vla_ros.core.control.bundle_fit.fit_history`).
    """

    cameras: tuple[CameraConfig, ...] = tuple(
        CameraConfig(n, required=n in _P['required_cameras'].default,
                     compressed=n in _P['compressed_cameras'].default)
        for n in _P['cameras'].default)
    primary_camera: str = _default('primary_camera')
    trigger: Trigger = Trigger(_default('trigger'))
    timer_rate_hz: float = _default('timer_rate_hz')
    image_slop_s: float = _default('image_slop_s')
    audio_window_s: float = _default('audio_window_s')
    audio_rate: int = _default('audio_rate')
    tactile_mode: TactileMode = TactileMode(_default('tactile_mode'))
    tactile_window_s: float = _default('tactile_window_s')
    joint_names: tuple[str, ...] = _default('joint_names')
    max_age_s: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MAX_AGE_S))
    required: tuple[str, ...] = _default('required_modalities')
    modalities: tuple[str, ...] = _default('modalities')
    stamp_policy: StampPolicy = StampPolicy(_default('stamp_policy'))
    buffer_s: float = _default('buffer_s')
    image_buffer_s: float = _default('image_buffer_s')
    clock_jump_s: float = _default('clock_jump_s')
    max_wait_s: float = _default('max_wait_s')
    max_message_bytes: int = _default('max_message_bytes')
    # Inputs (used by the ROS front end; the core ignores them).
    audio_topic: str = _default('audio_topic')
    audio_msg_type: str = _default('audio_msg_type')
    audio_data_rate: int = _default('audio_data_rate')  # AudioData adapter: format from params
    audio_data_channels: int = _default('audio_data_channels')
    audio_data_encoding: str = _default('audio_data_encoding')
    tactile_topic: str = _default('tactile_topic')
    tactile_msg_type: str = _default('tactile_msg_type')
    tactile_layout: TactileLayout | None = None  # layout from params: adapter / ingest check
    tactile_size: int = 0  # values per tactile reading accepted at ingest (0 = any)
    history_frames: int = 1
    history_spacing_s: float = 0.0
    joint_states_topic: str = _default('joint_states_topic')
    command_topic: str = _default('command_topic')

    def __post_init__(self) -> None:
        s = object.__setattr__
        s(self, 'cameras', tuple(self.cameras))
        s(self, 'joint_names', tuple(self.joint_names))
        s(self, 'required', tuple(self.required))
        s(self, 'modalities', tuple(self.modalities))
        s(self, 'max_age_s', {**DEFAULT_MAX_AGE_S, **dict(self.max_age_s)})
        coerce_enums(self, {'trigger': Trigger, 'tactile_mode': TactileMode,
                            'stamp_policy': StampPolicy})
        names = [c.name for c in self.cameras]
        if len(set(names)) != len(names):
            raise ConfigError(f'camera names must be unique, got {names}')
        if not self.primary_camera and names:
            s(self, 'primary_camera', names[0])
        if self.trigger == Trigger.PRIMARY_CAMERA and self.primary_camera not in names:
            raise ConfigError(f'primary_camera {self.primary_camera!r} is not one of {names}')
        unknown = [m for m in self.modalities if m not in ALL_MODALITIES]
        if unknown:
            raise ConfigError(f'unknown modalities {unknown}; known: {list(ALL_MODALITIES)}')
        keys = set(self.modality_keys)
        bad = [r for r in self.required if r not in keys]
        if bad:
            raise ConfigError(f'required modalities {bad} are not configured; known: {keys}')
        for name, param in FIELD_PARAMETERS.items():  # type, range and choices: the spec
            _P[param].check(getattr(self, name), label=name)
        if self.image_buffer_s < self.image_slop_s:
            raise ConfigError(f'image_buffer_s ({self.image_buffer_s}) must be >= image_slop_s '
                              f'({self.image_slop_s})')
        if self.buffer_s < self.audio_window_s:
            raise ConfigError(f'buffer_s ({self.buffer_s}) must be >= audio_window_s '
                              f'({self.audio_window_s})')
        for k, v in self.max_age_s.items():  # the range of max_age_s.<modality>
            _P['max_age_s.image'].check(v, label=f'max_age_s[{k!r}]')
        if Modality.JOINTS.value in self.modalities and not self.joint_names:
            raise ConfigError('joint_names must not be empty when joints are used')
        if len(set(self.joint_names)) != len(self.joint_names):
            raise ConfigError(f'joint_names must be unique, got {list(self.joint_names)}')
        if self.tactile_msg_type == TACTILE_MSG_TYPES[1] and self.tactile_layout is None:
            raise ConfigError('tactile_msg_type Float32MultiArray needs tactile_layout '
                              '(tactile_pad_names/rows/cols)')
        if self.tactile_size < 0:
            raise ConfigError(f'tactile_size must be >= 0, got {self.tactile_size}')
        if not isinstance(self.history_frames, int) or self.history_frames < 1:
            raise ConfigError(f'history_frames must be an integer >= 1, got '
                              f'{self.history_frames!r}')
        span = (self.history_frames - 1) * self.history_spacing_s
        if self.history_frames > 1 and not (self.history_spacing_s > 0
                                            and span + self.image_slop_s <= self.buffer_s):
            raise ConfigError(f'history of {self.history_frames} frames '
                              f'{self.history_spacing_s!r} s apart needs spacing > 0 and a '
                              f'span + image_slop_s <= buffer_s ({self.buffer_s} s)')

    @property
    def image_horizon_s(self) -> float:
        """Images kept per camera [s]: ``image_buffer_s``, or the history span + slop."""
        span = (self.history_frames - 1) * self.history_spacing_s
        return max(self.image_buffer_s, span + self.image_slop_s) if span > 0 else (
            self.image_buffer_s)

    @property
    def modality_keys(self) -> tuple[str, ...]:
        """Keys of the presence mask: ``image/<cam>`` per camera, then the other modalities."""
        keys = []
        for m in self.modalities:
            if m == Modality.IMAGE.value:
                keys += [image_key(c.name) for c in self.cameras]
            else:
                keys.append(m)
        return tuple(keys)

    @property
    def required_keys(self) -> tuple[str, ...]:
        """Return the required keys: ``required`` plus every camera with ``required=True``."""
        keys = list(self.required)
        if Modality.IMAGE.value in self.modalities:
            keys += [image_key(c.name) for c in self.cameras
                     if c.required and image_key(c.name) not in keys]
        return tuple(keys)

    def max_age_ns(self, key: str) -> int:
        """Max age of a modality key [ns]; 0 = never stale."""
        age = self.max_age_s.get(key)
        if age is None:
            age = self.max_age_s.get(key.split('/', 1)[0], 0.0)
        return int(age * 1e9)


def sync_config_from_values(v: Mapping[str, object]) -> SyncConfig:
    """
    Build a SyncConfig from parameter values keyed like ``SYNC_PARAMETERS``.

    The values are a node's (:mod:`vla_ros.ros.params`) or a params file's
    (:mod:`vla_ros.params.files`). Raises :class:`ConfigError` quoting bad values.
    """
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
        fields = {f: v[p] for f, p in FIELD_PARAMETERS.items()}
        return SyncConfig(
            cameras=cameras, tactile_layout=layout,
            max_age_s={k.split('.', 1)[1]: v[k] for k in v if k.startswith('max_age_s.')},
            **fields)
    except ConfigError:
        raise
    except VlaRosError as e:
        raise ConfigError(str(e)) from e
