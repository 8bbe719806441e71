"""
Foreign bundles without silent traps (issue 26).

What ``bundle init`` drafts per export style, same-directory ``--out``, external weights, the
inputs mismatch message, prompt warnings, state stats checked at load.

Torch-free: the graphs are written with ``onnx.helper`` (the action output is the noise or the
state repeated, so they run), with the input names real exports use.
"""

from __future__ import annotations

import logging
from pathlib import Path

import numpy as np
import onnx
from onnx import helper, TensorProto
import pytest
from vla_ros.core.bundle.contract import FILL_IN
from vla_ros.core.bundle.draft import draft_manifest, ExportStyle, write_draft
from vla_ros.core.bundle.manifest import load_bundle, write_manifest
from vla_ros.core.runtime.prompt_tokens import PromptTokens
from vla_ros.errors import BundleIncompleteError, BundleManifestError
import yaml

F, B, I32, I64 = TensorProto.FLOAT, TensorProto.BOOL, TensorProto.INT32, TensorProto.INT64
JOINTS = ['j1', 'j2', 'j3']


def graph(path: Path, inputs: dict[str, tuple[list, int]], *, output: str = 'actions',
          horizon: int = 4, external: bool = False) -> Path:
    """
    Write a graph with these inputs; ``output`` [batch, horizon, W] = ``noise`` + 0 if given.

    Without a noise input the output is the state (the joints-named input) repeated.
    """
    vi = [helper.make_tensor_value_info(n, t, ['batch', *d]) for n, (d, t) in inputs.items()]
    if 'noise' in inputs:
        horizon, width = inputs['noise'][0]
        nodes = [helper.make_node('Add', ['noise', 'bias'], [output])]
    else:
        state = next(n for n in inputs if n.endswith('state') or n == 'qpos')
        width = inputs[state][0][-1]
        nodes = [helper.make_node('Unsqueeze', [state, 'axis1'], ['s1']),
                 helper.make_node('Concat', ['s1'] * horizon, [output], axis=1)]
    # a weight, so that a model can keep it as external data
    w = helper.make_tensor('axis1', I64, [1], [1]) if 'noise' not in inputs else \
        helper.make_tensor('bias', F, [width], np.zeros(width, np.float32).tobytes(), raw=True)
    g = helper.make_graph(nodes, 'policy', vi,
                          [helper.make_tensor_value_info(output, F, ['batch', horizon, width])],
                          initializer=[w])
    model = helper.make_model(g, opset_imports=[helper.make_opsetid('', 17)])
    model.ir_version = 8
    path.parent.mkdir(parents=True, exist_ok=True)
    if external:
        onnx.save_model(model, str(path), save_as_external_data=True, location='weights.bin',
                        size_threshold=0)
    else:
        onnx.save_model(model, str(path))
    return path


OPENPI = {'base_0_rgb': ([3, 224, 224], F), 'left_wrist_0_rgb': ([3, 224, 224], F),
          'img_masks': ([2], B), 'tokenized_prompt': ([48], I32),
          'tokenized_prompt_mask': ([48], B), 'state': ([32], F), 'noise': ([50, 32], F)}
SMOLVLA = {'observation.images.front': ([3, 512, 512], F),
           'observation.language.tokens': ([48], I64),
           'observation.language.attention_mask': ([48], B),
           'observation.state': ([32], F), 'noise': ([50, 32], F)}
ACT = {'observation.images.front': ([3, 96, 96], F), 'observation.state': ([7], F)}
PLAIN = {'image': ([3, 96, 96], F), 'qpos': ([7], F)}


def _inputs(draft) -> dict[str, dict]:
    return {d['name']: d for d in draft.manifest['inputs']}


