"""
Bundle contract v2: every new field is validated at load with its own error; v1 unchanged.

The manifests are parsed without ONNX (``parse_manifest``), from pi0- and Diffusion-style
contracts as ``vla-ros bundle init`` + a person's edits leave them.
"""

from __future__ import annotations

import copy

from helpers.contract_v2 import dp_raw, J, pi0_raw
import pytest
from vla_ros.core.bundle.manifest import load_bundle, parse_manifest, write_manifest
from vla_ros.errors import (ActionSpecError, BundleIncompleteError, BundleManifestError,
                            FormatVersionError, HistorySpecError, ImageSpecError, NoiseSpecError,
                            StateSpecError, TextTokensSpecError, UnsupportedOpsetError)


def _in(raw: dict, name: str) -> dict:
    return next(i for i in raw['inputs'] if i['name'] == name)


def _pre(raw: dict, name: str) -> dict:
    return _in(raw, name)['preprocessing']


def test_good_v2_manifests_parse():
    m = parse_manifest(pi0_raw())
    assert m.format_version == 2 and m.cameras == ('front', 'wrist')
    assert m.modalities == ('image/front', 'image/wrist', 'language', 'joints')
    post = m.action_post
    assert (post.start, post.stop, post.width) == (0, 7, 32)
    assert post.reference.value == 'delta_from_state' and post.delta_joints == tuple(J[:6])
    d = parse_manifest(dp_raw())
    assert d.history.frames == 2 and d.history.spacing_s == 0.1


CASES = [
    # images
    (pi0_raw, lambda r: _pre(r, 'observation.images').update(value_range=[1, -1]),
     ImageSpecError, r'value_range: need low < high, got \[1.0, -1.0\]'),
    (pi0_raw, lambda r: _pre(r, 'observation.images').update(resize='crop'),
     ImageSpecError, r"resize: 'crop' is not one of \['stretch', 'pad'\]"),
    (pi0_raw, lambda r: _pre(r, 'observation.images').update(cameras=[]),
     ImageSpecError, 'cameras must be distinct and not empty'),
    (pi0_raw, lambda r: _in(r, 'observation.images').update(shape=[-1, 3, 3, 64, 64]),
     ImageSpecError, r'shape \[-1, 3, 3, 64, 64\] does not match .* 2 cameras'),
    (pi0_raw, lambda r: _in(r, 'observation.images').update(dtype='uint8'),
     ImageSpecError, r'uint8 image takes raw pixels.*value_range \[-1.0, 1.0\]'),
    (pi0_raw, lambda r: _pre(r, 'observation.images').update(layout='HCW'),
     BundleManifestError, r"layout: 'HCW' is not one of \('CHW', 'HWC'\)"),
    # state
    (pi0_raw, lambda r: _pre(r, 'observation.state').update(pad_to=4),
     StateSpecError, 'pad_to: 4 is less than the 7 state values'),
    (pi0_raw, lambda r: _in(r, 'observation.state').update(shape=[-1, 30]),
     StateSpecError, r'shape \[-1, 30\] != \[batch, 32\] \(7 state values padded to 32\)'),
    # tokens
    (pi0_raw, lambda r: _pre(r, 'input_ids').update(max_length=20),
     TextTokensSpecError, r'shape \[-1, 24\] != \[batch, max_length=20\]'),
    (pi0_raw, lambda r: _pre(r, 'input_ids').update(padding_side='middle'),
     TextTokensSpecError, "padding_side: 'middle' is not one of"),
    (pi0_raw, lambda r: _pre(r, 'input_ids').update(prompt='{command} {robot}'),
     TextTokensSpecError, r'unknown field \{robot\}'),
    (pi0_raw, lambda r: _pre(r, 'input_ids').pop('state_input'),
     TextTokensSpecError, r'\{state\} needs state_input'),
    (pi0_raw, lambda r: _pre(r, 'input_ids').update(state_input='noise'),
     TextTokensSpecError, "state_input: 'noise' is not a joints input"),
    (pi0_raw, lambda r: _pre(r, 'input_ids').update(tokenizer={'kind': 'sentencepiece'}),
     TextTokensSpecError, "tokenizer.kind: 'sentencepiece' is not one of"),
    (pi0_raw, lambda r: _pre(r, 'input_ids').update(tokenizer={'kind': 'hf_tokenizers'}),
     TextTokensSpecError, 'hf_tokenizers needs a file'),
    (pi0_raw, lambda r: _pre(r, 'input_ids').update(state_bins=1),
     TextTokensSpecError, 'state_bins: expected an integer >= 2, got 1'),
    (pi0_raw, lambda r: _pre(r, 'attention_mask').update(tokens='prompt'),
     TextTokensSpecError, "tokens: 'prompt' is not a text_tokens input"),
    # noise
    (pi0_raw, lambda r: _pre(r, 'noise').update(distribution='cauchy'),
     NoiseSpecError, "distribution: 'cauchy' is not one of \\['normal', 'uniform'\\]"),
    (pi0_raw, lambda r: _pre(r, 'noise').update(seed=-1),
     NoiseSpecError, 'seed: expected an integer >= 0, got -1'),
    (pi0_raw, lambda r: _pre(r, 'noise').update(scale=0),
     NoiseSpecError, 'scale: expected a number > 0, got 0'),
    (pi0_raw, lambda r: _in(r, 'noise').update(dtype='int64'),
     NoiseSpecError, "noise dtype must be float32 or float16, got 'int64'"),
    # action
    (pi0_raw, lambda r: r['action'].update(slice=[0, 6]),
     ActionSpecError, r'slice: \[0, 6\] selects 6 values, action.names has 7'),
    (pi0_raw, lambda r: r['action'].update(slice=[30, 37]),
     ActionSpecError, r'\[30, 37\] must lie within the output width 32'),
    (pi0_raw, lambda r: r['action'].update(slice='0:7'),
     ActionSpecError, r"expected \[start, stop\], got '0:7'"),
    (pi0_raw, lambda r: r['action'].pop('slice'),
     ActionSpecError, 'a padded output needs action.slice'),
    (pi0_raw, lambda r: r['action'].update(reference='relative'),
     ActionSpecError, "reference: 'relative' is not one of"),
    (pi0_raw, lambda r: r['action'].update(delta_joints=['elbow']),
     ActionSpecError, r"delta_joints: \['elbow'\] not among"),
    (pi0_raw, lambda r: r['action'].update(kind='joint_velocity'),
     ActionSpecError, "kind must be absolute_joint_position, got 'joint_velocity'"),
    # history
    (dp_raw, lambda r: r['history'].update(frames=1),
     HistorySpecError, 'history.frames: expected an integer >= 2, got 1'),
    (dp_raw, lambda r: r['history'].update(spacing_s=0),
     HistorySpecError, r'spacing_s: expected seconds in \(0, 10\], got 0'),
    (dp_raw, lambda r: r.pop('history'),
     HistorySpecError, 'history: true needs a top-level history section'),
    (dp_raw, lambda r: [_pre(r, n).pop('history')
                        for n in ('observation.images.front', 'observation.state')],
     ImageSpecError, r'shape \[-1, 2, 64, 64, 3\] does not match'),
    (dp_raw, lambda r: _in(r, 'pad_mask').update(shape=[-1, 3]),
     HistorySpecError, r'history_mask needs .* shape \[batch, frames\], got \[-1, 3\]'),
    (dp_raw, lambda r: _pre(r, 'observation.state').update(history='yes'),
     HistorySpecError, "history: expected true or false, got 'yes'"),
    # versions and drafts
    (pi0_raw, lambda r: r.update(format_version=3), UnsupportedOpsetError, 'format_version 3'),
    (dp_raw, lambda r: r['action'].update(dt='FILL_IN'),
     BundleIncompleteError, r'1 FILL_IN placeholder\(s\) .*: action.dt'),
    (pi0_raw, lambda r: _pre(r, 'observation.state').update(joint_names='FILL_IN'),
     BundleIncompleteError, r'inputs\[observation.state\].preprocessing.joint_names'),
]


