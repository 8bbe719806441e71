"""
build_policy: one bundle is configured one way (bundle checks, sync fitting, chunk sources).

The node (local and remote), the simulator rollout and the benchmarks all build their policy
loop here; a scan of the package and the benchmarks keeps it that way.
"""

from __future__ import annotations

import ast
import pathlib

import numpy as np
import pytest
from vla_ros import constants as C
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.control.adapters import AdapterConfig
from vla_ros.core.control.chunk_source import DelayedChunkSource, LocalChunkSource
from vla_ros.core.control.config import PolicyConfig
from vla_ros.core.control.scheduler import SchedulerConfig
from vla_ros.core.policy import build_policy, RemoteLink
from vla_ros.core.remote.source import RemoteChunkSource
from vla_ros.core.remote.wire import chunk_age_limit, RemoteConfig
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.core.sync.config import CameraConfig, SyncConfig
from vla_ros.errors import ConfigError

ROOT = pathlib.Path(__file__).resolve().parents[2]
BUILT_ONLY_BY_THE_FACTORY = ('PolicyLoop', 'LocalChunkSource', 'RemoteChunkSource',
                             'DelayedChunkSource')


@pytest.fixture(scope='module')
def bundle(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    return make_random_bundle(tmp_path_factory.mktemp('factory') / 'b')


def config(bundle, **kw) -> PolicyConfig:
    return PolicyConfig(bundle=str(bundle), control_rate_hz=50.0,
                        adapter=AdapterConfig(joints=C.DEFAULT_ARM_JOINTS,
                                              gripper_controller='gripper_controller'),
                        **kw)


def build(bundle, cfg: PolicyConfig, **kw):
    return build_policy(load_bundle(bundle), cfg, clock=lambda: 0,
                        sync_config=kw.pop('sync_config', SyncConfig()), **kw)


def test_a_local_policy_runs_here_with_the_sync_config_fitted_to_its_bundle(bundle):
    stack = build(bundle, config(bundle, attribution_rate_hz=0.0))
    assert isinstance(stack.source, LocalChunkSource) and stack.loop.attribution is None
    assert build(bundle, config(bundle)).loop.attribution is not None  # the default: 1 Hz
    m = stack.loop.manifest
    tactile = next((s for s in m.inputs if s.kind == 'tactile'), None)
    if tactile is not None:  # readings the policy cannot use are rejected at ingest
        assert stack.sync_config.tactile_size == int(np.prod(tactile.shape[1:]))
    assert stack.sync_config.history_frames == (1 if m.history is None else m.history.frames)


def test_a_bundle_that_does_not_fit_the_robot_or_a_bad_mask_is_refused(bundle):
    with pytest.raises(ConfigError, match="does not fit the robot config.*'front'"):
        build(bundle, config(bundle), sync_config=SyncConfig(cameras=(CameraConfig('top'),)))
    with pytest.raises(ConfigError, match='does not fit the robot config.*elbow'):
        build(bundle, PolicyConfig(bundle=str(bundle), adapter=AdapterConfig(joints=('elbow',))))
    with pytest.raises(ConfigError, match='cannot mask'):
        build(bundle, config(bundle), mask=('joints',))


def test_attribution_and_the_added_latency_go_around_the_local_runtime(bundle):
    rt = PolicyRuntime.from_bundle(bundle)
    stack = build_policy(rt, config(bundle, attribution_rate_hz=5.0, eval_added_latency_s=0.01),
                         clock=lambda: 0, sync_config=SyncConfig())
    src = stack.source
    assert isinstance(src, DelayedChunkSource) and src.delay_s == 0.01
    assert isinstance(src.inner, LocalChunkSource) and src.inner.runtime is rt  # reused
    assert stack.loop.attribution is not None


def test_a_remote_policy_sends_its_frames_and_never_attributes(bundle):
    sent: list = []
    cfg = config(bundle, attribution_rate_hz=5.0, eval_added_latency_s=0.01)
    stack = build(bundle, cfg, remote=RemoteLink(RemoteConfig(), lambda f, p: sent.append(f)))
    m, src = stack.loop.manifest, stack.source
    assert isinstance(src, RemoteChunkSource) and stack.loop.attribution is None
    assert src.max_chunk_age_s == chunk_age_limit(0.0, m.horizon, m.dt,
                                                  cfg.scheduler.inference_threshold)
    with pytest.raises(ConfigError, match='sync'):
        build(bundle, config(bundle, scheduler=SchedulerConfig(mode='sync')),
              remote=RemoteLink(RemoteConfig(), lambda f, p: sent.append(f)))


def test_only_the_factory_builds_policy_loops_and_chunk_sources():
    """A second place that builds a PolicyLoop could configure one bundle differently."""
    factory = ROOT / 'vla_ros' / 'core' / 'policy.py'
    assert {n for _, n in _built(factory)} == set(BUILT_ONLY_BY_THE_FACTORY)  # not blind
    files = sorted([*(ROOT / 'vla_ros').rglob('*.py'), *(ROOT / 'bench').glob('*.py')])
    wrong = [f'{path.relative_to(ROOT)}:{line}: {name}(...)'
             for path in files if path != factory for line, name in _built(path)]
    assert not wrong, '\n'.join(wrong)


def _built(path: pathlib.Path) -> list[tuple[int, str]]:
    """(line, class) of every call in ``path`` that builds a loop or a chunk source."""
    out = []
    for call in ast.walk(ast.parse(path.read_text())):
        if isinstance(call, ast.Call):
            f = call.func
            name = f.id if isinstance(f, ast.Name) else getattr(f, 'attr', '')
            if name in BUILT_ONLY_BY_THE_FACTORY:
                out.append((call.lineno, name))
    return out