def test_openpi_export_drafts_pad_siglip_range_and_a_prompt_to_fill_in(tmp_path):
    d = draft_manifest(graph(tmp_path / 'pi0.onnx', OPENPI))
    ins = _inputs(d)
    assert d.manifest['provenance']['export_style'] == ExportStyle.OPENPI.value
    for name, cam in (('base_0_rgb', 'base'), ('left_wrist_0_rgb', 'left_wrist')):
        pre = ins[name]['preprocessing']
        assert (pre['resize'], pre['value_range'], pre['camera']) == ('pad', [-1, 1], cam)
        assert ins[name]['modality'] == f'image/{cam}'
    assert ins['img_masks']['preprocessing'] == {
        'kind': 'presence', 'order': ['image/base', 'image/left_wrist']}
    assert ins['tokenized_prompt']['preprocessing']['prompt'] == FILL_IN
    assert 'inputs[tokenized_prompt].preprocessing.prompt' in d.todo
    assert any('"{command}\\n"' in n for n in d.notes), d.notes  # what pi0 wants, quoted
    assert ins['tokenized_prompt_mask']['preprocessing'] == {
        'kind': 'token_mask', 'tokens': 'tokenized_prompt'}
    # a modality only where the runtime reads one; never the unexplained ''
    assert {n: i.get('modality') for n, i in ins.items()} == {
        'base_0_rgb': 'image/base', 'left_wrist_0_rgb': 'image/left_wrist', 'img_masks': None,
        'tokenized_prompt': 'language', 'tokenized_prompt_mask': None, 'state': 'joints',
        'noise': None}


def test_smolvla_export_drafts_pad_and_the_newline_prompt_note(tmp_path):
    d = draft_manifest(graph(tmp_path / 'smolvla.onnx', SMOLVLA, output='action'))
    ins = _inputs(d)
    assert d.manifest['provenance']['export_style'] == 'smolvla'
    pre = ins['observation.images.front']['preprocessing']
    assert (pre['resize'], pre['value_range'], pre['size']) == ('pad', [-1, 1], [512, 512])
    assert ins['observation.language.tokens']['preprocessing']['prompt'] == FILL_IN
    assert ins['observation.language.attention_mask']['preprocessing']['kind'] == 'token_mask'
    assert any('SmolVLA appends a newline' in n for n in d.notes)


@pytest.mark.parametrize('inputs, style', [(ACT, 'lerobot'), (PLAIN, 'plain')])
def test_lerobot_and_plain_exports_draft_stretch_in_zero_one(tmp_path, inputs, style):
    d = draft_manifest(graph(tmp_path / 'm.onnx', inputs))
    image = next(i for i in d.manifest['inputs'] if i['preprocessing']['kind'] == 'image')
    pre = image['preprocessing']
    assert d.manifest['provenance']['export_style'] == style
    assert (pre['resize'], pre['value_range']) == ('stretch', [0, 1])
    # a plain graph names no camera: the person says which one it is
    assert image['modality'] == ('image/front' if style == 'lerobot' else f'image/{FILL_IN}')
    assert (style == 'plain') == any('letterboxed' in n for n in d.notes)


def _fill(raw: dict, *, prompt: str = '{command}') -> dict:
    for d in raw['inputs']:
        pre = d['preprocessing']
        if pre['kind'] == 'joints':
            pre.update(joint_names=JOINTS, position_mean=[0.0] * 3, position_std=[1.0] * 3)
        elif pre['kind'] == 'text_tokens':
            pre.update(prompt=prompt, tokenizer={'kind': 'bytes'})
    raw['action'].update(names=JOINTS, units=['rad'] * 3, dt=0.1, slice=[0, 3],
                         normalization={'mean': [0.0] * 3, 'std': [1.0] * 3})
    return raw


TOKENS = {'input_ids': ([16], I64), 'attention_mask': ([16], I64), 'observation.state': ([3], F)}


