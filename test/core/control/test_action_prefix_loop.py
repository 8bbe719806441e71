"""
The action prefix a request carries is what the scheduler executes while the chunk is computed.

PolicyLoop with a fake clock and a real delay-aware ONNX bundle behind a
:class:`DelayedChunkSource` whose delay advances the clock and keeps the control loop ticking
(as the node's control thread does while the worker infers): the latency is real for the loop.
"""

from __future__ import annotations

import dataclasses

from helpers.runtime_fixtures import full_frame
import numpy as np
import pytest
from vla_ros import constants as C
from vla_ros.core.control.adapters import AdapterConfig
from vla_ros.core.control.chunk_source import (ChunkRequest, DelayedChunkSource,
                                               LocalChunkSource)
from vla_ros.core.control.config import PolicyConfig
from vla_ros.core.control.loop import PolicyLoop
from vla_ros.core.control.prefix import delay_steps
from vla_ros.core.control.scheduler import ChunkScheduler, SchedulerConfig
from vla_ros.core.runtime.policy_runtime import PolicyRuntime

MS = 1_000_000
S = 1_000_000_000
H, DT = 10, 0.1
PERIOD_NS = 100 * MS  # control at 1/dt (control_rate_hz 0: the bundle's rate)


@pytest.fixture(scope='module')
def bundles(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    tmp = tmp_path_factory.mktemp('prefix_loop')
    return {'aware': make_random_bundle(tmp / 'aware', horizon=H, dt=DT, max_delay=8),
            'plain': make_random_bundle(tmp / 'plain', horizon=H, dt=DT)}


def test_delay_steps_rounds_up_and_stops_at_the_horizon():
    assert delay_steps(0, DT, H) == 0
    assert delay_steps(5 * MS, DT, H) == 1          # the action running at the frame stamp
    assert delay_steps(300 * MS, DT, H) == 3
    assert delay_steps(301 * MS, DT, H) == 4
    assert delay_steps(5 * S, DT, H) == H


def test_planned_is_what_next_action_serves():
    sched = ChunkScheduler(SchedulerConfig(smoothing='none'))
    chunk = np.arange(H * 2, dtype=float).reshape(H, 2)
    sched.add_chunk(chunk, 1 * S, DT)
    plan = sched.planned(1 * S + 200 * MS, 5, DT)
    np.testing.assert_array_equal(plan, chunk[2:7])
    assert sched.planned(1 * S + 800 * MS, 5, DT).shape == (2, 2)   # the chunk ends first
    served = [sched.next_action(1 * S + 200 * MS + k * 100 * MS).values for k in range(5)]
    np.testing.assert_array_equal(served, plan)
    assert ChunkScheduler().planned(0, 3, DT).shape[0] == 0


def test_planned_includes_temporal_ensembling():
    sched = ChunkScheduler(SchedulerConfig(smoothing='temporal_ensemble'))
    sched.add_chunk(np.zeros((H, 2)), 1 * S, DT)
    sched.add_chunk(np.ones((H, 2)), 1 * S + 300 * MS, DT)
    start = 1 * S + 400 * MS
    plan = sched.planned(start, 4, DT)
    served = [sched.next_action(start + k * 100 * MS).values for k in range(4)]
    np.testing.assert_allclose(plan, served)
    assert 0 < plan[0, 0] < 1                     # a mix of both chunks


class Clock:

    def __init__(self) -> None:
        self.t = 10 * S

    def __call__(self) -> int:
        return self.t


class Recorded(DelayedChunkSource):
    """The delayed source, keeping each request and the chunk it got."""

    def __init__(self, *args, **kw) -> None:
        super().__init__(*args, **kw)
        self.calls: list[tuple[ChunkRequest, np.ndarray]] = []

    def request(self, req: ChunkRequest):
        out = super().request(req)
        self.calls.append((req, out.actions))
        return out


def drive(bundle, latency_s: float, seconds: float):
    """Run the loop for ``seconds``; return (source, {tick time: served arm + gripper})."""
    clock, served = Clock(), {}
    config = PolicyConfig(
        bundle=str(bundle), control_rate_hz=10.0, scheduler=SchedulerConfig(smoothing='none'),
        adapter=AdapterConfig(joints=C.DEFAULT_ARM_JOINTS,
                              gripper_controller='gripper_controller'),
        hold_latch_s=0.5, max_command_rate_hz=0.0)
    loop: PolicyLoop | None = None

    def step(infer: bool) -> None:
        clock.t += PERIOD_NS
        out = loop.tick(clock.t)
        if out.command is not None and not out.command.hold:
            served[clock.t] = np.r_[out.command.points[0], out.command.gripper]
        frame = dataclasses.replace(full_frame(0), stamp_ns=clock.t)
        loop.on_joint_state(frame.joint_names, frame.joint_positions)
        if loop.on_frame(frame) and infer:
            loop.infer()

    def sleep(s: float) -> None:  # the inference takes s; control keeps ticking meanwhile
        for _ in range(int(round(s * 1e9 / PERIOD_NS))):
            step(infer=False)

    rt = PolicyRuntime.from_bundle(bundle)
    source = Recorded(LocalChunkSource(rt), latency_s, sleep=sleep)
    loop = PolicyLoop(source, config, clock=clock)
    loop.activate()
    loop.on_command('pick up the red cube', clock.t)
    while clock.t < 10 * S + seconds * S:
        step(infer=True)
    return loop, source, served


def test_the_prefix_is_what_the_scheduler_executes_during_the_inference(bundles):
    loop, source, served = drive(bundles['aware'], 0.3, 4.0)
    first, *rest = source.calls
    assert first[0].prefix.steps == 0             # nothing committed before the first chunk
    assert len(rest) >= 5
    for req, chunk in rest:
        p = req.prefix
        assert p.delay_steps == 3 == p.steps      # ceil(300 ms / 100 ms), covered by the chunk
        for k in range(p.steps):
            t = req.frame.stamp_ns + int(k * DT * 1e9)
            np.testing.assert_allclose(p.actions[k], served[t], atol=1e-9)
        # the chunk returned starts at the frame stamp with exactly those actions
        np.testing.assert_allclose(chunk[:p.steps], p.actions, atol=1e-5)


def test_a_bundle_without_the_input_gets_no_prefix(bundles):
    loop, source, _ = drive(bundles['plain'], 0.3, 1.5)
    assert loop.prefix is None
    assert source.calls and all(req.prefix is None for req, _ in source.calls)
