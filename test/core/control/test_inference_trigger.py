"""
When the policy loop asks for a new chunk.

The frame trigger and its rate cap, and the evaluation-only added latency, a wrapper around the
chunk source built by ``build_policy`` (a tiny random bundle, a fake clock, no ROS).
"""

from __future__ import annotations

import dataclasses
import time

from helpers.runtime_fixtures import full_frame, JOINTS
import pytest
from vla_ros import constants as C
from vla_ros.core.control.adapters import AdapterConfig
from vla_ros.core.control.chunk_source import DelayedChunkSource, LocalChunkSource
from vla_ros.core.control.config import PolicyConfig
from vla_ros.core.control.loop import PolicyLoop
from vla_ros.core.control.scheduler import SchedulerConfig
from vla_ros.core.policy import build_policy
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.core.sync.config import SyncConfig
from vla_ros.errors import ConfigError

MS = 1_000_000


@pytest.fixture(scope='module')
def bundle(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    return make_random_bundle(tmp_path_factory.mktemp('trigger'))


def make_loop(bundle, *, added_latency_s: float = 0.0,
              **sched) -> tuple[PolicyLoop, list[int]]:
    clock = [10_000 * MS]
    cfg = PolicyConfig(bundle=str(bundle), control_rate_hz=50.0,
                       scheduler=SchedulerConfig(smoothing='none', **sched),
                       adapter=AdapterConfig(joints=C.DEFAULT_ARM_JOINTS,
                                             gripper_controller='gripper_controller'),
                       max_command_rate_hz=0.0, eval_added_latency_s=added_latency_s)
    if added_latency_s > 0:  # as the node builds it
        loop = build_policy(PolicyRuntime.from_bundle(bundle), cfg, clock=lambda: clock[0],
                            sync_config=SyncConfig()).loop
    else:
        loop = PolicyLoop(LocalChunkSource(PolicyRuntime.from_bundle(bundle)), cfg,
                          clock=lambda: clock[0])
    loop.activate()
    loop.on_command('pick up the red cube', clock[0])
    return loop, clock


def frame(loop: PolicyLoop, t: int) -> bool:
    """Feed a frame stamped ``t``; run the chunk when one is wanted; True when it was."""
    f = dataclasses.replace(full_frame(t % 1000), stamp_ns=t)
    loop.on_joint_state(JOINTS, f.joint_positions)
    wanted = loop.on_frame(f)
    if wanted:
        loop.infer()
    return wanted


def requests(loop: PolicyLoop, clock: list[int], n: int, period_ms: int) -> list[bool]:
    out = []
    for _ in range(n):
        clock[0] += period_ms * MS
        out.append(frame(loop, clock[0]))
        loop.tick(clock[0])
    return out


def test_threshold_trigger_waits_for_the_chunk_to_run_low(bundle):
    loop, clock = make_loop(bundle, inference_threshold=4, trigger='threshold')  # H 16 x 20 ms
    got = requests(loop, clock, 10, 20)
    assert got[0] and not any(got[1:10])  # 10 frames in 200 ms: 16 - 10 > 4 actions left


def test_frame_trigger_starts_a_chunk_on_every_new_frame(bundle):
    loop, clock = make_loop(bundle, inference_threshold=4, trigger='frame')
    assert all(requests(loop, clock, 10, 20))


def test_frame_trigger_rate_cap(bundle):
    loop, clock = make_loop(bundle, inference_threshold=4, trigger='frame',
                            max_inference_rate_hz=10.0)
    got = requests(loop, clock, 20, 20)       # frames at 50 Hz, capped at 10 Hz
    assert sum(got) == pytest.approx(4, abs=1)


def test_added_latency_delays_every_chunk_and_is_validated(bundle):
    loop, clock = make_loop(bundle, added_latency_s=0.15)
    assert isinstance(loop.source, DelayedChunkSource) and loop.source.delay_s == 0.15
    clock[0] += 20 * MS
    t0 = time.monotonic()
    assert frame(loop, clock[0])
    assert time.monotonic() - t0 >= 0.15
    assert loop.counters.chunks == 1
    assert not isinstance(make_loop(bundle)[0].source, DelayedChunkSource)
    with pytest.raises(ConfigError, match='eval_added_latency_s'):
        dataclasses.replace(loop.config, eval_added_latency_s=-1.0)
    with pytest.raises(ConfigError, match='max_inference_rate_hz'):
        SchedulerConfig(max_inference_rate_hz=-1.0)


def test_auto_trigger_re_plans_on_frames_only_while_the_latency_is_short(bundle):
    # H = 16 actions 20 ms apart: a 320 ms chunk; auto re-plans on frames up to 80 ms
    for latency_ms, every_frame in ((10, True), (120, False)):
        loop, clock = make_loop(bundle, inference_threshold=4, trigger='auto')
        got = []
        for _ in range(10):
            clock[0] += 20 * MS
            f = dataclasses.replace(full_frame(0), stamp_ns=clock[0])
            loop.on_joint_state(JOINTS, f.joint_positions)
            wanted = loop.on_frame(f)
            if wanted:   # the chunk lands latency_ms after its frame
                clock[0] += latency_ms * MS
                loop.infer()
            got.append(wanted)
            loop.tick(clock[0])
        if every_frame:
            assert all(got), got
        else:   # threshold: again only when fewer than 4 of the 16 actions remain
            assert got[0] and not any(got[1:6]) and sum(got) <= 3, got


def test_auto_trigger_is_frame_always_for_a_bundle_that_takes_a_prefix(bundle, tmp_path):
    from helpers.bundles import make_random_bundle
    prefixed = make_random_bundle(tmp_path / 'prefix', max_delay=8)
    for b, expected in ((bundle, 'auto'), (prefixed, 'frame')):
        cfg = PolicyConfig(bundle=str(b), scheduler=SchedulerConfig(trigger='auto'),
                           adapter=AdapterConfig(joints=C.DEFAULT_ARM_JOINTS,
                                                 gripper_controller='gripper_controller'))
        loop = build_policy(PolicyRuntime.from_bundle(b), cfg, clock=lambda: 0,
                            sync_config=SyncConfig()).loop
        assert loop.config.scheduler.trigger.value == expected
