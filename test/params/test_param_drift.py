"""
Every node parameter is one spec: its default, type and range agree everywhere they show.

For each row of :data:`vla_ros.params.NODE_PARAMETERS` (every parameter of every node):

- config dataclasses: the default ``PolicyConfig``, ``SchedulerConfig``, ``AdapterConfig``,
  ``SessionSettings``, ``RemoteConfig`` and ``SyncConfig`` equal the configs built from the
  spec defaults, field by field; a value outside a row's range (or choices) is a ConfigError
  quoting it, from the config and from the offline params-file reader alike;
- rclpy: the real nodes, instantiated, declare exactly their rows with the row's type,
  default, description, range and read_only (``vla_policy``, ``multimodal_sync``,
  ``fake_sensors``, ``sim_microphone``, ``vla_inference``); ``mujoco_sim`` (renders) and
  ``gz_tactile`` (needs Gazebo's messages) are checked on a bare node through the same
  function their modules call, and every node module declares only through it;
- docs: the generated table of each node lists each row with the same type, default and range.
"""

from __future__ import annotations

import ast
import dataclasses
import math
import pathlib
import re

import pytest
from vla_ros.cli.param_docs import DOCS, tables
from vla_ros.core.control.adapters import ADAPTER_PARAMETERS, AdapterConfig
from vla_ros.core.control.config import FIELD_PARAMETERS, PolicyConfig
from vla_ros.core.control.from_params import policy_config_from_values
from vla_ros.core.control.scheduler import FIELDS as SCHEDULER_FIELDS, SchedulerConfig
from vla_ros.core.remote.wire import RemoteConfig
from vla_ros.core.runtime.session import SESSION_PARAMETERS, SessionSettings
from vla_ros.core.sync.config import FIELD_PARAMETERS as SYNC_FIELDS
from vla_ros.core.sync.config import sync_config_from_values, SyncConfig
from vla_ros.errors import ConfigError
from vla_ros.params import (defaults, INFERENCE_PARAMETERS, NODE_PARAMETERS, node_table, ParamSpec,
                            ParamType, POLICY_PARAMETERS, SYNC_PARAMETERS)
from vla_ros.params.files import merge_values
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
NODES = sorted(NODE_PARAMETERS)
ALL_ROWS = [(node, s) for node in NODES for s in node_table(node).values()]
RANGED = [(n, s) for n, s in ALL_ROWS if s.range is not None]
BUILTIN = {'use_sim_time', 'start_type_description_service'}


def _ids(rows):
    return [f'{n}:{s.name}' for n, s in rows]


def _config_of(name: str) -> list[tuple[object, str, float]]:
    """(config class, field, scale) of a policy/sync parameter with a config field, or []."""
    out = []
    for f, (p, scale) in FIELD_PARAMETERS.items():
        if p == name:
            out.append((PolicyConfig, f, scale))
    for f in SCHEDULER_FIELDS:
        if f'scheduler.{f}' == name:
            out.append((SchedulerConfig, f, 1.0))
    for f, p in ADAPTER_PARAMETERS.items():
        if p == name:
            out.append((AdapterConfig, f, 1.0))
    for f, p in SESSION_PARAMETERS.items():
        if p == name:
            out.append((SessionSettings, f, 1.0))
    if name.startswith('remote.'):
        out.append((RemoteConfig, name.split('.', 1)[1], 1.0))
    for f, p in SYNC_FIELDS.items():
        if p == name:
            out.append((SyncConfig, f, 1.0))
    return out


def _base(cls):
    return cls(joints=('a',)) if cls is AdapterConfig else cls()


# --- spec <-> config dataclasses ------------------------------------------------------------


def test_tables_of_one_node_never_state_a_name_twice():
    for node, node_tables in NODE_PARAMETERS.items():
        names = [n for t in node_tables for n in t]
        assert len(names) == len(set(names)), node


def test_default_configs_are_the_spec_defaults():
    assert policy_config_from_values(defaults(POLICY_PARAMETERS)) == PolicyConfig()
    assert sync_config_from_values(defaults(SYNC_PARAMETERS)) == SyncConfig()
    assert SessionSettings.from_values(defaults(POLICY_PARAMETERS)) == SessionSettings()
    assert RemoteConfig.from_values({**defaults(POLICY_PARAMETERS),
                                     'inference': 'remote'}) == RemoteConfig()
    # the inference server states its own session defaults (0 threads, spinning)
    assert SessionSettings.from_values(defaults(INFERENCE_PARAMETERS)) == SessionSettings(
        intra_op_threads=0, allow_spinning=True)


