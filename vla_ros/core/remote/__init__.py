"""The split deployment: what crosses the network, the robot-side loop, batching."""

from __future__ import annotations

from vla_ros.core.remote.batching import BatchQueue, BatchStats
from vla_ros.core.remote.loop import RemoteCounters, RemotePolicyLoop, RemoteRuntime
from vla_ros.core.remote.wire import (audio_bytes, AudioWire, camera_wires, CameraWire,
                                      chunk_age_limit, encode_jpeg, RemoteConfig, shrink_frame,
                                      shrink_image)

__all__ = [
    'AudioWire',
    'BatchQueue',
    'BatchStats',
    'CameraWire',
    'RemoteConfig',
    'RemoteCounters',
    'RemotePolicyLoop',
    'RemoteRuntime',
    'audio_bytes',
    'camera_wires',
    'chunk_age_limit',
    'encode_jpeg',
    'shrink_frame',
    'shrink_image',
]
