"""
The examples of docs/bundle.md are what the code accepts.

Every YAML block parses and holds only keys the loader knows; the pi0 worked example, with its
``...`` filled in, loads and runs on the pi0-shaped reference graph (``bundle check``); every
prompt the export-style sections recommend loads without a prompt warning (escapes in double
quotes).
"""

from __future__ import annotations

from pathlib import Path
import re

import pytest
from vla_ros.core.bundle.manifest import write_manifest
from vla_ros.core.bundle.schema import check_keys
from vla_ros.core.bundle.specs import TokensSpec
import yaml

DOC = Path(__file__).resolve().parents[3] / 'docs' / 'bundle.md'
ELLIPSIS = '...'


def _blocks(lang: str) -> list[str]:
    return re.findall(rf'^```{lang}\n(.*?)^```', DOC.read_text(), re.M | re.S)


def _strip(x):
    """Drop the ``...`` that stand for 'and so on' in the docs."""
    if isinstance(x, dict):
        return {k: _strip(v) for k, v in x.items() if k != ELLIPSIS}
    if isinstance(x, list):
        return [_strip(v) for v in x if v != ELLIPSIS]
    return x


def test_every_yaml_example_parses_and_names_only_known_keys():
    blocks = _blocks('yaml')
    assert len(blocks) >= 2
    for text in blocks:
        raw = _strip(yaml.safe_load(text))
        check_keys(raw)  # an unknown or misspelt key would raise, naming it


def test_the_pi0_worked_example_loads_and_runs_on_the_reference_graph(tmp_path):
    from vla_ros.core.runtime.bundle_check import check_bundle_dir
    from vla_ros.model.reference_bundles import HOME, JOINTS
    from vla_ros.model.reference_graphs import export_pi0, write_tokenizer

    raw = next(yaml.safe_load(t) for t in _blocks('yaml') if 'pi0_policy' in t)

    def fill(x, key=''):
        if isinstance(x, dict):
            return {k: fill(v, k) for k, v in x.items()}
        if isinstance(x, list) and ELLIPSIS in x:
            if key in ('joint_names', 'names'):
                return list(JOINTS)
            return {'position_mean': HOME, 'mean': [0.0] * 7}.get(key, [0.05] * 7)
        if isinstance(x, list):
            return [fill(v, key) for v in x]
        return x
    raw = fill(raw)
    raw.pop('files')
    export_pi0(tmp_path / 'pi0_policy.onnx')
    write_tokenizer(tmp_path / 'tokenizer.json')
    write_manifest(tmp_path, raw)
    report = check_bundle_dir(tmp_path, runs=2)
    assert report.model_id == 'pi0_policy' and len(report.action_names) == 7


def _recommended_prompts() -> list[str]:
    """``prompt: ...`` code spans of the docs, except the deliberate trap of the quoting part."""
    text = DOC.read_text()
    head, _, rest = text.partition('### YAML quoting of prompts')
    rest = rest[rest.index('\n### '):]
    return re.findall(r'`prompt: ([^`]+)`', head + rest)


def test_the_recommended_prompts_are_quoted_as_meant():
    prompts = _recommended_prompts()
    assert len(prompts) >= 3, prompts
    for scalar in prompts:
        prompt = yaml.safe_load(f'p: {scalar}')['p']
        spec = TokensSpec(name='input_ids', tokenizer_kind='bytes', tokenizer_file=None,
                          max_length=48, prompt=prompt,
                          state_input='state' if '{state}' in prompt else None)
        assert spec.prompt_warnings() == (), scalar
        if '\\n' in scalar:
            assert '\n' in prompt and scalar.startswith('"'), scalar  # a real newline


@pytest.mark.parametrize('scalar, warned', [("'{command}\\n'", True), ('"{command}\\n"', False),
                                            ("'{command}'", False), ('{command}\\t', True)])
def test_the_quoting_section_says_what_yaml_does(scalar, warned):
    prompt = yaml.safe_load(f'p: "{{command}}"\nq: {scalar}')['q'] if not scalar.startswith(
        '{') else yaml.safe_load(f"q: '{scalar}'")['q']
    spec = TokensSpec(name='t', tokenizer_kind='bytes', tokenizer_file=None, max_length=8,
                      prompt=prompt)
    assert bool(spec.prompt_warnings()) is warned
