"""The split deployment: what crosses the network, the robot-side chunk source, batching."""

from __future__ import annotations

from vla_ros.core.remote.batching import BatchQueue, BatchStats
from vla_ros.core.remote.served import FrameService, ReplicaInfo, ServedChunk
from vla_ros.core.remote.source import RemoteChunkSource, RemoteCounters
from vla_ros.core.remote.wire import (audio_bytes, AudioWire, camera_wires, CameraWire,
                                      chunk_age_limit, encode_jpeg, prefix_from_wire,
                                      prefix_to_wire, PrefixWire, RemoteConfig, shrink_frame,
                                      shrink_image)

__all__ = [
    'AudioWire',
    'BatchQueue',
    'BatchStats',
    'CameraWire',
    'FrameService',
    'PrefixWire',
    'RemoteChunkSource',
    'RemoteConfig',
    'RemoteCounters',
    'ReplicaInfo',
    'ServedChunk',
    'audio_bytes',
    'camera_wires',
    'chunk_age_limit',
    'encode_jpeg',
    'prefix_from_wire',
    'prefix_to_wire',
    'shrink_frame',
    'shrink_image',
]
