"""``vla-ros command`` / ``vla-ros status`` against a running vla_policy (installed CLI)."""

from __future__ import annotations

import argparse
from pathlib import Path
import subprocess
import sys
import threading

from helpers.policy_graph import POLICY, start_graph
import pytest
from vla_ros.cli import command_cmd
from vla_ros.cli.status_cmd import EXIT_FAULT, exit_status, format_status
from vla_ros.harness.procs import NodeProcess, ros_args, wait_until

CLOCK_SOURCE = Path(__file__).parent / 'clock_source.py'
CLOCK_WAIT = 'waiting for /clock (use_sim_time)'


def _ns(**kw) -> argparse.Namespace:
    base = {'text': None, 'stop': False, 'estop': False, 'clear': False, 'wait': 1.0}
    base.update(kw)
    return argparse.Namespace(**base)


def test_message_for_maps_flags_to_topics():
    assert command_cmd.message_for(_ns(text='pick')) == ('vla/command', 'pick')
    assert command_cmd.message_for(_ns(stop=True)) == ('vla/command', 'stop')
    assert command_cmd.message_for(_ns(estop=True)) == ('vla/estop', True)
    assert command_cmd.message_for(_ns(clear=True)) == ('vla/estop', False)
    with pytest.raises(SystemExit):
        command_cmd.message_for(_ns())
    with pytest.raises(SystemExit):
        command_cmd.message_for(_ns(text='x', estop=True))


def _cli(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, '-m', 'vla_ros.cli.main', *argv],
                          capture_output=True, text=True, timeout=30)


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.timeout(120)
def test_command_estop_clear_and_status(tmp_path, listener):
    from helpers.bundles import make_random_bundle
    bundle = make_random_bundle(tmp_path / 'b')
    procs = start_graph(tmp_path, bundle, {'dry_run': True})
    try:
        # the node reports from its start (unconfigured, configuring): wait until it runs
        assert listener.wait_state('idle', 30.0), listener.last_status()
        res = _cli('status', '--timeout', '10')
        assert res.returncode == 0 and 'state: idle' in res.stdout, res.stdout + res.stderr
        res = _cli('command', 'pick up the red cube', '--wait', '10')
        assert res.returncode == 0 and '(0 subscriber' not in res.stdout, res.stdout + res.stderr
        res = _cli('status', '--timeout', '10')
        assert "command: 'pick up the red cube'" in res.stdout, res.stdout
        assert _cli('command', '--estop', '--wait', '10').returncode == 0
        assert 'state: estopped' in _cli('status', '--timeout', '10').stdout
        assert _cli('command', '--clear', '--wait', '10').returncode == 0
        # needs a new command too
        assert 'state: estopped' in _cli('status', '--timeout', '10').stdout
        assert _cli('command', '--stop', '--wait', '10').returncode == 0
        out = _cli('status', '--timeout', '10').stdout
        assert 'state: estopped' in out or 'state: idle' in out
    finally:
        for p in procs:
            p.stop()


def test_format_status_is_readable():
    from vla_ros_msgs.msg import PolicyStatus
    s = PolicyStatus(state_name='holding', reason='stale frame', command='go', model_id='m',
                     chunks=3)
    text = format_status(s)
    assert 'state: holding (stale frame)' in text and "command: 'go'" in text


def test_format_status_before_activation_and_exit_status():
    from vla_ros_msgs.msg import PolicyStatus
    s = PolicyStatus(state=PolicyStatus.STATE_UNCONFIGURED, state_name='unconfigured',
                     reason=CLOCK_WAIT)
    text = format_status(s)
    assert text.splitlines()[0] == f'state: unconfigured ({CLOCK_WAIT})'
    assert '(none loaded)' in text and 'rates' not in text and 'command' not in text
    assert exit_status(s) == 0
    assert exit_status(PolicyStatus(state=PolicyStatus.STATE_FAULT, state_name='fault')) == 3


def _policy(tmp_path, **params) -> NodeProcess:
    return NodeProcess('vla_policy', ros_args(params={**POLICY, **params}),
                       log_path=tmp_path / 'vla_policy.log').start()


def _change_state(node, transition: int) -> bool:
    """Call /vla_policy/change_state (what a lifecycle manager does)."""
    from lifecycle_msgs.srv import ChangeState
    cli = node.create_client(ChangeState, '/vla_policy/change_state')
    try:
        assert cli.wait_for_service(timeout_sec=20.0), 'no /vla_policy/change_state service'
        req = ChangeState.Request()
        req.transition.id = transition
        fut = cli.call_async(req)
        assert wait_until(fut.done, 60.0), f'transition {transition} timed out'
        return bool(fut.result().success)
    finally:
        node.destroy_client(cli)


