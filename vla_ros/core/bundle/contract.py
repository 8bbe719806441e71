"""
The bundle contract's types: input and action kinds, tensor specs, the parsed manifest.

Plain frozen data (torch-, ROS- and onnx-free); :mod:`vla_ros.core.bundle.manifest` parses
``bundle.yaml`` into them and verifies a bundle directory (see docs/bundle.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from pathlib import Path
from typing import Any

from vla_ros.core.bundle.specs import ActionPost, HistorySpec

FORMAT_VERSION = 2  # the newest version this runtime reads
FORMAT_VERSIONS = (1, 2)
FILL_IN = 'FILL_IN'  # placeholder of `vla-ros bundle init`: refused until replaced
MANIFEST_NAME = 'bundle.yaml'
MIN_OPSET, MAX_OPSET = 13, 23
BATCH = -1  # a dynamic (batch) dimension in manifest shapes


class InputKind(str, Enum):
    """How the runtime builds an input from a Frame (``preprocessing.kind``)."""

    IMAGE = 'image'                    # image_to_tensor -> 3 x H x W float32
    LOG_MEL = 'log_mel'                # audio_features.log_mel -> n_mels x frames float32
    AUDIO_WAVEFORM = 'audio_waveform'  # raw mono window -> n_samples float32
    TACTILE = 'tactile'                # flat values in pad order, scaled -> N float32
    JOINTS = 'joints'                  # normalized positions (+ velocities) -> J or 2J float32
    TEXT_EMBEDDING = 'text_embedding'  # text_encoder.onnx output -> D float32
    PRESENCE = 'presence'              # 1/0 per modality key in ``order`` -> M (any dtype)
    # format version 2
    IMAGE_STACK = 'image_stack'        # cameras on one axis -> N x 3 x H x W
    TEXT_TOKENS = 'text_tokens'        # prompt template -> token ids, max_length int64/int32
    TOKEN_MASK = 'token_mask'          # attention mask of a text_tokens input
    NOISE = 'noise'                    # seeded per chunk, for flow-matching / diffusion heads
    HISTORY_MASK = 'history_mask'      # 1/0 per history frame (0 = not yet observed)
    ACTION_PREFIX = 'action_prefix'    # committed actions, normalized, zero-padded -> H x W
    PREFIX_MASK = 'prefix_mask'        # 1 per committed step of an action_prefix -> H


# inputs made from something other than a sensor: never a modality key
NOT_MODALITIES = tuple(k.value for k in (
    InputKind.PRESENCE, InputKind.TOKEN_MASK, InputKind.NOISE, InputKind.HISTORY_MASK,
    InputKind.ACTION_PREFIX, InputKind.PREFIX_MASK))


class ActionKind(str, Enum):
    ABSOLUTE_JOINT_POSITION = 'absolute_joint_position'
    DELTA_JOINT_POSITION = 'delta_joint_position'
    JOINT_VELOCITY = 'joint_velocity'
    EE_TWIST = 'ee_twist'
    EE_POSE = 'ee_pose'
    GRIPPER = 'gripper'


@dataclass(frozen=True)
class TensorSpec:
    """One ONNX input or output: name, modality key, shape (-1 = batch), dtype, preprocessing."""

    name: str
    shape: tuple[int, ...]
    dtype: str = 'float32'
    modality: str = ''
    preprocessing: dict[str, Any] = field(default_factory=dict)

    @property
    def kind(self) -> str:
        return str(self.preprocessing.get('kind', ''))


@dataclass(frozen=True)
class Manifest:
    """Parsed ``bundle.yaml``. Action values are physical: ``a * std + mean``."""

    format_version: int
    model_id: str
    provenance: dict[str, Any]
    policy_file: str
    inputs: tuple[TensorSpec, ...]
    outputs: tuple[TensorSpec, ...]
    action_output: str
    action_names: tuple[str, ...]
    action_units: tuple[str, ...]
    action_kind: str
    horizon: int
    dt: float
    action_mean: tuple[float, ...]
    action_std: tuple[float, ...]
    required_modalities: tuple[str, ...]
    files: dict[str, str]
    text_encoder: dict[str, Any] | None = None
    gate_output: str | None = None
    history: HistorySpec | None = None
    action_post: ActionPost | None = None
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def input(self, kind: str | InputKind) -> TensorSpec | None:  # noqa: A003 - public API
        """Return the first input with this preprocessing kind, or None."""
        k = kind.value if isinstance(kind, InputKind) else kind
        return next((s for s in self.inputs if s.kind == k), None)

    @property
    def joint_names(self) -> tuple[str, ...]:
        spec = self.input(InputKind.JOINTS)
        return tuple(spec.preprocessing.get('joint_names', ())) if spec else ()

    @property
    def cameras(self) -> tuple[str, ...]:
        """Cameras of ``image`` inputs and of ``image_stack`` inputs, in input order."""
        cams: list[str] = []
        for s in self.inputs:
            if s.kind == InputKind.IMAGE.value:
                cams.append(s.preprocessing['camera'])
            elif s.kind == InputKind.IMAGE_STACK.value:
                cams.extend(s.preprocessing['cameras'])
        return tuple(dict.fromkeys(cams))

    @property
    def modalities(self) -> tuple[str, ...]:
        """Modality keys the policy consumes (``image/<cam>``, ``audio``, ``tactile``, ...)."""
        keys: list[str] = []
        for s in self.inputs:
            if s.kind == InputKind.IMAGE_STACK.value:
                keys.extend(f'image/{c}' for c in s.preprocessing['cameras'])
            elif s.kind not in NOT_MODALITIES:
                keys.append(s.modality)
        return tuple(dict.fromkeys(k for k in keys if k))


@dataclass(frozen=True)
class Bundle:
    """A verified bundle on disk."""

    path: Path
    manifest: Manifest

    def file(self, name: str) -> Path:
        return self.path / name
