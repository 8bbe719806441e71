"""
vla_policy fails closed.

A NaN-producing bundle faults without motion; dry_run publishes only the ~/action_chunk
preview; the synchronous debug mode still drives the controller.
"""

from __future__ import annotations

from helpers.policy_graph import CONTROL_HZ, start_graph
import numpy as np
import pytest
from vla_ros.harness.procs import wait_until

pytestmark = [pytest.mark.ros, pytest.mark.slow]


def _run(tmp_path, bundle, policy, lis, until, command='pick up the red cube',
         timeout_s=15.0):
    """Start the graph, send ``command``, wait until ``until()`` holds; returns the log."""
    procs = start_graph(tmp_path, bundle, policy)
    try:
        assert lis.wait_state('idle', 30.0), procs[1].log_tail()
        lis.command(command)
        assert wait_until(until, timeout_s), procs[1].log_tail()
        return procs[1].log_tail()
    finally:
        for p in procs:
            p.stop()


def _statuses_after(lis, state: str, n: int) -> bool:
    """``n`` status messages arrived after the first one in ``state`` (time has passed there)."""
    times = [t for t, s in lis.status if s.state_name == state]
    return bool(times) and len(lis.since(lis.status, times[0])) > n


@pytest.mark.timeout(90)
def test_nan_bundle_faults_and_never_moves(tmp_path, listener):
    from helpers.bundles import make_random_bundle
    bundle = make_random_bundle(tmp_path / 'nan', nan_output=True)
    # a fault, then two more status messages (1 s at 2 Hz) in which nothing may move
    log = _run(tmp_path, bundle, {}, listener, lambda: _statuses_after(listener, 'fault', 2))
    states = [s for _, s in listener.status]
    assert any(s.state_name == 'fault' for s in states), log
    fault = next(s for s in states if s.state_name == 'fault')
    assert 'non-finite' in fault.reason or 'NaN' in fault.reason
    assert listener.last_status().state_name == 'fault'
    assert not listener.chunks, 'a NaN chunk was published'
    # it never moved, so nothing (not even a hold) was sent to the controllers
    assert not listener.traj and not listener.gripper


@pytest.mark.timeout(90)
def test_dry_run_publishes_only_the_preview(tmp_path, listener):
    from helpers.bundles import make_random_bundle
    bundle = make_random_bundle(tmp_path / 'b')
    _run(tmp_path, bundle, {'dry_run': True}, listener, lambda: len(listener.chunks) >= 3)
    assert not listener.traj and not listener.gripper
    s = listener.last_status()
    assert s.dry_run and s.state_name in ('running', 'holding')
    c = listener.chunks[-1][1]
    assert c.horizon == 16 and len(c.values) == 16 * len(c.action_names)
    assert np.all(np.isfinite(c.values)) and c.dt == pytest.approx(0.02)


@pytest.mark.timeout(90)
def test_sync_mode_and_chunk_trajectories(tmp_path, listener):
    from helpers.bundles import make_random_bundle
    bundle = make_random_bundle(tmp_path / 'b')
    _run(tmp_path, bundle, {'scheduler.mode': 'sync', 'controller.trajectory_mode': 'chunk'},
         listener, lambda: sum(len(m.points) > 1 for _, m in listener.traj) > 10
         and listener.last_status().chunks >= 3)
    moving = [m for _, m in listener.traj if len(m.points) > 1]
    t = [p.time_from_start.sec + p.time_from_start.nanosec * 1e-9 for p in moving[0].points]
    assert t[0] == pytest.approx(1.0 / CONTROL_HZ) and np.all(np.diff(t) > 0)
    # sync mode: one inference per used-up chunk, in the tick
    assert listener.last_status().inference_rate_hz > 0