def test_same_directory_out_copies_nothing_and_hashes_only_the_bundle_files(tmp_path):
    model = graph(tmp_path / 'model.onnx', TOKENS)
    (tmp_path / 'tokenizer.json').write_text('{}')  # not named by --tokenizer: not hashed
    (tmp_path / 'train_log.txt').write_text('step 1\n')
    draft = write_draft(model, tmp_path)  # used to end in shutil.SameFileError
    raw = yaml.safe_load((tmp_path / 'bundle.yaml').read_text())
    assert list(raw['files']) == ['model.onnx']
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        'bundle.yaml', 'model.onnx', 'tokenizer.json', 'train_log.txt']
    # the drafted prompt is refused until a person writes it
    assert 'inputs[input_ids].preprocessing.prompt' in draft.todo
    raw = _fill(raw)
    raw['inputs'][0]['preprocessing']['prompt'] = FILL_IN
    (tmp_path / 'bundle.yaml').write_text(yaml.safe_dump(raw))
    with pytest.raises(BundleIncompleteError, match=r'inputs\[input_ids\].preprocessing.prompt'):
        load_bundle(tmp_path)
    (tmp_path / 'bundle.yaml').write_text(yaml.safe_dump(_fill(raw)))
    (tmp_path / 'train_log.txt').write_text('step 2\n')  # not part of the bundle
    assert load_bundle(tmp_path).manifest.model_id == 'model'


def test_external_weights_travel_with_the_graph(tmp_path):
    from vla_ros.core.runtime.bundle_check import check_bundle_dir
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime

    model = graph(tmp_path / 'src' / 'pi0.onnx', OPENPI, external=True)
    draft = write_draft(model, tmp_path / 'b')
    raw = yaml.safe_load((tmp_path / 'b' / 'bundle.yaml').read_text())
    assert draft.manifest['provenance']['external_data'] == ['weights.bin']
    assert sorted(raw['files']) == ['pi0.onnx', 'weights.bin']
    assert (tmp_path / 'b' / 'weights.bin').read_bytes() == \
        (tmp_path / 'src' / 'weights.bin').read_bytes()
    raw = _fill(raw, prompt='{command}\n')
    for d in raw['inputs']:
        if d['preprocessing']['kind'] == 'image':
            d['preprocessing']['size'] = [224, 224]
    (tmp_path / 'b' / 'bundle.yaml').write_text(yaml.safe_dump(raw))
    rt = PolicyRuntime(load_bundle(tmp_path / 'b'))  # opens: the weights are found
    assert rt.manifest.cameras == ('base', 'left_wrist')
    # openpi's dtypes run as drafted: int32 ids, bool token and image masks
    got = {i.name: (i.dtype, i.shape) for i in check_bundle_dir(tmp_path / 'b', runs=1).inputs}
    assert got['tokenized_prompt'] == ('int32', (1, 48))
    assert got['tokenized_prompt_mask'] == got['img_masks'][:1] + ((1, 48),) == ('bool', (1, 48))


def _tokens_bundle(tmp_path: Path) -> Path:
    graph(tmp_path / 'policy.onnx', TOKENS)
    write_manifest(tmp_path, _fill(draft_manifest(tmp_path / 'policy.onnx').manifest))
    return tmp_path


def test_the_inputs_mismatch_says_what_is_missing_and_what_is_extra(tmp_path):
    b = _tokens_bundle(tmp_path)
    raw = yaml.safe_load((b / 'bundle.yaml').read_text())
    raw['inputs'][2]['name'] = 'obs.state'
    raw['inputs'][2]['modality'] = 'joints'
    (b / 'bundle.yaml').write_text(yaml.safe_dump(raw))
    with pytest.raises(BundleManifestError) as e:
        load_bundle(b)
    msg = str(e.value)
    assert 'missing from the graph: obs.state' in msg
    assert 'extra in the graph (not in the manifest): observation.state' in msg
    assert "renamed? 'obs.state' -> 'observation.state'" in msg
    assert '!=' not in msg  # no two lists to diff by eye


