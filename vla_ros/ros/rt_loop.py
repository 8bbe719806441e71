"""
Real-time threads of ``vla_policy``, outside the rclpy executor.

- :class:`ControlLoop`: calls ``tick()`` every ``period_s`` on absolute deadlines (no drift,
  no executor in the wake-up path). Wall clock: ``time.monotonic_ns``. With ``use_sim_time``
  it follows the node's ROS clock: woken by the clock's jump callbacks (every ``/clock``
  message), a backwards jump (simulation reset) restarts the schedule.
- :class:`Worker`: a thread that runs ``fn()`` each time it is woken (the inference worker:
  a fresh frame wakes it at once, it never waits for a tick or an executor round trip). It can
  run at a lower CPU priority (:class:`ThreadScheduling`, nice), together with the threads
  onnxruntime created for it (:func:`thread_ids` before/after the session was opened).

Missed deadlines are skipped, not bunched (what an rcl timer does too) and counted. Both are
stopped (and joined) before their node is destroyed; a step still running after the join
timeout finds its publishers gone, which is then an exit, not a fault (:data:`GONE_ERRORS`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from enum import Enum
import os
import threading
import time

from rclpy.clock import JumpThreshold
from rclpy.duration import Duration
from rclpy.exceptions import InvalidHandle
from rclpy.executors import MultiThreadedExecutor, SingleThreadedExecutor
from rclpy.impl.implementation_singleton import rclpy_implementation as _rclpy
from vla_ros.errors import ConfigError

LOG_THROTTLE_S = 2.0
# What a publish raises once its node is destroyed (InvalidHandle) or the context is shut down
# (RCLError): expected only from a step that outlived stop()'s join timeout.
GONE_ERRORS = (InvalidHandle, _rclpy.RCLError)


class ThreadScheduling(str, Enum):
    """Linux scheduling class of the inference threads (the control thread has its own)."""

    NORMAL = 'normal'  # SCHED_OTHER at the given nice value
    BATCH = 'batch'    # SCHED_BATCH: CPU-bound, never preempts a thread that just woke
    IDLE = 'idle'      # SCHED_IDLE: runs only when nothing else wants the CPU


_POLICIES = {ThreadScheduling.NORMAL: 'SCHED_OTHER', ThreadScheduling.BATCH: 'SCHED_BATCH',
             ThreadScheduling.IDLE: 'SCHED_IDLE'}


def thread_ids() -> set[int]:
    """Kernel thread ids of this process (Linux; empty elsewhere)."""
    try:
        return {int(t) for t in os.listdir('/proc/self/task')}
    except OSError:
        return set()


def thread_scheduling(scheduling: ThreadScheduling | str, nice: int) -> ThreadScheduling:
    """Validate a scheduling class and nice value (ConfigError quotes bad ones)."""
    try:
        sched = ThreadScheduling(scheduling)
    except ValueError as e:
        raise ConfigError(f'scheduling must be one of {[s.value for s in ThreadScheduling]}, '
                          f'got {scheduling!r}') from e
    if not 0 <= int(nice) <= 19:
        raise ConfigError(f'nice must be in 0..19, got {nice!r}')
    return sched


def set_thread_scheduling(tid: int, scheduling: ThreadScheduling | str, nice: int) -> None:
    """
    Put kernel thread ``tid`` of this process in ``scheduling`` at ``nice`` (0-19).

    Lowering a priority needs no privilege. Raises ConfigError for bad values, OSError when
    the kernel refuses.
    """
    sched = thread_scheduling(scheduling, nice)
    policy = getattr(os, _POLICIES[sched], None)
    if policy is None:
        raise OSError(f'{_POLICIES[sched]} is not available on this platform')
    os.sched_setscheduler(tid, policy, os.sched_param(0))
    os.setpriority(os.PRIO_PROCESS, tid, int(nice))  # per thread on Linux


def set_fifo_priority(priority: int, *, logger=None, what: str = 'this thread') -> bool:
    """
    Put the calling thread in SCHED_FIFO at ``priority`` (1-99); True when the kernel agreed.

    Needs CAP_SYS_NICE or an rtprio limit; without them it logs a warning (``logger``) and the
    thread keeps normal scheduling. Threads it starts later inherit the class.
    """
    try:  # pid 0 = the calling thread on Linux
        os.sched_setscheduler(0, os.SCHED_FIFO, os.sched_param(int(priority)))
        return True
    except (AttributeError, OSError) as e:
        if logger is not None:
            logger.warning(f'{what} stays at normal priority: SCHED_FIFO {priority} refused '
                           f'({e})')
        return False


def normal_scheduling() -> None:
    """Put the calling thread back in SCHED_OTHER if it inherited a real-time class."""
    rt = {getattr(os, n, None) for n in ('SCHED_FIFO', 'SCHED_RR')} - {None}
    if hasattr(os, 'sched_getscheduler') and os.sched_getscheduler(0) in rt:
        os.sched_setscheduler(0, os.SCHED_OTHER, os.sched_param(0))


class ControlLoop:
    """
    Periodic ``tick()`` in its own thread.

    :param period_s: tick period [s].
    :param tick: called once per period in the loop thread; exceptions are logged, not fatal.
    :param clock: an rclpy ``Clock`` to follow (ROS time, ``use_sim_time``) or None for the
        monotonic wall clock.
    :param logger: rclpy logger for tick errors (throttled).
    :param priority: SCHED_FIFO priority of the loop thread (1-99; 0 = normal scheduling). Needs
        CAP_SYS_NICE or an rtprio limit; without them it logs a warning and runs normally.
    """

    def __init__(self, period_s: float, tick: Callable[[], None], *, clock=None, logger=None,
                 name: str = 'vla_control', priority: int = 0) -> None:
        if not period_s > 0:
            raise ConfigError(f'period_s must be > 0, got {period_s!r}')
        self.period_ns = int(round(period_s * 1e9))
        self._tick = tick
        self._priority = int(priority)
        self._clock = clock
        self._log = logger
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._deadline_ns = 0
        self._jump_handle = None
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.ticks = 0
        self.overruns = 0       # deadlines skipped because a tick (or the OS) was too late
        self.errors = 0
        self._last_log = -1e9

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> ControlLoop:
        if self._clock is not None:
            self._jump_handle = self._clock.create_jump_callback(
                JumpThreshold(min_forward=Duration(nanoseconds=1),
                              min_backward=Duration(nanoseconds=-1), on_clock_change=True),
                post_callback=self._on_jump)
        self._thread.start()
        return self

    def stop(self, timeout_s: float = 2.0) -> None:
        """Stop and join (a running tick finishes first). Idempotent."""
        self._stop.set()
        self._wake.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)
        if self._jump_handle is not None:
            self._jump_handle.unregister()
            self._jump_handle = None

    @property
    def running(self) -> bool:
        return self._thread.is_alive() and not self._stop.is_set()

    # ------------------------------------------------------------------ loop
    def _set_priority(self) -> None:
        if self._priority > 0:
            set_fifo_priority(self._priority, logger=self._log, what='control thread')

    def _run(self) -> None:
        self._set_priority()
        now = self._now()
        deadline = now + self.period_ns
        while not self._stop.is_set():
            now = self._sleep_until(deadline)
            if self._stop.is_set():
                break
            if now < deadline - self.period_ns:  # ROS time went backwards: restart
                deadline = now + self.period_ns
                continue
            self._call_tick()
            deadline += self.period_ns
            now = self._now()
            if self._clock is not None and now - deadline > 1_000_000_000:
                deadline = now + self.period_ns  # ROS time jumped forward: restart
            elif now >= deadline:  # late by a period or more: skip, do not bunch ticks
                missed = (now - deadline) // self.period_ns + 1
                self.overruns += missed
                deadline += missed * self.period_ns

    def _call_tick(self) -> None:
        self.ticks += 1
        try:
            self._tick()
        except Exception as e:  # noqa: BLE001 - the loop must survive; the node fails closed
            if self._stop.is_set() and isinstance(e, GONE_ERRORS):
                return  # a tick that outlived stop(): the node is being destroyed
            self.errors += 1
            now = time.monotonic()
            if self._log is not None and now - self._last_log >= LOG_THROTTLE_S:
                self._last_log = now
                self._log.error(f'control tick failed ({self.errors} so far): {e!r}')

    def _now(self) -> int:
        if self._clock is None:
            return time.monotonic_ns()
        return self._clock.now().nanoseconds

    def _sleep_until(self, deadline: int) -> int:
        """
        Sleep until ``deadline`` [ns of this loop's clock], a stop or a backwards jump.

        Returns the clock's time on waking.
        """
        if self._clock is None:
            while not self._stop.is_set():
                left = deadline - time.monotonic_ns()
                if left <= 0:
                    break
                self._stop.wait(left * 1e-9)
            return time.monotonic_ns()
        self._deadline_ns = deadline
        while not self._stop.is_set():
            now = self._now()
            if now >= deadline or now < deadline - 2 * self.period_ns:
                return now
            # the jump callback wakes us; the timeout only covers a /clock that stopped
            self._wake.wait(0.1)
            self._wake.clear()
        return self._now()

    def _on_jump(self, jump) -> None:
        """Clock jump callback (executor thread, on every /clock update)."""
        if jump.delta.nanoseconds < 0 or self._now() >= self._deadline_ns:
            self._wake.set()


class Worker:
    """
    A thread that runs ``fn()`` once per :meth:`wake` (wakes coalesce while it runs).

    :param scheduling: :class:`ThreadScheduling` of the worker thread and of ``helper_tids``.
    :param nice: their nice value (0-19; higher yields the CPU to other threads sooner).
    :param helper_tids: other threads that work for ``fn`` (onnxruntime's intra-op pool).
    :param keep_realtime: keep a SCHED_FIFO class inherited from the thread that started it
        (``fn`` only waits for a child process and does short bookkeeping); else it drops it.
    """

    def __init__(self, fn: Callable[[], None], *, logger=None, name: str = 'vla_worker',
                 scheduling: ThreadScheduling | str = ThreadScheduling.NORMAL, nice: int = 0,
                 helper_tids: Iterable[int] = (), keep_realtime: bool = False) -> None:
        self._fn = fn
        self._keep_realtime = keep_realtime
        self._log = logger
        self._sched = (thread_scheduling(scheduling, nice), int(nice))
        self._helpers = tuple(helper_tids)
        self._event = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=name, daemon=True)
        self.runs = 0

    def start(self) -> Worker:
        self._thread.start()
        return self

    def wake(self) -> None:
        self._event.set()

    def stop(self, timeout_s: float = 5.0) -> None:
        """Stop and join (a running ``fn`` finishes first). Idempotent."""
        self._stop.set()
        self._event.set()
        if self._thread.is_alive() and threading.current_thread() is not self._thread:
            self._thread.join(timeout_s)

    def _lower_priority(self) -> None:
        if not self._keep_realtime:  # started by a SCHED_FIFO executor thread
            normal_scheduling()
        if self._sched == (ThreadScheduling.NORMAL, 0):
            return
        for tid in (threading.get_native_id(), *self._helpers):
            try:
                set_thread_scheduling(tid, *self._sched)
            except OSError as e:
                if self._log is not None:
                    self._log.warning(f'{self._thread.name}: thread {tid} keeps its priority '
                                      f'({self._sched[0].value}, nice {self._sched[1]} '
                                      f'refused: {e})')

    def _run(self) -> None:
        self._lower_priority()
        while True:
            self._event.wait()
            self._event.clear()
            if self._stop.is_set():
                return
            self.runs += 1
            try:
                self._fn()
            except Exception as e:  # noqa: BLE001 - keep serving; fn reports its own faults
                if self._stop.is_set() and isinstance(e, GONE_ERRORS):
                    return  # a run that outlived stop(): the node is being destroyed
                if self._log is not None:
                    self._log.error(f'{self._thread.name} failed: {e!r}')


def make_executor(kind: str):
    """
    Return the executor of the ROS callbacks: ``single`` or ``multi``.

    ``single`` (SingleThreadedExecutor: the least Python per message of the working executors) or
    ``multi`` (MultiThreadedExecutor, 4 threads, the node's callback groups apply).
    rclpy.experimental.EventsExecutor is not offered: in this Kilted build (rclpy 9.1.2 wheels) it
    never fired a timer and ignored shutdown.
    """
    if kind == 'single':
        return SingleThreadedExecutor()
    if kind == 'multi':
        return MultiThreadedExecutor(num_threads=4)
    raise ConfigError(f"executor must be 'single' or 'multi', got {kind!r}")