class Diagnostics:
    """The policy's entries on /diagnostics (a subscription on the listener's node)."""

    def __init__(self, node) -> None:
        from diagnostic_msgs.msg import DiagnosticArray
        self.lock = threading.Lock()
        self.entries: list = []
        node.create_subscription(DiagnosticArray, '/diagnostics', self._on, 10)

    def _on(self, msg) -> None:
        with self.lock:
            self.entries += [s for s in msg.status if s.name == 'vla_policy: policy']

    def has(self, text: str) -> bool:
        with self.lock:
            return any(text in s.message for s in self.entries)


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.timeout(180)
def test_status_in_every_lifecycle_state(tmp_path, listener):
    """A lifecycle-managed node says unconfigured, inactive, idle (not 'no status arrived')."""
    from lifecycle_msgs.msg import Transition
    from helpers.bundles import make_random_bundle
    bundle = make_random_bundle(tmp_path / 'b')
    diag = Diagnostics(listener.node)
    proc = _policy(tmp_path, bundle=str(bundle), autostart=False, dry_run=True)
    try:
        res = _cli('status', '--timeout', '30')
        assert res.returncode == 0, res.stdout + res.stderr
        assert res.stdout.startswith('state: unconfigured (not configured'), res.stdout
        assert wait_until(lambda: diag.has('not configured'), 10.0)
        assert _change_state(listener.node, Transition.TRANSITION_CONFIGURE)
        res = _cli('status', '--timeout', '10')
        assert res.returncode == 0 and res.stdout.startswith('state: inactive'), res.stdout
        assert 'model: random' in res.stdout
        assert wait_until(lambda: diag.has('not active'), 10.0)
        assert _change_state(listener.node, Transition.TRANSITION_ACTIVATE)
        assert listener.wait_state('idle', 10.0)
        assert _change_state(listener.node, Transition.TRANSITION_DEACTIVATE)
        assert listener.wait_state('inactive', 10.0)
        assert _change_state(listener.node, Transition.TRANSITION_CLEANUP)
        assert listener.wait_state('unconfigured', 10.0)
        assert proc.alive() and 'Traceback' not in proc.log_tail(20000)
    finally:
        proc.stop()


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.timeout(180)
def test_waiting_for_clock_is_reported_until_the_clock_runs(tmp_path, listener):
    """use_sim_time before the simulator: log, ~/status and /diagnostics say it waits."""
    from helpers.bundles import make_random_bundle
    bundle = make_random_bundle(tmp_path / 'b')
    diag = Diagnostics(listener.node)
    proc = _policy(tmp_path, bundle=str(bundle), use_sim_time=True, dry_run=True)
    clock = None
    try:
        assert listener.wait_state('unconfigured', 30.0, reason=(
            f'{CLOCK_WAIT}; autostart configures it once /clock runs')), listener.last_status()
        res = _cli('status', '--timeout', '10')
        assert res.returncode == 0 and CLOCK_WAIT in res.stdout.splitlines()[0], res.stdout
        assert wait_until(lambda: diag.has(CLOCK_WAIT), 10.0)
        assert wait_until(lambda: CLOCK_WAIT in proc.log_tail(20000), 10.0)
        clock = subprocess.Popen([sys.executable, str(CLOCK_SOURCE)], stdout=subprocess.PIPE,
                                 text=True)
        assert clock.stdout.readline().strip() == 'ready'
        assert wait_until(lambda: (s := listener.last_status()) is not None
                          and s.state_name == 'idle' and CLOCK_WAIT not in s.reason, 60.0), \
            (listener.last_status(), proc.log_tail())
    finally:
        if clock is not None:
            clock.send_signal(2)
            clock.wait(10)
        proc.stop()


@pytest.mark.ros
@pytest.mark.slow
@pytest.mark.timeout(120)
def test_status_exits_non_zero_in_fault(tmp_path, listener):
    proc = _policy(tmp_path, bundle=str(tmp_path / 'no_such_bundle'))
    try:
        assert listener.wait_state('fault', 30.0), proc.log_tail()
        res = _cli('status', '--timeout', '10')
        assert res.returncode == EXIT_FAULT, res.stdout + res.stderr
        assert res.stdout.startswith('state: fault (configure failed:'), res.stdout
    finally:
        proc.stop()
