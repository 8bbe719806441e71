"""
Where :class:`~vla_ros.core.control.loop.PolicyLoop` gets its chunks: :class:`ChunkSource`.

The loop decides when a chunk is wanted and what becomes of it (scheduler, safety, command
generations); a source only turns a frame into a chunk (openpi's ``BasePolicy``, chunk-shaped):
- :class:`LocalChunkSource` runs the bundle here and answers at once;
- :class:`~vla_ros.core.remote.source.RemoteChunkSource` sends the frame to ``vla_inference``
  and answers later through :meth:`PolicyLoop.on_chunk <vla_ros.core.control.loop.PolicyLoop
  .on_chunk>` (``max_chunk_age_s`` set: the loop holds when none come);
- :class:`DelayedChunkSource` wraps another to make it slower (evaluation only).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from enum import Enum
import threading
import time

from vla_ros.core.bundle.contract import Manifest
from vla_ros.core.control.outcomes import InferenceResult
from vla_ros.core.frame import Frame
from vla_ros.core.runtime.policy_runtime import PolicyOutput, PolicyRuntime
from vla_ros.core.runtime.prefix import ActionPrefix
from vla_ros.core.runtime.worker_process import RuntimeProcess


@dataclass(frozen=True)
class ChunkRequest:
    """
    One chunk the loop asked for.

    ``frame`` as the policy sees it (masked, carrying ``command``); ``gen`` the loop's command
    generation then; ``sent_ns`` when it was asked [ns, host clock]; ``prefix`` the actions the
    scheduler executes while this chunk is computed (bundles with an ``action_prefix`` input,
    else None; :mod:`vla_ros.core.control.prefix`).
    """

    frame: Frame
    gen: int
    command: str
    sent_ns: int
    prefix: ActionPrefix | None = None


class ChunkDrop(str, Enum):
    """Why a chunk that arrived later (:meth:`PolicyLoop.on_chunk`) did not enter the scheduler."""

    STALE = 'stale'            # its frame is older than max_chunk_age_s
    SUPERSEDED = 'superseded'  # asked for an older command
    REJECTED = 'rejected'      # it does not fit the bundle or the frame
    INACTIVE = 'inactive'      # the loop stopped or the command changed while it was taken


# the loop's on_chunk(request, output or None, problem) -> what became of the chunk
Deliver = Callable[[ChunkRequest, PolicyOutput | None, str], InferenceResult | ChunkDrop]


class ChunkSource(ABC):
    """
    What turns a frame into an action chunk for one bundle.

    :ivar manifest: the bundle's manifest (action names, horizon, dt, modalities).
    :ivar max_chunk_age_s: None when :meth:`request` returns the chunk; else chunks arrive
        later (:meth:`attach`) and none for this long holds the robot [s].
    :ivar name: who computes the chunks, as a hold reason names it.
    """

    manifest: Manifest
    max_chunk_age_s: float | None = None
    name: str = 'the policy'

    @abstractmethod
    def set_command(self, text: str) -> None:
        """Take a run command (embedded once); raise CommandNotUnderstood to refuse it."""

    @abstractmethod
    def request(self, req: ChunkRequest) -> PolicyOutput | None:
        """
        Return the chunk for ``req.frame`` now, or None when it will arrive later.

        Raises :class:`~vla_ros.errors.InputMismatchError` for a frame it cannot use (the loop
        holds until the next good frame) or another :class:`~vla_ros.errors.VlaRosError` (a
        source that answers at once faults the loop; a later one is asked again).
        """

    def attach(self, deliver: Deliver) -> None:
        """Take the loop's ``on_chunk(request, output, problem)`` for chunks that come later."""

    def on_request_lost(self) -> None:
        """Hear that the loop gave up waiting for a request (counted by remote sources)."""

    def on_time_jump(self) -> None:
        """Forget requests stamped on the old timeline (sim reset)."""

    def close(self) -> None:
        """Release what the source holds (a worker process); idempotent."""


class LocalChunkSource(ChunkSource):
    """
    The bundle run on this host, one caller at a time.

    By :class:`PolicyRuntime` in the caller's thread, or by :class:`RuntimeProcess` in a child
    process (``inference_worker: process``).

    :ivar lock: held while the runtime runs (the live attribution shares it).
    """

    def __init__(self, runtime: PolicyRuntime | RuntimeProcess) -> None:
        self.runtime, self.manifest = runtime, runtime.manifest
        self.lock = threading.Lock()

    def set_command(self, text: str) -> None:
        self.runtime.set_command(text)

    def request(self, req: ChunkRequest) -> PolicyOutput:
        with self.lock:
            if req.prefix is None:  # a bundle without an action_prefix input: as before
                return self.runtime.infer(req.frame)
            return self.runtime.infer(req.frame, req.prefix)

    def close(self) -> None:
        self.runtime.close()


class DelayedChunkSource(ChunkSource):
    """
    EVALUATION ONLY: ``inner``'s chunks, each returned ``delay_s`` later (a slower policy).

    The delay runs on the caller's thread after the chunk is computed (the node's inference
    worker), as a slower graph would; ``eval_added_latency_ms`` of ``vla_policy``.
    """

    def __init__(self, inner: ChunkSource, delay_s: float, *,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.inner, self.delay_s, self._sleep = inner, delay_s, sleep
        self.manifest, self.max_chunk_age_s = inner.manifest, inner.max_chunk_age_s
        self.name = inner.name

    def set_command(self, text: str) -> None:
        self.inner.set_command(text)

    def request(self, req: ChunkRequest) -> PolicyOutput | None:
        out = self.inner.request(req)
        if out is not None and self.delay_s > 0:
            self._sleep(self.delay_s)
        return out

    def attach(self, deliver: Deliver) -> None:
        self.inner.attach(deliver)

    def on_request_lost(self) -> None:
        self.inner.on_request_lost()

    def on_time_jump(self) -> None:
        self.inner.on_time_jump()

    def close(self) -> None:
        self.inner.close()
