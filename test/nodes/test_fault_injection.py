"""
Fault injection over real DDS (issue 15).

Processes killed and restarted, a stream that stops, a simulator clock that jumps and freezes. Real
processes, dry_run false; a listener in the controllers' place. Each test prints the measured
reaction time (``pytest -s``) and asserts a bound: the node's own budget plus MARGIN_S for DDS
delivery of the status and scheduling on a shared 2-core machine.

Wall-clock graph (fake_sensors + vla_policy): joint states stop, sensor process killed and
restarted, policy process killed and restarted. Sim-clock graph (a /clock process from
clock_source.py + both nodes with use_sim_time): clock jumps forward and back, clock frozen.
"""

from __future__ import annotations

import os
from pathlib import Path
import signal
import subprocess
import sys
import time

from helpers.policy_graph import CONTROL_HZ, FAKE_SENSORS, Listener, POLICY, set_streams
import numpy as np
import pytest
from vla_ros import constants as C
from vla_ros.harness.procs import NodeProcess, ros_args, wait_until

pytestmark = [pytest.mark.ros, pytest.mark.slow]
PERIOD_S = 1.0 / CONTROL_HZ
MAX_FRAME_AGE_S = POLICY['max_frame_age_s']  # 0.2 s
JOINTS_MAX_AGE_S = 0.1                      # sync default max_age_s.joints
CAMERA_PERIOD_S = 1.0 / FAKE_SENSORS['camera_rate_hz']
HOLD_LATCH_S = 1.0                          # vla_policy default hold_latch_s
CLOCK_TIMEOUT_S = 0.5                       # vla_policy default clock_timeout_s
WATCHDOG_PERIOD_S = 0.1                     # its steady timer: min(timeout / 4, 0.1)
# DDS + scheduling (stated in docs/policy.md): typical reactions are 0.1-0.2 s, but in a full
# CI run on the shared 2-core machine one kill reaction took 1.0 s (the policy's control
# thread starved for ~0.6 s); the bounds catch a missing hold, the printout the latency.
MARGIN_S = 0.9
QUIET_S = 2.5                               # how long "no motion without a command" is watched
COMMAND = 'pick up the red cube'
HERE = Path(__file__).resolve().parent


class Graph:
    """fake_sensors + vla_policy (+ an optional /clock process) that can be killed piecewise."""

    def __init__(self, tmp: Path, bundle: Path, *, sim_time: bool = False) -> None:
        self.tmp, self.sim_time = tmp, sim_time
        extra = {'use_sim_time': True} if sim_time else {}
        self.args = {'sensors': {**FAKE_SENSORS, **extra},
                     'policy': {**POLICY, 'bundle': str(bundle), **extra}}
        self.clock: subprocess.Popen | None = None
        self.procs: dict[str, NodeProcess] = {}
        self.starts = 0

    def start(self, name: str) -> float:
        self.starts += 1
        exe = 'fake_sensors' if name == 'sensors' else 'vla_policy'
        self.procs[name] = NodeProcess(exe, ros_args(params=self.args[name]),
                                       log_path=self.tmp / f'{name}_{self.starts}.log').start()
        return time.monotonic()

    def start_clock(self) -> None:
        self.clock = subprocess.Popen([sys.executable, str(HERE / 'clock_source.py')],
                                      stdout=subprocess.PIPE, text=True,
                                      start_new_session=True)
        assert self.clock.stdout.readline().strip() == 'ready'

    def kill(self, name: str) -> float:
        """SIGKILL a node's process group (no shutdown handlers run); returns the time."""
        p = self.procs[name]
        os.killpg(p.proc.pid, signal.SIGKILL)
        t = time.monotonic()
        p.proc.wait(5.0)
        p.stop()
        return t

    def signal_clock(self, sig: int) -> float:
        os.kill(self.clock.pid, sig)
        return time.monotonic()

    def log(self, name: str = 'policy') -> str:
        return self.procs[name].log_tail(3000)

    def close(self) -> None:
        for p in self.procs.values():
            p.stop()
        if self.clock is not None:
            os.kill(self.clock.pid, signal.SIGCONT)
            self.clock.send_signal(signal.SIGINT)
            try:
                self.clock.wait(5.0)
            except subprocess.TimeoutExpired:
                self.clock.kill()
                self.clock.wait()


