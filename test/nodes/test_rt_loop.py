"""The policy node's real-time threads: deadlines, overrun skipping, errors, sim-time jumps."""

from __future__ import annotations

import os
import threading
import time

import pytest
from rclpy.clock import Clock, ClockType
from rclpy.time import Time
from vla_ros.errors import ConfigError
from vla_ros.ros.rt_loop import ControlLoop, make_executor, thread_ids, thread_scheduling, Worker

pytestmark = pytest.mark.timeout(30)


def test_ticks_at_the_period_on_absolute_deadlines():
    stamps: list[int] = []
    loop = ControlLoop(0.01, lambda: stamps.append(time.monotonic_ns())).start()
    time.sleep(0.5)
    loop.stop()
    assert 40 <= len(stamps) <= 52, len(stamps)   # 50 expected; no drift accumulation
    span_s = (stamps[-1] - stamps[0]) * 1e-9
    assert abs(span_s / (len(stamps) - 1) - 0.01) < 0.002
    assert not loop.running


def test_late_ticks_are_skipped_not_bunched():
    calls: list[int] = []

    def slow_tick() -> None:
        calls.append(time.monotonic_ns())
        time.sleep(0.025)   # 2.5 periods

    loop = ControlLoop(0.01, slow_tick).start()
    time.sleep(0.4)
    loop.stop()
    gaps = [(b - a) * 1e-9 for a, b in zip(calls, calls[1:])]
    assert loop.overruns > 0
    assert min(gaps) >= 0.025   # never two ticks back to back to catch up


def test_a_failing_tick_is_counted_and_the_loop_keeps_running():
    n = {'calls': 0}

    def tick() -> None:
        n['calls'] += 1
        if n['calls'] % 2:
            raise RuntimeError('boom')

    loop = ControlLoop(0.01, tick).start()
    time.sleep(0.2)
    loop.stop()
    assert n['calls'] >= 10 and loop.errors == (n['calls'] + 1) // 2


def test_follows_ros_time_and_restarts_after_a_backwards_jump():
    clock = Clock(clock_type=ClockType.ROS_TIME)
    clock._set_ros_time_is_active(True)
    t = {'ns': 10_000_000_000}
    clock.set_ros_time_override(Time(nanoseconds=t['ns'], clock_type=ClockType.ROS_TIME))
    ticks: list[int] = []
    loop = ControlLoop(0.02, lambda: ticks.append(clock.now().nanoseconds), clock=clock).start()

    def advance(seconds: float, step_ns: int = 5_000_000) -> None:
        for _ in range(int(seconds * 1e9) // step_ns):
            t['ns'] += step_ns
            clock.set_ros_time_override(Time(nanoseconds=t['ns'], clock_type=ClockType.ROS_TIME))
            time.sleep(0.001)

    advance(0.2)   # 0.2 s of sim time -> about 10 ticks, however fast wall time runs
    before = len(ticks)
    assert 8 <= before <= 11, ticks
    t['ns'] = 1_000_000_000   # simulation reset: time jumps back to 1 s
    advance(0.2)
    loop.stop()
    after = ticks[before:]
    assert after and all(s < 2_000_000_000 for s in after), 'no ticks after the reset'
    assert len(after) >= 7


def test_worker_runs_once_per_wake_and_coalesces():
    started, release = threading.Event(), threading.Event()
    runs = {'n': 0}

    def fn() -> None:
        runs['n'] += 1
        started.set()
        release.wait(2)

    worker = Worker(fn).start()
    worker.wake()
    assert started.wait(2)
    for _ in range(5):   # wakes while running coalesce into one more run
        worker.wake()
    release.set()
    time.sleep(0.2)
    worker.stop()
    assert runs['n'] == 2 and worker.runs == 2


def test_bad_arguments_raise_config_errors():
    with pytest.raises(ConfigError):
        ControlLoop(0.0, lambda: None)
    with pytest.raises(ConfigError):
        make_executor('events')


@pytest.mark.parametrize('scheduling, policy, nice', [
    ('idle', 'SCHED_IDLE', 0), ('batch', 'SCHED_BATCH', 10), ('normal', 'SCHED_OTHER', 19)])
def test_worker_runs_at_the_lower_priority_it_was_given(scheduling, policy, nice):
    seen, helper_seen, done = {}, {}, threading.Event()
    stop_helper = threading.Event()

    def helper() -> None:  # stands in for an onnxruntime pool thread
        helper_seen['tid'] = threading.get_native_id()
        stop_helper.wait(5)

    h = threading.Thread(target=helper, daemon=True)
    h.start()
    while 'tid' not in helper_seen:
        time.sleep(0.001)

    def fn() -> None:
        tid = threading.get_native_id()
        seen['policy'] = os.sched_getscheduler(tid)
        seen['nice'] = os.getpriority(os.PRIO_PROCESS, tid)
        seen['helper'] = os.sched_getscheduler(helper_seen['tid'])
        done.set()

    worker = Worker(fn, scheduling=scheduling, nice=nice,
                    helper_tids=[helper_seen['tid']]).start()
    worker.wake()
    assert done.wait(2)
    worker.stop()
    stop_helper.set()
    assert seen['policy'] == seen['helper'] == getattr(os, policy)
    if scheduling != 'idle':  # SCHED_IDLE ignores nice
        assert seen['nice'] == nice
    assert os.sched_getscheduler(threading.get_native_id()) == os.SCHED_OTHER  # only them


def test_thread_ids_lists_this_process_threads():
    assert threading.get_native_id() in thread_ids()


def test_bad_thread_settings_raise_config_errors():
    with pytest.raises(ConfigError, match="scheduling must be one of .* got 'fifo'"):
        Worker(lambda: None, scheduling='fifo')
    with pytest.raises(ConfigError, match='nice must be in 0..19, got 20'):
        thread_scheduling('normal', 20)
