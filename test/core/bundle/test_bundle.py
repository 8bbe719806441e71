"""Bundle loading: every corrupt-bundle class is refused with its specific BundleError."""

from __future__ import annotations

import shutil

import onnx
import pytest
from vla_ros.core.bundle.manifest import load_bundle, write_manifest
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.errors import (BundleError, BundleHashError, BundleManifestError,
                            BundleMissingFileError, UnsupportedOpsetError)
import yaml

pytestmark = pytest.mark.timeout(120)


@pytest.fixture(scope='module')
def good(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    return make_random_bundle(tmp_path_factory.mktemp('b') / 'good', fusion='late',
                              cameras=('front', 'wrist'))


@pytest.fixture
def copy(good, tmp_path):
    dst = tmp_path / 'bundle'
    shutil.copytree(good, dst)
    return dst


def _edit_yaml(path, fn):
    raw = yaml.safe_load((path / 'bundle.yaml').read_text())
    fn(raw)
    (path / 'bundle.yaml').write_text(yaml.safe_dump(raw, sort_keys=False))


def test_good_bundle_manifest(good):
    m = load_bundle(good).manifest
    assert m.model_id == 'random-late'
    assert m.action_kind == 'absolute_joint_position' and m.horizon == 16 and m.dt == 0.02
    assert m.action_names[-1] == 'gripper_joint' and m.action_units[0] == 'rad'
    assert m.joint_names == m.action_names
    assert m.cameras == ('front', 'wrist')
    assert m.modalities == ('image/front', 'image/wrist', 'audio', 'tactile', 'joints',
                            'language')
    assert m.required_modalities == ('joints',)
    assert set(m.files) == {'policy.onnx', 'text_encoder.onnx'}
    assert load_bundle(good / 'bundle.yaml').manifest == m


def test_missing_files(copy, tmp_path):
    with pytest.raises(BundleMissingFileError, match='bundle.yaml'):
        load_bundle(tmp_path)
    (copy / 'text_encoder.onnx').unlink()
    with pytest.raises(BundleMissingFileError, match='text_encoder.onnx'):
        load_bundle(copy)


def test_hash_mismatch(copy):
    with open(copy / 'policy.onnx', 'ab') as f:
        f.write(b'\0')
    with pytest.raises(BundleHashError, match='policy.onnx'):
        load_bundle(copy)
    with pytest.raises(BundleHashError):
        PolicyRuntime.from_bundle(copy)


@pytest.mark.parametrize('edit, match', [
    (lambda r: r['inputs'][0].update(name='image_left'), 'inputs'),
    (lambda r: r['inputs'][2].update(shape=[-1, 32, 99]), 'audio_mel'),
    (lambda r: r['inputs'][3].update(dtype='float16'), 'dtype'),
    (lambda r: r['outputs'][0].update(shape=[-1, 16, 6]), 'action'),
    (lambda r: r['action'].update(kind='teleport'), 'teleport'),
    (lambda r: r['text_encoder'].update(dim=31), 'text'),
    (lambda r: r.pop('inputs'), 'inputs'),
])
def test_manifest_vs_onnx_disagreement(copy, edit, match):
    _edit_yaml(copy, edit)
    with pytest.raises(BundleManifestError, match=match):
        load_bundle(copy)


@pytest.mark.parametrize('edit, match', [
    # typos are errors naming the key, its section and the nearest valid key
    (lambda r: r.update(required_modalites=r.pop('required_modalities')),
     r"\(top level\): unknown key 'required_modalites'; did you mean 'required_modalities'"),
    (lambda r: r['inputs'][0]['preprocessing'].update(
        colour_order=r['inputs'][0]['preprocessing'].pop('color_order')),
     r"inputs\[0\] \(image_front\)\.preprocessing: unknown key 'colour_order'; did you mean "
     r"'color_order'"),
    (lambda r: r['action'].update(horizn=16), r"action: unknown key 'horizn'; did you mean "
                                              r"'horizon'"),
    (lambda r: r['text_encoder']['tokenizer'].update(max_len=8),
     r"text_encoder\.tokenizer: unknown key 'max_len'; did you mean 'max_length'"),
    (lambda r: r['inputs'][2]['preprocessing']['mel'].update(nmels=8),
     r"inputs\[2\] \(audio_mel\)\.preprocessing\.mel: unknown key 'nmels'"),
    # missing fields name their section
    (lambda r: r['action'].pop('horizon'), r"action: missing field 'horizon'"),
    (lambda r: r['policy'].pop('file'), r"policy: missing field 'file'"),
    (lambda r: r['inputs'][0]['preprocessing'].pop('camera'),
     r"inputs\[0\] \(image_front\)\.preprocessing: missing field 'camera'"),
    (lambda r: r.pop('model_id'), r"\(top level\): missing field 'model_id'"),
    # bad values name their field
    (lambda r: r['action'].update(horizon='many'), r'action\.horizon: bad value'),
    (lambda r: r['inputs'][0]['preprocessing'].update(color_order='grb'), 'color_order'),
    (lambda r: r.update(required_modalities=['joint']),
     r"required_modalities: 'joint' is not the modality of any input; did you mean 'joints'"),
])
def test_unknown_keys_and_missing_fields_name_their_section(copy, edit, match):
    _edit_yaml(copy, edit)
    with pytest.raises(BundleManifestError, match=match):
        load_bundle(copy)


def test_committed_default_bundle_still_loads(repo_root):
    m = load_bundle(repo_root / 'models' / 'default').manifest
    assert m.cameras == ('front', 'wrist') and m.text_encoder['tokenizer']['file']


def test_unsupported_opset_and_format(copy):
    model = onnx.load(str(copy / 'policy.onnx'))
    model.opset_import[0].version = 9
    onnx.save(model, str(copy / 'policy.onnx'))
    raw = yaml.safe_load((copy / 'bundle.yaml').read_text())
    write_manifest(copy, raw)  # re-hash: only the opset is wrong now
    with pytest.raises(UnsupportedOpsetError, match='opset 9'):
        load_bundle(copy)
    _edit_yaml(copy, lambda r: r.update(format_version=99))
    with pytest.raises(UnsupportedOpsetError, match='format_version'):
        load_bundle(copy)


def test_all_are_bundle_errors():
    for cls in (BundleMissingFileError, BundleHashError, BundleManifestError,
                UnsupportedOpsetError):
        assert issubclass(cls, BundleError)


def test_write_manifest_refuses_invalid(copy):
    raw = yaml.safe_load((copy / 'bundle.yaml').read_text())
    raw['action']['units'] = ['rad']
    with pytest.raises(BundleManifestError, match='lengths'):
        write_manifest(copy, raw)


def test_user_wrapped_policy_without_presence_or_text(tmp_path):
    """docs/bundle.md recipe: an ONNX policy of one's own (image + joint state -> chunk)."""
    import numpy as np
    import torch

    from helpers.runtime_fixtures import JOINTS, full_frame

    class Act(torch.nn.Module):  # stands in for e.g. an exported LeRobot ACT

        def __init__(self):
            super().__init__()
            self.img = torch.nn.Linear(3 * 32 * 32, 16)
            self.out = torch.nn.Linear(16 + 7, 10 * 7)

        def forward(self, image, state):
            z = torch.cat([self.img(image.flatten(1)), state], dim=1)
            return self.out(z).reshape(-1, 10, 7)

    torch.onnx.export(Act().eval(), (torch.randn(2, 3, 32, 32), torch.randn(2, 7)),
                      str(tmp_path / 'policy.onnx'),
                      input_names=['observation.images.front', 'observation.state'],
                      output_names=['action'], opset_version=17, dynamo=False,
                      dynamic_axes={'observation.images.front': {0: 'b'},
                                    'observation.state': {0: 'b'}, 'action': {0: 'b'}})
    write_manifest(tmp_path, {
        'model_id': 'my-act', 'provenance': {'source': 'lerobot ACT, exported by hand'},
        'policy': {'file': 'policy.onnx'},
        'inputs': [
            {'name': 'observation.images.front', 'modality': 'image/front',
             'shape': [-1, 3, 32, 32], 'dtype': 'float32',
             'preprocessing': {'kind': 'image', 'camera': 'front', 'size': [32, 32],
                               'color_order': 'rgb', 'mean': [0.0] * 3, 'std': [1.0] * 3}},
            {'name': 'observation.state', 'modality': 'joints', 'shape': [-1, 7],
             'dtype': 'float32',
             'preprocessing': {'kind': 'joints', 'joint_names': list(JOINTS),
                               'position_mean': [0.0] * 7, 'position_std': [1.0] * 7}}],
        'outputs': [{'name': 'action', 'shape': [-1, 10, 7], 'dtype': 'float32'}],
        'action': {'output': 'action', 'names': list(JOINTS), 'units': ['rad'] * 6 + ['m'],
                   'kind': 'absolute_joint_position', 'horizon': 10, 'dt': 0.05},
        'required_modalities': ['image/front', 'joints']})
    rt = PolicyRuntime.from_bundle(tmp_path)
    out = rt.infer(full_frame())
    assert out.actions.shape == (10, 7) and np.all(np.isfinite(out.actions))
    assert rt.manifest.modalities == ('image/front', 'joints')
