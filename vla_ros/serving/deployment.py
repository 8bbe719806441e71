"""
The policy as a Ray Serve deployment: :class:`PolicyReplica` (``PolicyRuntime.infer_batch``).

Each replica opens the bundle once with onnxruntime intra-op threads = the CPUs Ray gave it
(``ray_actor_options.num_cpus``, so replicas packed on one host do not oversubscribe it) and
serves :meth:`PolicyReplica.infer`, which Serve's ``@serve.batch`` fills with the frames that
arrive within ``batch_wait_ms`` (at most ``max_batch``): Ray's batching replaces
``vla_inference``'s own queue in ``backend: ray``. A batch that fails (one unusable frame) is
rerun frame by frame, so only the bad frame is answered with an error.

Frames cross as pickled :class:`~vla_ros.core.frame.Frame` objects (numpy arrays zero-copy in
Ray's object store); chunks come back as :class:`ServedChunk`. Every host of the cluster needs
the same vla_ros code and the bundle at the same path.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
import os

import ray
from ray import serve
from ray.serve.deployment import Application
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.frame import Frame
from vla_ros.core.policy import open_runtime, RuntimeOptions
from vla_ros.core.remote.served import ReplicaInfo, ServedChunk
from vla_ros.core.runtime.policy_runtime import PolicyOutput
from vla_ros.core.runtime.session import SessionSettings
from vla_ros.errors import ConfigError, VlaRosError

APP_NAME = 'vla_policy'
DEPLOYMENT_NAME = 'PolicyReplica'
HEALTH_CHECK_PERIOD_S = 1.0   # Serve pings each replica this often ...
HEALTH_CHECK_TIMEOUT_S = 5.0  # ... and replaces it after this long without an answer


@dataclass(frozen=True)
class ServeConfig:
    """
    How the bundle is deployed on the cluster (``vla-ros serve head``).

    :ivar bundle: policy bundle directory (the same path on every host).
    :ivar replicas: replicas of the policy across the cluster.
    :ivar replica_cpus: CPUs Ray reserves per replica = its onnxruntime intra-op threads.
    :ivar max_replicas_per_node: at most this many replicas on one host (0 = no limit).
    :ivar max_batch: most frames in one ``infer_batch`` run (``@serve.batch``).
    :ivar batch_wait_ms: after the first frame, wait at most this long for more [ms].
    :ivar providers: onnxruntime execution providers, in order.
    :ivar replica_gpus: GPUs Ray reserves per replica (0 on CPU hosts).
    """

    bundle: str
    replicas: int = 1
    replica_cpus: float = 1.0
    max_replicas_per_node: int = 0
    max_batch: int = 8
    batch_wait_ms: float = 5.0
    providers: tuple[str, ...] = ('CPUExecutionProvider',)
    replica_gpus: float = 0.0

    def __post_init__(self) -> None:
        if self.replicas < 1:
            raise ConfigError(f'replicas must be >= 1, got {self.replicas}')
        if self.replica_cpus <= 0:
            raise ConfigError(f'replica_cpus must be > 0, got {self.replica_cpus}')
        if self.max_batch < 1:
            raise ConfigError(f'max_batch must be >= 1, got {self.max_batch}')
        if not 0 <= self.batch_wait_ms <= 1000:
            raise ConfigError(f'batch_wait_ms must be in [0, 1000], got {self.batch_wait_ms}')


def replica_threads() -> int:
    """Return the intra-op threads for this replica: the CPUs Ray assigned it (>= 1)."""
    cpus = ray.get_runtime_context().get_assigned_resources().get('CPU', 1.0)
    return max(1, int(round(cpus)))


class PolicyReplica:
    """One replica: the bundle's policy session, fed batches by ``@serve.batch``."""

    def __init__(self, bundle: str, providers: Sequence[str], max_batch: int,
                 batch_wait_s: float) -> None:
        threads = replica_threads()
        self.runtime = open_runtime(load_bundle(bundle), RuntimeOptions(
            providers=tuple(providers), text_encoder_resident=True,
            session=SessionSettings(intra_op_threads=threads, allow_spinning=True)))
        m = self.runtime.manifest
        if any(s.shape[:1] != (-1,) for s in (*m.inputs, *m.outputs)):
            max_batch = 1  # a graph with a fixed batch size runs one frame at a time
        self.infer.set_max_batch_size(max_batch)
        self.infer.set_batch_wait_timeout_s(batch_wait_s)
        self.info = ReplicaInfo(model_id=m.model_id, intra_op_threads=threads,
                                max_batch=max_batch,
                                replica=f'{ray.util.get_node_ip_address()}:{os.getpid()}',
                                providers=tuple(self.runtime.active_providers))

    def describe(self) -> ReplicaInfo:
        """Return what this replica serves."""
        return self.info

    @serve.batch(max_batch_size=8, batch_wait_timeout_s=0.005)
    async def infer(self, frames: list[Frame]) -> list[ServedChunk]:
        """Run the frames Serve batched as one ``infer_batch``; one answer per frame."""
        # in a thread: the replica's loop keeps taking requests for the next batch meanwhile
        return await asyncio.get_running_loop().run_in_executor(None, self.run, frames)

    def run(self, frames: Sequence[Frame]) -> list[ServedChunk]:
        """Run frames as one batch; on an unusable frame rerun them one by one."""
        try:
            outs = self.runtime.infer_batch(list(frames))
        except VlaRosError:
            return [self._one(f) for f in frames]
        return [self._chunk(o, len(frames)) for o in outs]

    def _one(self, frame: Frame) -> ServedChunk:
        try:
            return self._chunk(self.runtime.infer(frame), 1)
        except VlaRosError as e:
            return ServedChunk(frame.stamp_ns, None, replica=self.info.replica,
                               error=f'frame unusable: {e}')

    def _chunk(self, out: PolicyOutput, batch: int) -> ServedChunk:
        return ServedChunk(out.frame_stamp_ns, out.actions, kind=out.kind, dt=out.dt,
                           run_ms=out.timings_ms.get('total', 0.0), batch=batch,
                           replica=self.info.replica)


def build_app(config: ServeConfig) -> Application:
    """Return the Serve application of ``config`` (``serve.run`` it on a cluster)."""
    options: dict[str, object] = {
        'name': DEPLOYMENT_NAME, 'num_replicas': config.replicas,
        'ray_actor_options': {'num_cpus': config.replica_cpus,
                              'num_gpus': config.replica_gpus},
        # room for a full batch waiting while the previous one runs
        'max_ongoing_requests': 2 * config.max_batch,
        'health_check_period_s': HEALTH_CHECK_PERIOD_S,
        'health_check_timeout_s': HEALTH_CHECK_TIMEOUT_S}
    if config.max_replicas_per_node:
        options['max_replicas_per_node'] = config.max_replicas_per_node
    return serve.deployment(PolicyReplica, **options).bind(
        config.bundle, config.providers, config.max_batch, config.batch_wait_ms * 1e-3)
