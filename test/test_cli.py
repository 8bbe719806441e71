"""The vla-ros command line dispatches to its subcommand modules."""

import importlib

import pytest
from vla_ros.cli.main import main, SUBCOMMANDS


@pytest.mark.parametrize('name', sorted(SUBCOMMANDS))
def test_every_subcommand_module_has_the_interface(name):
    module = importlib.import_module(SUBCOMMANDS[name][0])
    assert callable(module.add_arguments) and callable(module.run)


def test_unknown_subcommand_exits_with_usage(capsys):
    with pytest.raises(SystemExit) as exc:
        main(['no-such-command'])
    assert exc.value.code == 2
    assert 'invalid choice' in capsys.readouterr().err


@pytest.mark.parametrize('name', sorted(SUBCOMMANDS))
def test_every_option_has_help_and_help_shows_every_default(name):
    import argparse

    from vla_ros.cli.main import subcommand_parser
    parser = subcommand_parser(name)
    text = parser.format_help()
    assert '``' not in text  # no raw RST in descriptions
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        assert action.help, f'{name}: {action.dest} has no help'
        shown = parser._get_formatter()._get_help_string(action)
        if action.default not in (None, False, [], argparse.SUPPRESS):
            assert 'default' in shown, f'{name}: {action.dest} hides its default'


def test_top_level_help_is_plain_text(capsys):
    with pytest.raises(SystemExit):
        main(['--help'])
    out = capsys.readouterr().out
    assert '``' not in out and 'eval' in out and 'SUBCOMMAND' in out


def test_eval_report_goes_under_out_unless_a_path_is_given(tmp_path, monkeypatch):
    from vla_ros.tools.eval_report import save_results
    row = {'task': 'pick_red', 'kind': 'pick', 'colour': 'red', 'command': 'x', 'seed': 1,
           'success': True, 'reason': 'lifted', 'duration_s': 3.0, 'wall_s': 3.1,
           'latency_ms': 2.0, 'e2e_ms': 30.0, 'control_rate_hz': 10.0, 'frame_rate_hz': 10.0,
           'chunks': 9, 'mask': [], 'held_out': False}
    res = save_results(tmp_path / 'r.json', [row], {'name': 'full'})
    monkeypatch.chdir(tmp_path)
    assert main(['eval', '--report', str(res)]) == 0
    assert (tmp_path / 'out/eval/eval.md').is_file() and (tmp_path / 'out/eval/eval.png').is_file()
    assert not (tmp_path / 'docs').exists()
    assert main(['eval', '--report', str(res), '--md', 'r.md', '--png', 'r.png']) == 0
    assert (tmp_path / 'r.md').is_file() and (tmp_path / 'r.png').is_file()
