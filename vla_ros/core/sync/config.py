"""Configuration of the multimodal synchronizer (ROS-free, frozen, validated)."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
import math

from vla_ros import constants as C
from vla_ros.constants import image_key, Modality
from vla_ros.core.config_utils import coerce_enums
from vla_ros.core.frame import TactileLayout
from vla_ros.errors import ConfigError


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


ALL_MODALITIES = tuple(m.value for m in Modality)
AUDIO_MSG_TYPES = ('vla_ros_msgs/msg/AudioChunk', 'audio_common_msgs/msg/AudioData')
TACTILE_MSG_TYPES = ('vla_ros_msgs/msg/TactileArray', 'std_msgs/msg/Float32MultiArray')
DEFAULT_MAX_AGE_S = {'image': 0.2, 'audio': 0.2, 'tactile': 0.1, 'joints': 0.1,
                     'language': 0.0}


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

    cameras: tuple[CameraConfig, ...] = (CameraConfig('front'),
                                         CameraConfig('wrist', required=False))
    primary_camera: str = ''
    trigger: Trigger = Trigger.PRIMARY_CAMERA
    timer_rate_hz: float = 10.0
    image_slop_s: float = 0.02
    audio_window_s: float = 1.0
    audio_rate: int = C.DEFAULT_SAMPLE_RATE_HZ
    tactile_mode: TactileMode = TactileMode.LATEST
    tactile_window_s: float = 0.05
    joint_names: tuple[str, ...] = (*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT)
    max_age_s: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_MAX_AGE_S))
    required: tuple[str, ...] = ('joints',)
    modalities: tuple[str, ...] = ALL_MODALITIES
    stamp_policy: StampPolicy = StampPolicy.REJECT
    buffer_s: float = 2.0
    image_buffer_s: float = 0.25
    clock_jump_s: float = 1.0
    max_wait_s: float = 0.05
    max_message_bytes: int = 64 * 1024 * 1024
    # Inputs (used by the ROS front end; the core ignores them).
    audio_topic: str = C.AUDIO_TOPIC
    audio_msg_type: str = 'vla_ros_msgs/msg/AudioChunk'
    audio_data_rate: int = C.DEFAULT_SAMPLE_RATE_HZ  # AudioData adapter: format from params
    audio_data_channels: int = 1
    audio_data_encoding: str = 'S16LE'
    tactile_topic: str = C.TACTILE_TOPIC
    tactile_msg_type: str = 'vla_ros_msgs/msg/TactileArray'
    tactile_layout: TactileLayout | None = None  # layout from params: adapter / ingest check
    tactile_size: int = 0  # values per tactile reading accepted at ingest (0 = any)
    history_frames: int = 1
    history_spacing_s: float = 0.0
    joint_states_topic: str = C.JOINT_STATES_TOPIC
    command_topic: str = C.COMMAND_TOPIC

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
        for name in ('image_slop_s', 'audio_window_s', 'tactile_window_s', 'buffer_s',
                     'image_buffer_s',
                     'clock_jump_s', 'timer_rate_hz'):
            v = getattr(self, name)
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v > 0):
                raise ConfigError(f'{name} must be a finite number > 0, got {v!r}')
        if not (0 <= self.max_wait_s < 10):
            raise ConfigError(f'max_wait_s must be in [0, 10), got {self.max_wait_s!r}')
        if not (1000 <= self.audio_rate <= 384000):
            raise ConfigError(f'audio_rate must be in [1000, 384000] Hz, got {self.audio_rate}')
        if self.image_buffer_s < self.image_slop_s:
            raise ConfigError(f'image_buffer_s ({self.image_buffer_s}) must be >= image_slop_s '
                              f'({self.image_slop_s})')
        if self.buffer_s < self.audio_window_s:
            raise ConfigError(f'buffer_s ({self.buffer_s}) must be >= audio_window_s '
                              f'({self.audio_window_s})')
        for k, v in self.max_age_s.items():
            if not (isinstance(v, (int, float)) and math.isfinite(v) and v >= 0):
                raise ConfigError(f'max_age_s[{k!r}] must be >= 0, got {v!r}')
        if Modality.JOINTS.value in self.modalities and not self.joint_names:
            raise ConfigError('joint_names must not be empty when joints are used')
        if len(set(self.joint_names)) != len(self.joint_names):
            raise ConfigError(f'joint_names must be unique, got {list(self.joint_names)}')
        if self.audio_msg_type not in AUDIO_MSG_TYPES:
            raise ConfigError(f'audio_msg_type must be one of {AUDIO_MSG_TYPES}, '
                              f'got {self.audio_msg_type!r}')
        if self.tactile_msg_type not in TACTILE_MSG_TYPES:
            raise ConfigError(f'tactile_msg_type must be one of {TACTILE_MSG_TYPES}, '
                              f'got {self.tactile_msg_type!r}')
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
        if self.max_message_bytes <= 0:
            raise ConfigError(f'max_message_bytes must be > 0, got {self.max_message_bytes}')

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
