"""``vla-ros command`` / ``vla-ros status`` against a running vla_policy (installed CLI)."""

from __future__ import annotations

import argparse
import subprocess
import sys

from helpers.policy_graph import start_graph
import pytest
from vla_ros.cli import command_cmd
from vla_ros.cli.status_cmd import format_status


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
def test_command_estop_clear_and_status(tmp_path):
    from helpers.bundles import make_random_bundle
    bundle = make_random_bundle(tmp_path / 'b')
    procs = start_graph(tmp_path, bundle, {'dry_run': True})
    try:
        res = _cli('status', '--timeout', '30')
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
