"""Multimodal synchronizer: streams at different rates -> time-aligned Frames."""

from __future__ import annotations

from vla_ros.core.sync.assemble import (assemble_audio, assemble_images, assemble_joints,
                                        assemble_tactile)
from vla_ros.core.sync.audio_ring import AudioRing, mix_down, resample_linear
from vla_ros.core.sync.buffers import AddResult, StampedBuffer
from vla_ros.core.sync.checks import audio_error, joints_error, tactile_error
from vla_ros.core.sync.config import (CameraConfig, StampPolicy, sync_config_from_values,
                                      SyncConfig, TactileMode, Trigger)
from vla_ros.core.sync.joint_interp import interpolate_joints
from vla_ros.core.sync.state import ModalityStats, StreamState, SyncStats, within
from vla_ros.core.sync.synchronizer import MultimodalSynchronizer

__all__ = [
    'AddResult',
    'AudioRing',
    'CameraConfig',
    'ModalityStats',
    'MultimodalSynchronizer',
    'StampPolicy',
    'StampedBuffer',
    'StreamState',
    'SyncConfig',
    'SyncStats',
    'TactileMode',
    'Trigger',
    'assemble_audio',
    'assemble_images',
    'assemble_joints',
    'assemble_tactile',
    'audio_error',
    'interpolate_joints',
    'joints_error',
    'mix_down',
    'resample_linear',
    'sync_config_from_values',
    'tactile_error',
    'within',
]
