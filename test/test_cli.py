"""The vla-ros command line dispatches to its subcommand modules."""

import importlib

import pytest
from vla_ros.cli.main import main, SUBCOMMANDS


@pytest.mark.parametrize('name', sorted(SUBCOMMANDS))
def test_every_subcommand_module_has_the_interface(name):
    module = importlib.import_module(SUBCOMMANDS[name][0])
    assert callable(module.add_arguments) and callable(module.run)


# Maintainer tools: cli modules run as `python -m vla_ros.cli.NAME`, not vla-ros subcommands.
MAINTAINER_TOOLS = ('fusion_study', 'fusion_table', 'gazebo_files', 'lerobot_figure',
                    'sim_rollout')


@pytest.mark.parametrize('name', MAINTAINER_TOOLS)
def test_every_maintainer_tool_has_a_main_with_help(name, capsys):
    module = importlib.import_module(f'vla_ros.cli.{name}')
    with pytest.raises(SystemExit) as exc:
        module.main(['--help'])
    assert exc.value.code == 0
    out = capsys.readouterr().out
    assert f'python -m vla_ros.cli.{name}' in out and '--help' in out


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
    from vla_ros.eval.report import save_results
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


def test_eval_writes_every_episode_with_provenance_and_report_regenerates(tmp_path, monkeypatch,
                                                                          capsys):
    import json
    from types import SimpleNamespace

    import vla_ros.cli.eval_cmd
    from vla_ros.eval.episode import EpisodeResult
    from vla_ros.sim.task_suite import SEED_BLOCKS
    bundle = tmp_path / 'b'
    bundle.mkdir()
    (bundle / 'bundle.yaml').write_text('files:\n  policy.onnx: abc123\n')
    played = []

    def fake_run(b, tasks, seeds, *, on_start=None, progress=None, **kw):
        on_start(SimpleNamespace(sim_params=SimpleNamespace(params_file='config/sim.yaml'),
                                 overrides={'mujoco_sim': {'rtf': 1.0}, 'vla_policy': {}},
                                 describe=lambda: 'mujoco_sim: config/sim.yaml'))
        out = []
        for i, (t, s) in enumerate(zip(tasks, seeds)):
            played.append((t, s))
            out.append(EpisodeResult(t.name, t.kind.value, t.colour, t.command, s, i % 3 != 0,
                                     'lifted', 3.0, 3.0, 2.0, 8.0, 10.0, 10.0, 5,
                                     held_out=t.held_out, variant=t.variant))
            progress(out[-1])
        return out
    monkeypatch.setattr(vla_ros.cli.eval_cmd, 'load_bundle', lambda p: None)
    monkeypatch.setattr(vla_ros.cli.eval_cmd, 'run_episodes', fake_run)
    monkeypatch.chdir(tmp_path)
    assert main(['eval', str(bundle), '--episodes', '2', '--kinds', 'pick,touch']) == 0
    assert {s for _, s in played} <= set(SEED_BLOCKS['dev'])       # dev unless told
    meta, rows = (lambda d: (d['meta'], d['results']))(
        json.loads((tmp_path / 'out/eval/full.json').read_text()))
    assert meta['block'] == 'dev' and meta['language'] == 'paraphrases'
    assert len(meta['bundle_sha256']) == 64 and meta['bundle_files'] == {'policy.onnx': 'abc123'}
    assert 'git_commit' in meta and meta['overrides']['mujoco_sim'] == {'rtf': 1.0}
    assert len(rows) == 4 and {'task', 'kind', 'command', 'seed', 'success', 'reason',
                               'duration_s', 'held_out', 'mask', 'variant'} <= set(rows[0])
    md = (tmp_path / 'out/eval/eval.md').read_text()
    assert 'dev block seeds' in md and 'not for reported numbers' in md
    played.clear()
    assert main(['eval', str(bundle), '--episodes', '2', '--kinds', 'pick', '--block', 'test',
                 '--language', 'held_out_words', '--json', 'ho.json']) == 0
    assert {s for _, s in played} <= set(SEED_BLOCKS['test']) and played[1][0].variant
    printed = capsys.readouterr().out
    assert 'TEST' in printed and f'(held out {played[1][0].variant})' in printed
    # --report alone regenerates the tables from the JSON, nothing is run
    monkeypatch.setattr(vla_ros.cli.eval_cmd, 'run_episodes', None)
    assert main(['eval', '--report', 'ho.json', '--md', 'r.md', '--png', 'r.png']) == 0
    md = (tmp_path / 'r.md').read_text()
    assert 'test block seeds' in md and 'not for reported numbers' not in md
    assert 'held-out words' in md and '95 % CI' in md
    assert (tmp_path / 'r.png').read_bytes()[:4] == b'\x89PNG'