@pytest.mark.parametrize('name', sorted({**POLICY_PARAMETERS, **SYNC_PARAMETERS}))
def test_each_config_field_defaults_to_its_parameter(name):
    s = {**POLICY_PARAMETERS, **SYNC_PARAMETERS}[name]
    for cls, f, scale in _config_of(name):
        got = next(d.default for d in dataclasses.fields(cls) if d.name == f)
        want = s.default * scale if scale != 1.0 else s.default
        got = list(got) if isinstance(got, tuple) else got
        assert got == want, f'{cls.__name__}.{f} = {got!r}, spec {name} = {want!r}'


def _outside(s: ParamSpec) -> list[float]:
    lo, hi = s.range
    step = 1 if s.type is ParamType.INTEGER else max(abs(hi - lo) * 1e-6, 1e-9)
    return [lo - step, hi + step]


@pytest.mark.parametrize('node, s', RANGED, ids=_ids(RANGED))
def test_out_of_range_is_rejected_by_configs_and_the_file_reader(node, s):
    for bad in _outside(s):
        with pytest.raises(ConfigError, match=re.escape(f'{bad!r}')):
            merge_values(node_table(node), {s.name: bad}, 'file')
        configs = _config_of(s.name) if node in ('vla_policy', 'multimodal_sync') else []
        for cls, f, scale in configs:
            value = bad * scale if scale != 1.0 else bad
            with pytest.raises(ConfigError, match=f):
                dataclasses.replace(_base(cls), **{f: value})


CHOICES = [(n, s) for n, s in ALL_ROWS if s.choices]


@pytest.mark.parametrize('node, s', CHOICES, ids=_ids(CHOICES))
def test_a_value_outside_the_choices_is_rejected(node, s):
    bad = ['bogus'] if s.type.is_array else 'bogus'
    with pytest.raises(ConfigError, match='bogus'):
        merge_values(node_table(node), {s.name: bad}, 'file')
    for cls, f, _ in _config_of(s.name) if node in ('vla_policy', 'multimodal_sync') else ():
        with pytest.raises(ConfigError, match='bogus'):
            dataclasses.replace(_base(cls), **{f: bad})


def test_the_checks_catch_a_drifted_config():
    """A config default that no longer matches its spec fails the comparison above."""
    drifted = dataclasses.replace(PolicyConfig(), attribution_rate_hz=0.0)
    assert drifted != policy_config_from_values(defaults(POLICY_PARAMETERS))


# --- spec <-> rclpy declarations ------------------------------------------------------------


def _check_declared(node, name: str, overridden: tuple[str, ...] = ()) -> None:
    """``node`` declares exactly the rows of node ``name``, each as its spec says."""
    from vla_ros.ros.params import ROS_TYPES

    table = node_table(name)
    declared = set(node._parameters) - BUILTIN
    assert declared == set(table), (declared ^ set(table))
    for s in table.values():
        d = node.describe_parameter(s.name)
        assert d.type == ROS_TYPES[s.type].value, s.name
        assert d.description == s.description, s.name
        assert d.read_only == s.read_only, s.name
        ranges = [(r.from_value, r.to_value) for r in (*d.floating_point_range,
                                                       *d.integer_range)]
        assert ranges == ([tuple(s.range)] if s.range else []), s.name
        if s.name in overridden:
            continue
        if s.default == []:  # declared by type alone: uninitialized, read as []
            assert not node.has_parameter(s.name) or node._parameters[s.name].value is None
            continue
        value = node.get_parameter(s.name).value
        assert (list(value) if s.type.is_array else value) == s.default, s.name