def _with_prompt(b: Path, yaml_scalar: str) -> Path:
    """Write the prompt as this YAML scalar, exactly as a person types it."""
    text = (b / 'bundle.yaml').read_text()
    assert "prompt: '{command}'" in text
    (b / 'bundle.yaml').write_text(text.replace("prompt: '{command}'", f'prompt: {yaml_scalar}'))
    return b


def _prompt_ids(b: Path) -> list[int]:
    from vla_ros.core.bundle.spec_fields import input_specs

    spec = input_specs(load_bundle(b).manifest)['input_ids']
    ids, mask = PromptTokens(spec, None)('go')
    return ids[mask == 1].tolist()


def test_a_single_quoted_backslash_n_prompt_is_warned_at_load(tmp_path, caplog):
    b = _with_prompt(_tokens_bundle(tmp_path), "'{command}\\n'")
    with caplog.at_level(logging.WARNING, logger='vla_ros.bundle'):
        load_bundle(b)
    warned = [r.getMessage() for r in caplog.records if r.name == 'vla_ros.bundle']
    assert len(warned) == 1, warned
    assert "'input_ids'.prompt" in warned[0] and 'double quotes' in warned[0]
    # the trap itself: a backslash and an n are fed (bytes + 3), not a newline
    assert _prompt_ids(b) == [1, ord('g') + 3, ord('o') + 3, ord('\\') + 3, ord('n') + 3, 2]


def test_a_double_quoted_newline_prompt_loads_quietly(tmp_path, caplog):
    b = _with_prompt(_tokens_bundle(tmp_path), '"{command}\\n"')
    with caplog.at_level(logging.WARNING, logger='vla_ros.bundle'):
        load_bundle(b)
    assert not [r for r in caplog.records if r.name == 'vla_ros.bundle']
    assert _prompt_ids(b) == [1, ord('g') + 3, ord('o') + 3, ord('\n') + 3, 2]


def test_a_prompt_without_the_command_is_warned(tmp_path, caplog):
    b = _with_prompt(_tokens_bundle(tmp_path), "'pick up the cube'")
    with caplog.at_level(logging.WARNING, logger='vla_ros.bundle'):
        load_bundle(b)
    assert any('has no {command} field' in r.getMessage() for r in caplog.records)


def test_a_truncated_prompt_is_logged_once(tmp_path, caplog):
    from vla_ros.core.bundle.spec_fields import input_specs

    b = _tokens_bundle(tmp_path)
    spec = input_specs(load_bundle(b).manifest)['input_ids']
    tok = PromptTokens(spec, None)
    with caplog.at_level(logging.WARNING, logger='vla_ros.tokens'):
        ids, mask = tok('pick up the red cube and put it in the box')
        tok('pick up the blue cube and put it in the box')
        tok('go')
    assert ids.tolist() == [1, *(c + 3 for c in b'pick up the re'), 2]  # the rest is cut
    warned = [r.getMessage() for r in caplog.records if r.name == 'vla_ros.tokens']
    assert len(warned) == 1 and 'is 44 tokens, max_length 16' in warned[0], warned
    assert tok.truncated == 2


def test_state_stats_of_the_wrong_length_are_refused_not_broadcast(tmp_path):
    from vla_ros.errors import StateSpecError

    b = _tokens_bundle(tmp_path)
    raw = yaml.safe_load((b / 'bundle.yaml').read_text())
    pre = raw['inputs'][2]['preprocessing']
    pre['position_mean'] = [0.5]  # numpy would broadcast it over every joint
    (b / 'bundle.yaml').write_text(yaml.safe_dump(raw))
    with pytest.raises(StateSpecError, match=r'position_mean \(one per joint_names entry\): '
                                             r'expected 3 numbers, got \[0.5\]'):
        load_bundle(b)
    pre['position_mean'], pre['position_std'] = [0.0] * 3, [1.0, 0.0, 1.0]
    (b / 'bundle.yaml').write_text(yaml.safe_dump(raw))
    with pytest.raises(StateSpecError, match='every std must be > 0'):
        load_bundle(b)
