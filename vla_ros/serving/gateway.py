"""
The gateway side of ``backend: ray``: frames to the Serve deployment, answers back.

:class:`ServeGateway` is a Ray driver (it runs on a host of the cluster, e.g. the head) holding
a handle to :data:`~vla_ros.serving.deployment.DEPLOYMENT_NAME`. Per robot, one request is in
flight; a newer frame from a robot whose request is running waits in its place (an older
waiting one is dropped, ``superseded``), as ``vla_inference``'s own queue keeps it. Serve's
router spreads the requests over the replicas and ``@serve.batch`` batches them there.

A request that fails (its replica died, the host is unreachable) or does not answer within
``timeout_s`` is reported to ``on_result`` with the reason and no chunk: the robot gets
nothing for that frame and holds by its own chunk-age rule; its next frame goes out as usual.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
import threading
import time

from ray import serve
from ray.exceptions import RayError
from vla_ros.core.frame import Frame
from vla_ros.core.remote.served import ReplicaInfo, ServedChunk
from vla_ros.errors import ServingError
from vla_ros.serving.cluster import connect
from vla_ros.serving.deployment import APP_NAME, DEPLOYMENT_NAME

CONNECT_TIMEOUT_S = 60.0  # the deployment must answer describe() within this at start-up
# robot, frame, answer (None on failure), why it failed ('' = answered)
ResultCallback = Callable[[str, Frame, ServedChunk | None, str], None]


@dataclass
class GatewayStats:
    """What the gateway did (reported on /diagnostics)."""

    requests: int = 0
    superseded: int = 0
    answered: int = 0
    failed: int = 0       # a replica died or was unreachable
    timed_out: int = 0
    last_error: str = ''


class ServeGateway:
    """
    Sends robots' frames to the Serve deployment; answers come to ``on_result``.

    :param address: the Ray cluster (``HOST:PORT`` of the head's GCS, or ``auto``).
    :param on_result: called on the gateway's event-loop thread for every request.
    :param app: the Serve application name.
    :param timeout_s: a request unanswered this long counts as failed [s].
    """

    def __init__(self, address: str, on_result: ResultCallback, *, app: str = APP_NAME,
                 timeout_s: float = 2.0) -> None:
        self.stats = GatewayStats()
        self.timeout_s = timeout_s
        self._on_result = on_result
        self._lock = threading.Lock()
        self._in_flight: set[str] = set()
        self._next: dict[str, Frame] = {}
        connect(address)
        try:
            self._handle = serve.get_deployment_handle(DEPLOYMENT_NAME, app_name=app)
            self.info: ReplicaInfo = self._handle.describe.remote().result(
                timeout_s=CONNECT_TIMEOUT_S)
        except (RayError, ConnectionError, TimeoutError, ValueError, RuntimeError) as e:
            raise ServingError(f'no Ray Serve app {app!r} at {address!r}: {e}') from e
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name='serve_gateway',
                                        daemon=True)
        self._thread.start()

    @property
    def in_flight(self) -> int:
        """Return the requests running now."""
        with self._lock:
            return len(self._in_flight)

    def diagnostics(self) -> dict[str, object]:
        """Return the counters for /diagnostics."""
        with self._lock:
            g = self.stats
            return {'requests': g.requests, 'superseded': g.superseded,
                    'in_flight': len(self._in_flight), 'answered': g.answered,
                    'timed_out': g.timed_out, 'ray_failed': g.failed,
                    'ray_last_error': g.last_error}

    def submit(self, robot: str, frame: Frame) -> None:
        """Send ``robot``'s frame now, or after its running request (newest kept)."""
        with self._lock:
            self.stats.requests += 1
            if robot in self._in_flight:
                if self._next.pop(robot, None) is not None:
                    self.stats.superseded += 1
                self._next[robot] = frame
                return
            self._in_flight.add(robot)
        asyncio.run_coroutine_threadsafe(self._serve(robot, frame), self._loop)

    async def _serve(self, robot: str, frame: Frame | None) -> None:
        while frame is not None:
            out, why = await self._call(frame)
            try:
                self._on_result(robot, frame, out, why)
            finally:
                with self._lock:
                    frame = self._next.pop(robot, None)
                    if frame is None:
                        self._in_flight.discard(robot)

    async def _call(self, frame: Frame) -> tuple[ServedChunk | None, str]:
        response = self._handle.infer.remote(frame)
        t0 = time.monotonic()
        try:
            out: ServedChunk = await asyncio.wait_for(response, self.timeout_s)
        except asyncio.TimeoutError:
            response.cancel()
            why = f'no answer from Ray Serve in {self.timeout_s:g} s'
            with self._lock:
                self.stats.timed_out += 1
                self.stats.last_error = why
            return None, why
        except RayError as e:
            why = f'Ray Serve request failed after {time.monotonic() - t0:.2f} s: ' \
                  f'{type(e).__name__}: {str(e).splitlines()[0][:200] if str(e) else ""}'
            with self._lock:
                self.stats.failed += 1
                self.stats.last_error = why
            return None, why
        with self._lock:
            self.stats.answered += 1
        return out, out.error

    def close(self) -> None:
        """Stop the event loop (requests running are dropped); leave the cluster running."""
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=5.0)