@pytest.fixture(scope='module')
def bundle(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    return make_random_bundle(tmp_path_factory.mktemp('bundle'))


@pytest.fixture(scope='module')
def listener():
    import rclpy
    from rclpy.qos import qos_profile_sensor_data
    from sensor_msgs.msg import JointState

    rclpy.init()
    lis = Listener(rclpy)
    lis.joints = []
    lis.node.create_subscription(JointState, C.JOINT_STATES_TOPIC, lis._add(lis.joints),
                                 qos_profile_sensor_data)
    try:
        yield lis
    finally:
        lis.close()
        rclpy.try_shutdown()


def _graph(tmp_path_factory, bundle, listener, *, sim_time: bool):
    g = Graph(tmp_path_factory.mktemp('sim' if sim_time else 'wall'), bundle, sim_time=sim_time)
    try:
        if sim_time:
            g.start_clock()
        g.start('sensors')
        t = g.start('policy')
        assert wait_status(listener, t, lambda s: s.state_name == 'idle', 60.0), g.log()
        yield g
    finally:
        g.close()


@pytest.fixture(scope='class')
def wall_graph(tmp_path_factory, bundle, listener):
    yield from _graph(tmp_path_factory, bundle, listener, sim_time=False)


@pytest.fixture(scope='class')
def sim_graph(tmp_path_factory, bundle, listener):
    yield from _graph(tmp_path_factory, bundle, listener, sim_time=True)


def wait_status(lis: Listener, t0: float, pred, timeout_s: float):
    """(receipt time, status) of the first status received after ``t0`` matching ``pred``."""
    found = []

    def check() -> bool:
        found[:] = [(t, s) for t, s in lis.since(lis.status, t0) if pred(s)][:1]
        return bool(found)
    wait_until(check, timeout_s, period_s=0.01)
    return found[0] if found else None


def states_since(lis: Listener, t0: float) -> list[str]:
    return [s.state_name for _, s in lis.since(lis.status, t0)]


def run_command(g: Graph, lis: Listener) -> float:
    """Send COMMAND and wait until the policy runs it; returns the reaction time [s]."""
    t = time.monotonic()
    lis.command(COMMAND)
    got = wait_status(lis, t, lambda s: s.state_name == 'running', 15.0)
    assert got is not None, (states_since(lis, t), g.log())
    return got[0] - t


def ensure_sensors(g: Graph) -> None:
    if not g.procs['sensors'].alive():
        g.start('sensors')


def report(what: str, seconds: float, bound: float | None = None) -> None:
    tail = f' (bound {bound * 1e3:.0f} ms)' if bound is not None else ''
    print(f'\n[fault-injection] {what}: {seconds * 1e3:.0f} ms{tail}')


class TestWallClock:
    """fake_sensors + vla_policy on wall time; the tests run in file order on one graph."""

    def test_joint_states_stopping_while_cameras_continue_holds(self, wall_graph, listener):
        import rclpy
        g, lis = wall_graph, listener
        run_command(g, lis)
        time.sleep(0.5)
        set_streams(rclpy, lis.node, ['camera', 'audio', 'tactile'])
        t_last = lis.joints[-1][0]  # the last joint state that reached us
        got = wait_status(lis, t_last, lambda s: s.state_name == 'holding', 5.0)
        assert got is not None, (states_since(lis, t_last), g.log())
        bound = JOINTS_MAX_AGE_S + CAMERA_PERIOD_S + PERIOD_S + MARGIN_S
        report('joint states stop -> holding', got[0] - t_last, bound)
        assert 'joint' in got[1].reason, got[1].reason
        assert got[0] - t_last <= bound
        set_streams(rclpy, lis.node, ['camera', 'audio', 'tactile', 'joints'])

    def test_sensor_process_killed_holds(self, wall_graph, listener):
        g, lis = wall_graph, listener
        ensure_sensors(g)
        run_command(g, lis)
        time.sleep(0.5)
        t_kill = g.kill('sensors')
        got = wait_status(lis, t_kill, lambda s: s.state_name == 'holding', 5.0)
        assert got is not None, (states_since(lis, t_kill), g.log())
        bound = MAX_FRAME_AGE_S + PERIOD_S + MARGIN_S
        report('fake_sensors SIGKILL -> holding', got[0] - t_kill, bound)
        assert got[0] - t_kill <= bound, got[1].reason
        # the hold is a hold: the same position on every tick after it
        time.sleep(0.3)
        held = [m.points[0].positions for _, m in lis.since(lis.traj, got[0] + 0.1)]
        assert held and np.ptp(np.array(held), axis=0).max() < 1e-9

    def test_sensor_restart_does_not_resume_without_a_command(self, wall_graph, listener):
        g, lis = wall_graph, listener
        if g.procs['sensors'].alive():  # run alone: stop the data first
            run_command(g, lis)
            g.kill('sensors')
        t_lost = lis.joints[-1][0]
        got = wait_status(lis, t_lost, lambda s: s.state_name == 'idle', HOLD_LATCH_S + 3.0)
        assert got is not None, (states_since(lis, t_lost), g.log())
        report(f'data lost -> latched stop (hold_latch_s {HOLD_LATCH_S:g} s)',
               got[0] - t_lost)
        reason = got[1].reason.lower()
        assert 'lost' in reason and 'command' in reason, got[1].reason
        t_restart = g.start('sensors')
        assert wait_until(lambda: lis.since(lis.joints, t_restart), 15.0), g.log('sensors')
        t_back = time.monotonic()
        time.sleep(QUIET_S)
        assert 'running' not in states_since(lis, t_restart), states_since(lis, t_restart)
        assert not lis.since(lis.chunks, t_back), 'a chunk was computed without a command'
        held = [m.points[0].positions for _, m in lis.since(lis.traj, t_back)]
        assert not held or np.ptp(np.array(held), axis=0).max() < 1e-9, 'the arm moved'
        report('sensors back -> new command -> running', run_command(g, lis))

    def test_policy_killed_leaves_a_short_horizon_and_restarts_idle(self, wall_graph,
                                                                    listener):
        g, lis = wall_graph, listener
        ensure_sensors(g)
        run_command(g, lis)
        time.sleep(1.0)
        t_kill = g.kill('policy')
        time.sleep(0.5)
        with lis.lock:
            sent = [m for t, m in lis.traj if t <= t_kill]
            late = [t - t_kill for t, _ in lis.traj if t > t_kill + 0.05]
        assert sent, 'the policy never commanded the arm'
        last = sent[-1].points[-1].time_from_start
        horizon = last.sec + last.nanosec * 1e-9
        print(f'\n[fault-injection] last trajectory of the killed policy: horizon '
              f'{horizon * 1e3:.0f} ms ({len(sent[-1].points)} point(s))')
        assert 0.0 < horizon <= 0.1
        assert not late, f'commands after the policy died: {late[:3]}'
        t_start = g.start('policy')
        # the first status of the running policy (before it: unconfigured, inactive)
        got = wait_status(lis, t_start,
                          lambda s: s.state_name not in ('unconfigured', 'inactive'), 60.0)
        assert got is not None, g.log()
        report('policy restart -> first status', got[0] - t_start)
        time.sleep(QUIET_S)
        states = states_since(lis, t_start)
        assert got[1].state_name == 'idle' and 'running' not in states, (states, g.log())
        assert not lis.since(lis.traj, t_start), 'the restarted policy commanded the arm'
        assert not lis.since(lis.chunks, t_start), 'the restarted policy computed chunks'
        report('restarted policy -> new command -> running', run_command(g, lis))


class TestSimClock:
    """Both nodes on use_sim_time with /clock from clock_source.py (a separate process)."""

    def test_clock_jumps_forward_and_back(self, sim_graph, listener):
        g, lis = sim_graph, listener
        run_command(g, lis)
        time.sleep(1.0)
        for name, sig in (('forward 5 s', signal.SIGUSR1), ('back (reset)', signal.SIGUSR2)):
            t = g.signal_clock(sig)
            # the policy keeps (or resumes) the command once frames of the new time arrive
            ok = wait_until(lambda: len(lis.since(lis.chunks, t)) >= 2
                            and lis.last_status().state_name == 'running', 5.0)
            states = states_since(lis, t)
            assert ok, (states, g.log())
            hold = wait_status(lis, t, lambda s: s.state_name == 'holding', 0.0)
            run = next(ts for ts, _ in lis.since(lis.chunks, t))
            print(f'\n[fault-injection] clock jump {name}: hold seen: '
                  f'{"%.0f ms after" % ((hold[0] - t) * 1e3) if hold else "no"}; first '
                  f'chunk of the new time after {(run - t) * 1e3:.0f} ms; states {states}')
            assert not {'fault', 'estopped', 'idle'} & set(states), states
            time.sleep(0.5)

    def test_frozen_clock_holds_and_needs_a_new_command(self, sim_graph, listener):
        g, lis = sim_graph, listener
        run_command(g, lis)
        time.sleep(0.5)
        t_stop = g.signal_clock(signal.SIGSTOP)
        try:
            got = wait_status(lis, t_stop, lambda s: s.state_name in ('holding', 'idle')
                              and 'clock' in s.reason.lower(), 3.0)
            time.sleep(max(0.0, 3.0 - (time.monotonic() - t_stop)))
        finally:
            t_cont = g.signal_clock(signal.SIGCONT)
        assert got is not None, (states_since(lis, t_stop), g.log())
        bound = CLOCK_TIMEOUT_S + WATCHDOG_PERIOD_S + MARGIN_S
        report(f'/clock SIGSTOP -> {got[1].state_name} ({got[1].reason[:40]}...)',
               got[0] - t_stop, bound)
        assert got[0] - t_stop <= bound
        time.sleep(QUIET_S)
        assert 'running' not in states_since(lis, t_cont), states_since(lis, t_cont)
        assert not lis.since(lis.chunks, t_cont + 0.1), 'a chunk was computed without a command'
        report('clock back -> new command -> running', run_command(g, lis))
