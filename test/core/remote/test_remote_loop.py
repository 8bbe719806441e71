"""
The robot side of the split without ROS: PolicyLoop on a RemoteChunkSource, a fake clock.

The "server" is a real PolicyRuntime on the same bundle, called by the test where a network
would deliver; what the robot does with late, lost, foreign and superseded chunks is checked
tick by tick.
"""

from __future__ import annotations

import dataclasses

from helpers.runtime_fixtures import full_frame
import numpy as np
import pytest
from vla_ros import constants as C
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.control.adapters import AdapterConfig
from vla_ros.core.control.chunk_source import ChunkRequest, LocalChunkSource
from vla_ros.core.control.config import PolicyConfig
from vla_ros.core.control.loop import PolicyLoop
from vla_ros.core.control.safety import SafetyState
from vla_ros.core.control.scheduler import SchedulerConfig
from vla_ros.core.remote.source import RemoteChunkSource
from vla_ros.core.remote.wire import RemoteConfig
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.errors import ConfigError, InputMismatchError

MS = 1_000_000
PERIOD_NS = 20 * MS  # 50 Hz control
MAX_AGE_S = 0.1
LATCH_S = 0.3


@pytest.fixture(scope='module')
def bundle(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    return make_random_bundle(tmp_path_factory.mktemp('remote') / 'b')


@pytest.fixture(scope='module')
def server(bundle):
    return PolicyRuntime.from_bundle(bundle)


def config(bundle, **kw) -> PolicyConfig:
    return PolicyConfig(
        bundle=str(bundle), control_rate_hz=50.0,
        adapter=AdapterConfig(joints=C.DEFAULT_ARM_JOINTS,
                              gripper_controller='gripper_controller'),
        **{'hold_latch_s': LATCH_S, 'max_command_rate_hz': 0.0,
           'scheduler': SchedulerConfig(smoothing='none'), **kw})


class Robot:
    """A PolicyLoop on a remote source, its clock and the requests it sent (the network)."""

    def __init__(self, bundle, **kw) -> None:
        self.t = 10_000 * MS
        self.sent: list = []      # the frames of the requests
        self.prefixes: list = []  # and their action prefixes (None: the bundle takes none)
        cfg = config(bundle, **kw)
        self.source = RemoteChunkSource(
            load_bundle(bundle), RemoteConfig(max_chunk_age_s=MAX_AGE_S), self._send,
            clock=lambda: self.t, inference_threshold=cfg.scheduler.inference_threshold)
        self.loop = PolicyLoop(self.source, cfg, clock=lambda: self.t)
        self.loop.activate()

    def _send(self, frame, prefix) -> None:
        self.sent.append(frame)
        self.prefixes.append(prefix)

    def frame(self):
        f = dataclasses.replace(full_frame(0), stamp_ns=self.t)
        self.loop.on_joint_state(f.joint_names, f.joint_positions)
        if self.loop.on_frame(f):
            self.loop.infer()

    def answer(self, server, *, request=-1, **override):
        """Deliver the server's chunk for one request (default: the newest)."""
        f = self.sent[request]
        out = server.infer(f, self.prefixes[request])
        m = server.manifest
        actions = override.pop('actions', out.actions)
        kw = {'kind': out.kind, 'names': m.action_names, 'dt': out.dt, 'model_id': m.model_id}
        kw.update(override)
        return self.source.on_chunk(f.stamp_ns, actions, **kw)

    def tick(self, n: int = 1):
        for _ in range(n):
            self.t += PERIOD_NS
            out = self.loop.tick(self.t)
        return out


def test_the_remote_chunk_equals_the_local_one(bundle, server):
    robot = Robot(bundle)
    local = PolicyLoop(LocalChunkSource(PolicyRuntime.from_bundle(bundle)), config(bundle),
                       clock=lambda: robot.t)
    local.activate()
    for loop in (robot.loop, local):
        loop.on_command('pick up the red cube', robot.t)
    robot.frame()
    assert len(robot.sent) == 1 and robot.sent[0].command == 'pick up the red cube'
    res = robot.answer(server)
    f = dataclasses.replace(full_frame(0), stamp_ns=robot.t)
    local.on_frame(f)
    ref = local.infer(f)
    np.testing.assert_array_equal(res.actions, ref.actions)
    assert robot.tick().state is SafetyState.RUNNING
    assert robot.source.counters.chunks == 1


def test_no_chunk_for_max_chunk_age_holds_then_a_new_command_is_needed(bundle, server):
    robot = Robot(bundle)
    robot.loop.on_command('pick up the red cube', robot.t)
    robot.frame()
    robot.answer(server)
    ticks_to_hold = None
    for k in range(1, 200):  # the link is down: frames still come, chunks do not
        robot.frame()
        out = robot.tick()
        if out.state is SafetyState.HOLDING and 'no chunk' in out.reason:
            ticks_to_hold = k
            break
    assert ticks_to_hold is not None
    # the hold comes within max_chunk_age_s + one control period of the last chunk
    assert ticks_to_hold * PERIOD_NS <= MAX_AGE_S * 1e9 + PERIOD_NS
    assert out.command is not None and out.command.hold
    for _ in range(int(LATCH_S * 1e9 / PERIOD_NS) + 2):
        robot.frame()
        out = robot.tick()
    assert out.state is SafetyState.IDLE and 'send a new command' in out.reason
    lost = robot.source.counters.lost
    assert lost >= 1  # unanswered requests were given up and asked again
    # the link is back: a chunk for a frame sent now is not obeyed without a new command
    robot.frame()
    if robot.sent:
        robot.answer(server)
    assert robot.tick(5).state is SafetyState.IDLE
    robot.loop.on_command('pick up the red cube', robot.t)
    robot.frame()
    robot.answer(server)
    assert robot.tick().state is SafetyState.RUNNING


def test_late_foreign_unknown_and_superseded_chunks_are_dropped_and_counted(bundle, server):
    robot = Robot(bundle)
    c = robot.source.counters
    robot.loop.on_command('pick up the red cube', robot.t)
    robot.frame()
    robot.t += int(MAX_AGE_S * 1e9) + MS  # the chunk arrives after max_chunk_age_s
    assert robot.answer(server) is None and c.stale == 1
    assert robot.answer(server) is None and c.unknown == 1  # already taken
    robot.t += MS
    robot.frame()
    assert robot.answer(server, model_id='other-model') is None and c.rejected == 1
    robot.t += MS
    robot.frame()
    robot.loop.on_command('pick up the blue cube', robot.t)  # the command changed meanwhile
    assert robot.answer(server) is None and c.superseded == 1
    bad = np.full((robot.loop.manifest.horizon, 7), np.nan)
    robot.t += MS
    robot.frame()
    assert robot.answer(server, actions=bad) is None and c.rejected == 2
    assert robot.tick().command is None or robot.tick().command.hold
    assert c.chunks == 0 and robot.loop.counters.chunks == 0


def test_sync_scheduler_mode_is_refused(bundle):
    with pytest.raises(ConfigError, match='sync'):
        Robot(bundle, scheduler=SchedulerConfig(mode='sync'))


def test_the_remote_source_sends_and_answers_later(bundle):
    sent: list = []
    source = RemoteChunkSource(load_bundle(bundle), RemoteConfig(),
                               lambda f, p: sent.append((f, p)), clock=lambda: 0,
                               inference_threshold=4)
    f = full_frame(0)
    assert source.request(ChunkRequest(f, 0, f.command, 0)) is None and sent == [(f, None)]
    assert source.max_chunk_age_s > 0 and source.name == 'vla_inference'


def test_a_frame_the_server_would_refuse_is_a_frame_problem_here(bundle):
    robot = Robot(bundle)
    robot.loop.on_command('pick up the red cube', robot.t)
    assert 'joints' in robot.loop.manifest.required_modalities
    f = dataclasses.replace(full_frame(0, joints=False), stamp_ns=robot.t)
    assert robot.loop.on_frame(f)
    with pytest.raises(InputMismatchError, match='joints'):
        robot.loop.infer()
    assert robot.sent == [] and robot.loop.counters.rejected_frames == 1
    out = robot.tick()
    assert out.state is SafetyState.HOLDING and 'required modalities' in out.reason
    robot.t += MS
    robot.frame()  # the next good frame is sent at once (nothing in flight)
    assert len(robot.sent) == 1


def test_a_delay_aware_robot_sends_the_actions_it_commits(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    aware = make_random_bundle(tmp_path_factory.mktemp('remote_prefix') / 'aware', horizon=10,
                               dt=0.1, max_delay=6)
    robot, server = Robot(aware), PolicyRuntime.from_bundle(aware)
    robot.loop.on_command('pick up the red cube', robot.t)
    robot.frame()
    assert robot.prefixes[0].steps == 0  # no latency measured yet: nothing committed
    robot.t += 5 * PERIOD_NS  # the chunk arrives 100 ms after its frame
    assert robot.answer(server) is not None
    robot.tick(12)
    robot.frame()
    assert len(robot.sent) == 2
    sent = robot.prefixes[1]
    assert sent.steps == 1 and sent.delay_steps == 1  # ceil(100 ms / dt)
    planned = robot.loop.scheduler.planned(robot.sent[1].stamp_ns, 1, 0.1)
    np.testing.assert_allclose(sent.actions, planned)
    res = robot.answer(server)  # the server infers with it (vla_inference: test_inference_prefix)
    np.testing.assert_allclose(res.actions, server.infer(robot.sent[1], sent).actions)