@pytest.fixture(scope='module')
def bundle(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    return make_random_bundle(tmp_path_factory.mktemp('bundle'))


def _real_node(name: str, bundle):
    if name == 'vla_policy':
        from vla_ros.nodes.vla_policy import VlaPolicy
        return VlaPolicy()
    if name == 'multimodal_sync':
        from vla_ros.nodes.multimodal_sync import MultimodalSync
        return MultimodalSync()
    if name == 'fake_sensors':
        from vla_ros.nodes.fake_sensors import FakeSensors
        return FakeSensors()
    if name == 'sim_microphone':
        from vla_ros.nodes.sim_microphone import SimMicrophone
        return SimMicrophone()
    if name == 'vla_inference':
        from rclpy.parameter import Parameter
        from vla_ros.nodes.vla_inference import VlaInference
        return VlaInference(parameter_overrides=[Parameter('bundle', value=str(bundle))])
    return None


REAL = ['fake_sensors', 'multimodal_sync', 'sim_microphone', 'vla_inference', 'vla_policy']


@pytest.mark.ros
@pytest.mark.parametrize('name', REAL)
def test_real_nodes_declare_exactly_their_spec(rclpy_init, bundle, name):
    node = _real_node(name, bundle)
    try:
        _check_declared(node, name, ('bundle',) if name == 'vla_inference' else ())
    finally:
        node.destroy_node()


@pytest.mark.ros
@pytest.mark.parametrize('name', NODES)
def test_the_declaring_function_declares_the_spec(rclpy_init, name):
    from vla_ros.ros.params import declare_node_parameters

    node = rclpy_init.create_node(name)
    try:
        values = declare_node_parameters(node, name)
        _check_declared(node, name)
        assert values == {n: s.default for n, s in node_table(name).items()}
    finally:
        node.destroy_node()


def _module_of(node: str) -> pathlib.Path:
    return ROOT / 'vla_ros' / 'nodes' / f'{node}.py'


def test_every_node_module_declares_only_through_its_spec():
    """No raw ``declare_parameter``; each module declares its own node name's tables."""
    assert sorted(p.stem for p in (ROOT / 'vla_ros' / 'nodes').glob('*.py')
                  if p.stem != '__init__') == NODES
    for node in NODES:
        tree = ast.parse(_module_of(node).read_text())
        calls = [c for c in ast.walk(tree) if isinstance(c, ast.Call)]
        names = {getattr(c.func, 'attr', getattr(c.func, 'id', '')) for c in calls}
        assert not names & {'declare_parameter', 'declare_parameters'}, node
        if node == 'vla_policy':  # the policy table, then the embedded sync table
            assert {'declare_policy_parameters', 'declare_sync_parameters'} <= names
            continue
        declared = [c.args[1].value for c in calls
                    if getattr(c.func, 'id', '') == 'declare_node_parameters']
        assert declared == [node], (node, declared)


# --- spec <-> docs --------------------------------------------------------------------------

ROW = re.compile(r'^\| `(?P<name>[^`]+)` \| (?P<type>\w+) \| `(?P<default>.*?)` \| '
                 r'(?P<meaning>.*) \|$')
RANGE = re.compile(r'\(range (?P<lo>-?[\d.e+-]+?)\.\.(?P<hi>-?[\d.e+-]+)\)')


def _doc_rows(marker: str) -> dict[str, dict]:
    text = (ROOT / DOCS[marker]).read_text()
    block = re.search(rf'<!-- params:{marker} -->\n(.*?)<!-- /params:{marker} -->', text, re.S)
    assert block, f'{DOCS[marker]} has no table for {marker}'
    return {m['name']: m.groupdict() for m in map(ROW.match, block.group(1).splitlines()) if m}


@pytest.mark.parametrize('name', NODES)
def test_docs_tables_list_every_parameter_as_the_spec_says(name):
    rows = {**_doc_rows(name), **(_doc_rows('sync') if SYNC_PARAMETERS in
                                  NODE_PARAMETERS[name] else {})}
    table = node_table(name)
    assert set(rows) == set(table), set(rows) ^ set(table)
    for s in table.values():
        row = rows[s.name]
        assert row['type'] == s.type.value, s.name
        default = yaml.safe_load(row['default'])
        assert default == s.default or (default is None and s.default == ''), s.name
        m = RANGE.search(row['meaning'])
        if s.range is None:
            assert m is None, s.name
        else:
            assert m, f'{s.name}: no range in the docs'
            assert math.isclose(float(m['lo']), s.range[0], rel_tol=1e-5, abs_tol=1e-12)
            assert math.isclose(float(m['hi']), s.range[1], rel_tol=1e-5), s.name


def test_docs_are_generated_from_the_spec():
    """docs/*.md and README tables are exactly what ``vla_ros.cli.param_docs`` writes."""
    from vla_ros.cli.param_docs import main
    assert set(tables()) == set(NODES) | {'sync'}
    assert main(['--check']) == 0
