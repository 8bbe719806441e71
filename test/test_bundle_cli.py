"""
``vla-ros bundle init`` -> a person's edits -> ``vla-ros bundle check`` on foreign graphs.

The ACT-, pi0- and Diffusion-shaped reference graphs (vla_ros/model/reference_graphs.py,
random weights) each pass ``bundle check``; a drafted bundle that was not filled in, and a
contract the graph refuses when run, fail with one line on stderr and no traceback.
``bundle tokens`` prints the ids the runtime feeds for a command; ``bundle init`` into the
model's own directory works.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from vla_ros.cli.main import main
from vla_ros.model.reference_bundles import (edit, init, make_act_bundle, make_diffusion_bundle,
                                             make_pi0_bundle)
import yaml

pytestmark = pytest.mark.timeout(120)
CLI = [sys.executable, '-m', 'vla_ros.cli.main']


@pytest.fixture(scope='module')
def bundles(tmp_path_factory):
    tmp = tmp_path_factory.mktemp('foreign')
    return {'act': make_act_bundle(tmp / 'act', cameras=('front', 'wrist')),
            'pi0': make_pi0_bundle(tmp / 'pi0'), 'dp': make_diffusion_bundle(tmp / 'dp')}


def _check(capsys, bundle) -> str:
    assert main(['bundle', 'check', str(bundle), '--runs', '10']) == 0
    return capsys.readouterr().out


def _timing(out: str) -> dict[str, float]:
    line = next(ln for ln in out.splitlines() if ln.startswith('CHECK '))
    return {k: float(v) for k, v in re.findall(r'(\w+)=([\d.]+)', line)}


def test_init_drafts_the_lerobot_and_openpi_names(tmp_path, capsys):
    from vla_ros.model.reference_graphs import export_pi0

    out = tmp_path / 'b'
    assert main(['bundle', 'init', str(export_pi0(tmp_path / 'src' / 'model.onnx')),
                 '--out', str(out)]) == 0
    printed = capsys.readouterr().out
    raw = yaml.safe_load((out / 'bundle.yaml').read_text())
    kinds = {i['name']: i['preprocessing']['kind'] for i in raw['inputs']}
    assert kinds == {'observation.images': 'image_stack', 'image_mask': 'presence',
                     'input_ids': 'text_tokens', 'attention_mask': 'token_mask',
                     'observation.state': 'joints', 'noise': 'noise'}
    assert raw['format_version'] == 2 and raw['action']['horizon'] == 50
    assert raw['action']['slice'] == [0, 32] and raw['action']['dt'] == 'FILL_IN'
    # what a person must fill in is listed, in the file and on stdout
    text = (out / 'bundle.yaml').read_text()
    for place in ('action.dt', 'action.names', 'preprocessing.joint_names',
                  'action.normalization.mean', 'preprocessing.tokenizer.file'):
        assert place in text and place in printed


def test_act_bundle_passes_check(bundles, capsys):
    out = _check(capsys, bundles['act'])
    assert 'observation.images.wrist  image' in out and '[1, 3, 64, 64]' in out
    t = _timing(out)
    assert 0 < t['run_p50_ms'] <= t['run_p95_ms'] < 500, t  # reported, sane; speed is bench's


def _inputs(out: str) -> dict[str, tuple[str, str, str, float, float]]:
    """Input rows of the check table: name -> (kind, shape, dtype, min, max)."""
    rows = re.findall(r'^(\S+)\s+(\S+)\s+(\[[^\]]*\])\s+(\S+)\s+(\S+)\s+(\S+)$', out, re.M)
    return {r[0]: (r[1], r[2], r[3], float(r[4]), float(r[5])) for r in rows}


def _actions(out: str) -> dict[str, tuple[float, float]]:
    rows = re.findall(r'^(\w+_joint)\s+(\S+)\s+(\S+)$', out, re.M)
    return {r[0]: (float(r[1]), float(r[2])) for r in rows}


def test_pi0_bundle_passes_check(bundles, capsys):
    out = _check(capsys, bundles['pi0'])
    ins = _inputs(out)
    kind, shape, dtype, lo, hi = ins['observation.images']
    assert (kind, shape, dtype) == ('image_stack', '[1, 2, 3, 64, 64]', 'float32')
    assert lo == -1.0 and hi <= 1.0  # SigLIP range; the black letterbox bars are -1
    assert ins['image_mask'][1:] == ('[1, 2]', 'bool', 1.0, 1.0)
    assert ins['input_ids'][1:3] == ('[1, 24]', 'int64') and ins['input_ids'][4] > 2
    assert ins['attention_mask'][1:] == ('[1, 24]', 'int64', 0.0, 1.0)  # padded on the right
    assert ins['observation.state'][1] == '[1, 32]'
    assert ins['noise'][1] == '[1, 50, 32]' and ins['noise'][3] < -1 < 1 < ins['noise'][4]
    # delta_from_state: the chunk is absolute targets around the state (elbow ~1.3 rad)
    lo, hi = _actions(out)['elbow_joint']
    assert 1.0 < lo <= hi < 1.6, (lo, hi)
    t = _timing(out)
    assert 0 < t['total_p50_ms'] < 500, t


def test_history_bundle_passes_check(bundles, capsys):
    out = _check(capsys, bundles['dp'])
    assert '[1, 2, 7]' in out and '[1, 2, 3, 64, 64]' in out


def test_inspect_shows_the_v2_fields(bundles, capsys):
    assert main(['inspect', str(bundles['pi0'])]) == 0
    out = capsys.readouterr().out
    assert 'action slice      [0, 7) of 32' in out
    assert 'delta_from_state' in out and 'padded to 32' in out and 'stack of front, wrist' in out
    assert "prompt 'task : {command} , state : {state} ; action :'" in out
    assert main(['inspect', str(bundles['dp'])]) == 0
    assert '2 frames, 0.1 s apart' in capsys.readouterr().out


def _one_line(argv, *words):
    res = subprocess.run(CLI + argv, capture_output=True, text=True, timeout=60)
    err = res.stderr.strip().splitlines()
    assert res.returncode == 1 and 'Traceback' not in res.stderr, res.stderr
    assert len(err) == 1, res.stderr
    for w in words:
        assert w in err[0], err[0]
    return err[0]


def test_unfilled_draft_and_a_refused_contract_fail_in_one_line(bundles, tmp_path):
    from vla_ros.model.reference_graphs import export_act

    draft = init(export_act(tmp_path / 'src' / 'm.onnx'), tmp_path / 'draft')
    _one_line(['bundle', 'check', str(draft)], 'FILL_IN', 'action.dt', 'joint_names')
    # token ids beyond the graph's vocabulary: the loader cannot see it, the graph refuses it
    import shutil
    bad = shutil.copytree(bundles['pi0'], tmp_path / 'bad')
    edit(bad, lambda r: r['inputs'][2]['preprocessing'].update(pad_id=100000))
    _one_line(['bundle', 'check', str(bad)], 'contract and graph disagree')
    _one_line(['bundle', 'init', str(tmp_path / 'none.onnx'), '--out', str(tmp_path / 'x')],
              'no such ONNX file')


def _token_rows(out: str) -> list[tuple[int, int, int, str]]:
    """Rows of the `bundle tokens` table: (position, id, mask, token repr)."""
    rows = re.findall(r"^(\d+)\s+(\d+)\s+([01])\s+('.*'|\".*\")$", out, re.M)
    return [(int(p), int(i), int(m), t) for p, i, m, t in rows]


def test_tokens_prints_what_the_runtime_feeds(bundles, capsys):
    import numpy as np
    from vla_ros.core.bundle.manifest import load_bundle
    from vla_ros.core.runtime.bundle_check import synthetic_frame
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime
    from vla_ros.model.reference_bundles import HOME

    assert main(['bundle', 'tokens', str(bundles['pi0']), 'pick up the red cube']) == 0
    out = capsys.readouterr().out
    # the prompt filled with the state at the mean (bin 128 of 256) and the tokens
    assert "prompt: 'task : pick up the red cube , state : " + ' '.join(['128'] * 7) + \
        " ; action :'" in out
    rows = _token_rows(out)
    assert [t for _, _, _, t in rows[:8]] == ["'[BOS]'", "'task'", "':'", "'pick'", "'up'",
                                              "'the'", "'red'", "'cube'"]
    assert '21 tokens + 3 padding (id 0' in out and 'TRUNCATED' not in out
    printed = [int(x) for x in re.search(r'^ids: \[(.*)\]$', out, re.M).group(1).split(', ')]
    assert [i for _, i, _, _ in rows] == printed[:21]
    # the same ids the runtime builds for a frame at the state mean with this command
    rt = PolicyRuntime(load_bundle(bundles['pi0']))
    frame = synthetic_frame(rt.manifest, 1_000_000_000, np.random.default_rng(0))
    frame.joint_positions = np.asarray(HOME, np.float64)
    assert rt.build_inputs(frame)['input_ids'][0].tolist() == printed
    # another state changes the prompt (pi0.5 style), as on the robot
    state = ','.join(str(x + 0.5) for x in HOME)
    assert main(['bundle', 'tokens', str(bundles['pi0']), 'pick up the red cube',
                 '--state', state, '--all']) == 0
    out = capsys.readouterr().out
    assert ' '.join(['128'] * 7) not in out and len(_token_rows(out)) == 24  # padding listed


def test_tokens_of_a_text_encoder_bundle_and_of_a_bundle_without_language(bundles, repo_root):
    res = subprocess.run(CLI + ['bundle', 'tokens', str(repo_root / 'models' / 'default'),
                                'pick up the red cube'], capture_output=True, text=True,
                         timeout=60)
    assert res.returncode == 0, res.stderr
    assert 'text_encoder.onnx (hf_tokenizers tokenizer.json, max_length 64)' in res.stdout
    assert [t for _, _, _, t in _token_rows(res.stdout)] == [
        "'[CLS]'", "'pick'", "'up'", "'the'", "'red'", "'cube'", "'[SEP]'"]
    _one_line(['bundle', 'tokens', str(bundles['act']), 'pick up the red cube'],
              'takes no command', 'no text_tokens input and no text_encoder')


def test_init_into_the_model_directory_and_a_tokens_check_of_the_prompt(tmp_path):
    """`bundle init model.onnx --out <its own directory>` used to end in a traceback."""
    from vla_ros.model.reference_graphs import export_pi0, write_tokenizer

    src = tmp_path / 'export'
    export_pi0(src / 'model.onnx')
    write_tokenizer(src / 'tokenizer.json')
    res = subprocess.run(CLI + ['bundle', 'init', 'model.onnx', '--out', '.', '--tokenizer',
                                'tokenizer.json'], capture_output=True, text=True, timeout=60,
                         cwd=src)
    assert res.returncode == 0 and 'Traceback' not in res.stderr, res.stderr
    assert 'export style: openpi' in res.stdout
    assert 'inputs[input_ids].preprocessing.prompt' in res.stdout  # to fill in
    raw = yaml.safe_load((src / 'bundle.yaml').read_text())
    assert sorted(raw['files']) == ['model.onnx', 'tokenizer.json']
    assert raw['inputs'][0]['preprocessing']['resize'] == 'pad'
