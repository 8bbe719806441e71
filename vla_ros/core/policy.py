"""
One factory for the policy stack (ROS-free): :func:`build_policy`.

The node (local and remote inference), the simulator rollout and the benchmarks call it, so one
bundle is configured one way everywhere (openpi's ``create_trained_policy``): the bundle is
checked against the robot config, the synchronizer fitted to it (tactile size, history window),
the modality mask checked, the chunk source chosen (the bundle run here, or ``vla_inference``)
and wrapped (evaluation-only latency), and the live attribution set up where the graph runs.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from vla_ros.core.bundle.contract import Bundle, InputKind
from vla_ros.core.control.bundle_fit import check_bundle, fit_sync
from vla_ros.core.control.chunk_source import ChunkSource, DelayedChunkSource, LocalChunkSource
from vla_ros.core.control.config import PolicyConfig
from vla_ros.core.control.loop import PolicyLoop
from vla_ros.core.control.scheduler import resolve_trigger
from vla_ros.core.frame import Frame
from vla_ros.core.language.command_tasks import open_intent
from vla_ros.core.remote.source import RemoteChunkSource
from vla_ros.core.remote.wire import RemoteConfig
from vla_ros.core.runtime.attribution import LiveAttribution
from vla_ros.core.runtime.masking import check_mask
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.core.runtime.prefix import ActionPrefix
from vla_ros.core.runtime.session import SessionSettings
from vla_ros.core.runtime.worker_process import InferenceWorker, RuntimeProcess, WorkerSpec
from vla_ros.core.sync.config import SyncConfig
from vla_ros.errors import ConfigError

__all__ = ['PolicyStack', 'RemoteLink', 'RuntimeOptions', 'build_policy', 'open_runtime']


@dataclass(frozen=True)
class RuntimeOptions:
    """
    How the bundle's graphs are opened on this host.

    ``providers``: onnxruntime execution providers (aliases allowed); ``session``: the policy
    graph's SessionOptions (None: the runtime's defaults); ``text_encoder_resident``: keep the
    text encoder open instead of opening it per new command. ``worker``: in this process
    (:class:`PolicyRuntime`) or a child process (:class:`RuntimeProcess`, run at
    ``scheduling`` normal | batch | idle and ``nice`` 0-19; no live attribution there).
    """

    providers: tuple[str, ...] = ('CPUExecutionProvider',)
    session: SessionSettings | None = None
    text_encoder_resident: bool = False
    worker: InferenceWorker = InferenceWorker.THREAD
    scheduling: str = 'normal'
    nice: int = 0

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, 'worker', InferenceWorker(self.worker))
        except ValueError as e:
            raise ConfigError(f'inference worker must be one of '
                              f'{[w.value for w in InferenceWorker]}, got {self.worker!r}') from e


@dataclass(frozen=True)
class RemoteLink:
    """``inference: remote``: the split's settings and ``send(frame, prefix)`` (the publisher)."""

    config: RemoteConfig
    send: Callable[[Frame, ActionPrefix | None], None]


@dataclass(frozen=True)
class PolicyStack:
    """What :func:`build_policy` built: the loop, and the sync config fitted to its bundle."""

    loop: PolicyLoop
    sync_config: SyncConfig

    @property
    def source(self) -> ChunkSource:
        """Return where the loop's chunks come from."""
        return self.loop.source


def open_runtime(bundle: Bundle, options: RuntimeOptions = RuntimeOptions()
                 ) -> PolicyRuntime | RuntimeProcess:
    """Open ``bundle``'s graphs on this host as ``options`` say (vla_policy, vla_inference)."""
    if options.worker is InferenceWorker.PROCESS:
        return RuntimeProcess(WorkerSpec(
            bundle, providers=tuple(options.providers), session=options.session,
            text_encoder_resident=options.text_encoder_resident,
            scheduling=options.scheduling, nice=int(options.nice)))
    return PolicyRuntime(bundle, providers=options.providers, session=options.session,
                         text_encoder_resident=options.text_encoder_resident)


def build_policy(bundle: Bundle | PolicyRuntime, config: PolicyConfig, *,
                 clock: Callable[[], int], sync_config: SyncConfig,
                 mask: Sequence[str] = (), runtime: RuntimeOptions = RuntimeOptions(),
                 remote: RemoteLink | None = None) -> PolicyStack:
    """
    Build the policy loop for ``bundle`` under ``config`` on the host's ``clock`` (``() -> ns``).

    ``bundle``: a loaded bundle, or a :class:`PolicyRuntime` already open on one (reused: a
    rollout plays many episodes on one runtime). ``sync_config``: the robot's synchronizer
    settings (its cameras and joints are checked; the fitted copy is returned). ``mask``:
    ``mask_modalities``. ``remote``: the graph runs on ``vla_inference``, everything else here.

    Raises :class:`ConfigError` when the bundle does not fit the robot config or the mask is
    invalid, the runtime's :class:`~vla_ros.errors.BundleError` when it cannot open.
    """
    rt = bundle if isinstance(bundle, PolicyRuntime) else None
    b = bundle.bundle if isinstance(bundle, PolicyRuntime) else bundle
    m = b.manifest
    problems = check_bundle(m, config, cameras=[c.name for c in sync_config.cameras],
                            joint_names=sync_config.joint_names)
    if problems:
        raise ConfigError('bundle does not fit the robot config: ' + '; '.join(problems))
    mask = check_mask(mask)
    trigger = resolve_trigger(config.scheduler.trigger,
                              m.input(InputKind.ACTION_PREFIX) is not None)
    config = replace(config, scheduler=replace(config.scheduler, trigger=trigger))
    attribution = None
    if remote is not None:  # attribution re-runs the graph: not on the robot (it has none)
        source: ChunkSource = RemoteChunkSource(
            b, remote.config, remote.send, clock=clock,
            inference_threshold=config.scheduler.inference_threshold,
            providers=runtime.providers, text_encoder_resident=runtime.text_encoder_resident)
    else:
        rt = rt or open_runtime(b, runtime)
        local = LocalChunkSource(rt)
        if config.attribution_rate_hz > 0 and isinstance(rt, PolicyRuntime):
            attribution = LiveAttribution(rt, config.attribution_rate_hz, lock=local.lock)
        source = (DelayedChunkSource(local, config.eval_added_latency_s)
                  if config.eval_added_latency_s > 0 else local)
    lang = source.inner if isinstance(source, DelayedChunkSource) else source
    lang = lang.runtime if isinstance(lang, LocalChunkSource) else lang
    intent = open_intent(config.command_tasks, encoder=getattr(lang, 'text_encoder', None),
                         competence=getattr(lang, 'competence', None),
                         lexicon_dir=config.command_lexicon,
                         min_score=config.command_min_score, margin=config.command_margin)
    loop = PolicyLoop(source, config, clock=clock, mask=mask, attribution=attribution,
                      intent=intent)
    return PolicyStack(loop, fit_sync(sync_config, m))
