"""
What a policy service answers (ROS-free, Ray-free): :class:`ServedChunk`, :class:`ReplicaInfo`.

``vla_inference`` with ``backend: ray`` sends frames through a :class:`FrameService` (the Ray
Serve gateway, :class:`vla_ros.serving.gateway.ServeGateway`) and publishes what comes back;
these types are all the node needs to know of it, so it imports Ray only when it opens one.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
from vla_ros.core.frame import Frame


@dataclass(frozen=True)
class ServedChunk:
    """
    One replica's answer for one frame.

    :ivar frame_stamp_ns: the request frame's stamp [ns].
    :ivar actions: the chunk [H, A] in the bundle's action space (None with ``error``).
    :ivar kind: the bundle's action kind; ``dt`` its step [s].
    :ivar run_ms: policy time of the batch the frame ran in [ms]; ``batch`` its size.
    :ivar replica: ``ip:pid`` of the replica that computed it.
    :ivar error: why the frame could not be used ('' = a chunk).
    """

    frame_stamp_ns: int
    actions: np.ndarray | None
    kind: str = ''
    dt: float = 0.0
    run_ms: float = 0.0
    batch: int = 0
    replica: str = ''
    error: str = ''


@dataclass(frozen=True)
class ReplicaInfo:
    """What a replica serves (the gateway checks the model id before serving robots)."""

    model_id: str
    intra_op_threads: int
    max_batch: int
    replica: str
    providers: tuple[str, ...] = field(default_factory=tuple)


class FrameService(Protocol):
    """Frames in, :class:`ServedChunk` out through the callback it was opened with."""

    info: ReplicaInfo

    def submit(self, robot: str, frame: Frame) -> None:
        """Send ``robot``'s frame (newest kept while its previous request runs)."""

    def diagnostics(self) -> dict[str, object]:
        """Return counters for /diagnostics: requests, superseded, in flight, failures."""

    def close(self) -> None:
        """Stop; requests running are dropped."""
