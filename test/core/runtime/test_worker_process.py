"""RuntimeProcess: the policy graph in a child process (real onnxruntime, real processes)."""

from __future__ import annotations

import dataclasses
import os
import signal
import subprocess
import sys
import textwrap
import time

from helpers.runtime_fixtures import full_frame
import numpy as np
import pytest
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.core.runtime.worker_process import RuntimeProcess, SHM_DIR, WorkerSpec
from vla_ros.errors import (ConfigError, InputMismatchError, ProcessError,
                            UnsupportedProviderError)

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope='module')
def bundle(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    return load_bundle(make_random_bundle(tmp_path_factory.mktemp('bundle')))


@pytest.fixture
def worker(bundle):
    rp = RuntimeProcess(WorkerSpec(bundle))
    try:
        yield rp
    finally:
        rp.close()


def _shm_block(rp: RuntimeProcess):
    return SHM_DIR / rp._shm.name.lstrip('/')  # noqa: SLF001 - where the frame went


def test_chunks_match_the_in_process_runtime_and_errors_come_back(bundle, worker):
    here = PolicyRuntime(bundle)
    for rt in (here, worker):
        rt.set_command('pick up the red cube')
    f = full_frame()
    a, b = here.infer(f), worker.infer(f)
    np.testing.assert_array_equal(a.actions, b.actions)
    assert (b.action_names, b.kind, b.frame_stamp_ns) == (a.action_names, a.kind, f.stamp_ns)
    assert set(b.timings_ms) == {'preprocess', 'run', 'postprocess', 'total'}
    # a non-contiguous image view (bgr8 as the node sees it) and a larger frame: the shared
    # block grows, the answer still matches
    big = dataclasses.replace(f, images={'front': np.ascontiguousarray(
        np.random.default_rng(1).integers(0, 255, (480, 640, 3), dtype=np.uint8))[..., ::-1]})
    np.testing.assert_array_equal(here.infer(big).actions, worker.infer(big).actions)
    assert worker._shm.size >= 480 * 640 * 3  # noqa: SLF001
    # the child's errors arrive as the runtime's own, and the worker keeps serving
    with pytest.raises(InputMismatchError, match='NaN'):
        worker.infer(dataclasses.replace(f, joint_positions=np.full(7, np.nan)))
    np.testing.assert_array_equal(worker.infer(f).actions, a.actions)
    block = _shm_block(worker)
    worker.close()
    worker.close()  # idempotent
    assert worker.process.poll() is not None and not block.exists()
    with pytest.raises(ProcessError, match='closed'):
        worker.infer(f)


def test_a_dead_worker_fails_every_call(worker):
    worker.infer(full_frame())
    os.kill(worker.process.pid, signal.SIGKILL)
    worker.process.wait(10)
    with pytest.raises(ProcessError, match=r'died \(exit code -9\)'):
        worker.infer(full_frame())
    with pytest.raises(ProcessError, match='died'):
        worker.set_command('pick up the red cube')
    assert not worker.alive


def test_open_errors_are_raised_by_the_constructor(bundle):
    with pytest.raises(UnsupportedProviderError, match='NoSuch'):
        RuntimeProcess(WorkerSpec(bundle, providers=('NoSuchExecutionProvider',)))
    with pytest.raises(ConfigError, match='nice'):
        WorkerSpec(bundle, nice=20)
    with pytest.raises(ConfigError, match='scheduling'):
        WorkerSpec(bundle, scheduling='fifo')


def test_the_child_exits_when_its_host_dies(bundle):
    code = textwrap.dedent(f"""
        import os, sys
        sys.path[:0] = {sys.path!r}
        from vla_ros.core.bundle.manifest import load_bundle
        from vla_ros.core.runtime.worker_process import RuntimeProcess, WorkerSpec
        rp = RuntimeProcess(WorkerSpec(load_bundle({str(bundle.path)!r}), nice=5))
        print(rp.process.pid, os.getpriority(os.PRIO_PROCESS, rp.process.pid), flush=True)
        os._exit(0)  # no close(): the pipes close with this process
    """)
    res = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    pid, nice = (int(x) for x in res.stdout.split())
    assert nice == 5
    end = time.monotonic() + 10.0
    while _alive(pid) and time.monotonic() < end:
        time.sleep(0.05)
    assert not _alive(pid)


def _alive(pid: int) -> bool:
    try:
        with open(f'/proc/{pid}/stat') as f:
            return f.read().split()[2] != 'Z'
    except FileNotFoundError:
        return False
