"""
vla_policy with ``inference_worker: process``: the graph in a child process.

Chunks and commands flow as with the in-process worker, the executor thread runs at
``executor_priority`` and the child at normal scheduling; SIGINT stops the node and its worker
(exit 0, no child left); a worker killed mid-run faults the policy (the robot holds).
"""

from __future__ import annotations

import os
from pathlib import Path
import signal
import time

from helpers.policy_graph import start_graph
import pytest
from vla_ros.harness.procs import wait_until

pytestmark = [pytest.mark.ros, pytest.mark.slow]
PROCESS = {'inference_worker': 'process'}


@pytest.fixture(scope='module')
def bundle(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    return make_random_bundle(tmp_path_factory.mktemp('bundle'))


def _worker_pid(node_pid: int) -> int | None:
    """Return the inference worker among the node's child processes (None: none runs)."""
    for task in Path(f'/proc/{node_pid}/task').glob('*'):
        try:
            children = (task / 'children').read_text().split()
        except OSError:
            continue
        for pid in children:
            try:
                cmd = Path(f'/proc/{pid}/cmdline').read_bytes()
            except OSError:
                continue
            if b'worker_process' in cmd:
                return int(pid)
    return None


def _gone(pid: int) -> bool:
    try:
        return Path(f'/proc/{pid}/stat').read_text().split()[2] == 'Z'
    except OSError:
        return True


def _start(tmp_path, bundle, lis):
    procs = start_graph(tmp_path, bundle, PROCESS)
    assert lis.wait_state('idle', 60.0), procs[1].log_tail()
    lis.command('pick up the red cube')
    assert lis.wait_state('running', 20.0), procs[1].log_tail()
    assert wait_until(lambda: len(lis.chunks) >= 3 and len(lis.traj) >= 20, 15.0), \
        procs[1].log_tail()
    return procs


@pytest.mark.timeout(120)
def test_chunks_flow_and_sigint_stops_the_worker_too(tmp_path, bundle, listener):
    procs = _start(tmp_path, bundle, listener)
    try:
        node = procs[1].proc.pid
        pid = _worker_pid(node)
        assert pid is not None, 'no inference worker process under vla_policy'
        # executor_priority: the executor thread (the main one here) at SCHED_FIFO 40, the
        # worker process it started back at normal scheduling (root here: FIFO is allowed)
        assert os.sched_getscheduler(node) == os.SCHED_FIFO
        assert os.sched_getparam(node).sched_priority == 40
        assert os.sched_getscheduler(pid) == os.SCHED_OTHER
        assert wait_until(lambda: listener.last_status().chunks >= 3, 5.0)
        code = procs[1].stop()  # SIGINT to the group: the worker ignores it, the node closes it
        assert code == 0, procs[1].log_tail()
        assert wait_until(lambda: _gone(pid), 10.0)
    finally:
        for p in procs:
            p.stop()


@pytest.mark.timeout(120)
def test_a_killed_worker_faults_the_policy(tmp_path, bundle, listener):
    procs = _start(tmp_path, bundle, listener)
    try:
        pid = _worker_pid(procs[1].proc.pid)
        os.kill(pid, signal.SIGKILL)
        assert listener.wait_state('fault', 10.0), procs[1].log_tail()
        s = listener.last_status()
        assert 'worker process' in s.reason and 'died' in s.reason, s.reason
        t = time.monotonic()  # it stays faulted, and the node itself lives on
        time.sleep(1.0)
        assert all(m.state_name == 'fault' for _, m in listener.since(listener.status, t))
        assert procs[1].alive()
    finally:
        for p in procs:
            p.stop()