@pytest.mark.parametrize('make, edit, error, match', CASES)
def test_every_v2_field_is_validated_with_a_specific_error(make, edit, error, match):
    raw = make()
    edit(raw)
    with pytest.raises(error, match=match):
        parse_manifest(raw)
    assert issubclass(error, BundleManifestError) or error is UnsupportedOpsetError


V1_CASES = [
    (lambda r: r['action'].update(slice=[0, 7]), r"action: 'slice' needs format_version: 2"),
    (lambda r: r.update(history={'frames': 2, 'spacing_s': 0.1}), "'history' needs"),
    (lambda r: r['inputs'][0]['preprocessing'].update(value_range=[-1, 1]),
     r"preprocessing: 'value_range' needs format_version: 2"),
    (lambda r: r['inputs'].append({'name': 'noise', 'shape': [-1, 16, 7],
                                   'preprocessing': {'kind': 'noise'}}),
     "kind 'noise' needs format_version: 2"),
    (lambda r: r['inputs'][0]['preprocessing'].update(layout='HWC'), 'layout'),
]


@pytest.mark.parametrize('edit, match', V1_CASES)
def test_v1_manifests_refuse_v2_fields(repo_root, edit, match):
    import yaml

    raw = yaml.safe_load((repo_root / 'models' / 'default' / 'bundle.yaml').read_text())
    assert raw['format_version'] == 1
    edit(raw)
    with pytest.raises(BundleManifestError, match=match) as e:
        parse_manifest(raw)
    if 'needs' in match:
        assert isinstance(e.value, FormatVersionError)


def test_v1_default_bundle_loads_unchanged(repo_root):
    m = load_bundle(repo_root / 'models' / 'default').manifest
    assert m.format_version == 1 and m.history is None
    post = m.action_post
    assert (post.start, post.stop, post.width) == (0, 7, 7) and post.reference.value == 'absolute'
    assert m.cameras == ('front', 'wrist') and 'language' in m.modalities


def test_write_manifest_picks_the_lowest_version(tmp_path):
    (tmp_path / 'policy.onnx').write_bytes(b'x')
    raw = pi0_raw()
    for key in ('format_version', 'files'):
        raw.pop(key)
    written = write_manifest(tmp_path, copy.deepcopy(raw))
    import yaml
    assert yaml.safe_load(written.read_text())['format_version'] == 2
    v1 = dp_raw()
    v1.pop('history'), v1.pop('format_version'), v1.pop('files')
    v1['inputs'] = [{'name': 's', 'modality': 'joints', 'shape': [-1, 7],
                     'preprocessing': {'kind': 'joints', 'joint_names': J,
                                       'position_mean': [0.0] * 7, 'position_std': [1.0] * 7}}]
    assert yaml.safe_load(write_manifest(tmp_path, v1).read_text())['format_version'] == 1
