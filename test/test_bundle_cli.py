"""
``vla-ros bundle init`` -> a person's edits -> ``vla-ros bundle check`` on foreign graphs.

The ACT-, pi0- and Diffusion-shaped reference graphs (vla_ros/tools/reference_graphs.py,
random weights) each pass ``bundle check``; a drafted bundle that was not filled in, and a
contract the graph refuses when run, fail with one line on stderr and no traceback.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest
from vla_ros.cli.main import main
from vla_ros.tools.reference_bundles import (edit, init, make_act_bundle, make_diffusion_bundle,
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
    from vla_ros.tools.reference_graphs import export_pi0

    out = init(export_pi0(tmp_path / 'src' / 'model.onnx'), tmp_path / 'b')
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
    from vla_ros.tools.reference_graphs import export_act

    draft = init(export_act(tmp_path / 'src' / 'm.onnx'), tmp_path / 'draft')
    _one_line(['bundle', 'check', str(draft)], 'FILL_IN', 'action.dt', 'joint_names')
    # token ids beyond the graph's vocabulary: the loader cannot see it, the graph refuses it
    import shutil
    bad = shutil.copytree(bundles['pi0'], tmp_path / 'bad')
    edit(bad, lambda r: r['inputs'][2]['preprocessing'].update(pad_id=100000))
    _one_line(['bundle', 'check', str(bad)], 'contract and graph disagree')
    _one_line(['bundle', 'init', str(tmp_path / 'none.onnx'), '--out', str(tmp_path / 'x')],
              'no such ONNX file')
