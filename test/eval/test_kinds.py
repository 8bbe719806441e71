"""Which task kinds evaluations ask a bundle for: what its demonstrations had."""

import json
import shutil

import pytest
from vla_ros.errors import VlaRosError
from vla_ros.eval.kinds import trained_kinds
from vla_ros.model.dataset import recorded_kinds
from vla_ros.sim.task_suite import CORE_KINDS
import yaml


def _with_provenance(repo_root, tmp_path, **extra):
    out = tmp_path / 'bundle'
    shutil.copytree(repo_root / 'models' / 'default', out)
    raw = yaml.safe_load((out / 'bundle.yaml').read_text())
    raw['provenance'].update(extra)
    (out / 'bundle.yaml').write_text(yaml.safe_dump(raw))
    return out


def test_a_bundle_without_a_record_gets_the_core_kinds(repo_root):
    assert trained_kinds(repo_root / 'models' / 'default') == [k.value for k in CORE_KINDS]


def test_recorded_kinds_are_used_in_task_kind_order(repo_root, tmp_path):
    b = _with_provenance(repo_root, tmp_path, task_kinds=['keyword', 'pick', 'no_such_kind'])
    assert trained_kinds(b) == ['pick', 'keyword']


def test_a_missing_bundle_is_an_error(tmp_path):
    with pytest.raises(VlaRosError):
        trained_kinds(tmp_path / 'nothing')


def test_recorded_kinds_read_the_recorders_index(tmp_path):
    demos = tmp_path / 'demos'
    rows = [('pick_red_030000', 'pick'), ('keyword_blue_030001', 'keyword'),
            ('beep_red_030002', 'beep')]
    for bag, _ in rows:
        (demos / bag).mkdir(parents=True)
        (demos / bag / 'metadata.yaml').write_text('{}')
    (demos / 'episodes.jsonl').write_text(
        '\n'.join(json.dumps({'bag': b, 'kind': k}) for b, k in rows) + '\n')
    bags = [b for b in sorted(demos.iterdir()) if b.is_dir()]
    assert recorded_kinds(bags) == ['beep', 'keyword', 'pick']
    # only the bags asked for count
    assert recorded_kinds([demos / 'pick_red_030000']) == ['pick']
    assert recorded_kinds([tmp_path]) == []
