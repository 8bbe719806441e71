"""
Every declared parameter of vla_policy and multimodal_sync can be set from a params file.

Types are stated, never inferred from a default (``[]`` used to become BYTE_ARRAY and kill the
node), integers are accepted for doubles, a wrong type is one clear ConfigError, and unknown keys
in a params file are warned about with the nearest declared name.
"""

from __future__ import annotations

import pytest
from rclpy.node import Node
from vla_ros.errors import ConfigError
from vla_ros.params import ParamSpec, POLICY_PARAMETERS, SYNC_PARAMETERS
from vla_ros.params.spec import ParamType as PType
from vla_ros.ros.params import declare_table, PType as RosType, read_table, unknown_overrides
import yaml

pytestmark = pytest.mark.ros
TABLES = {'vla_policy': [*POLICY_PARAMETERS.values(), *SYNC_PARAMETERS.values()],
          'multimodal_sync': list(SYNC_PARAMETERS.values())}


def other_value(s: ParamSpec):
    """Return a valid value of the declared type that differs from the default."""
    lo, hi = s.range or (-1e6, 1e6)
    if s.type is PType.BOOL:
        return not s.default
    if s.type is PType.INTEGER:
        return int(s.default + 1 if s.default + 1 <= hi else s.default - 1)
    if s.type is PType.DOUBLE:
        v = s.default + 0.25 if s.default + 0.25 <= hi else (s.default + lo) / 2
        return float(v)
    if s.type is PType.STRING and s.choices:
        return next(c for c in s.choices if c != s.default)
    if s.type is PType.STRING:
        return f'{s.default}_x'
    if s.type is PType.STRING_ARRAY and s.choices:
        return list(s.choices[:2]) if list(s.choices[:2]) != s.default else list(s.choices[:1])
    return {PType.STRING_ARRAY: ['a', 'b'], PType.INTEGER_ARRAY: [2, 3],
            PType.DOUBLE_ARRAY: [0.5, 1.5]}[s.type]


def make_node(rclpy, name: str, params: dict, tmp_path) -> Node:
    path = tmp_path / f'{name}.yaml'
    path.write_text(yaml.safe_dump({name: {'ros__parameters': params}}))
    return rclpy.create_node(name, cli_args=['--ros-args', '--params-file', str(path)])


@pytest.mark.parametrize('node_name', sorted(TABLES))
def test_every_parameter_set_from_a_params_file(rclpy_init, tmp_path, node_name):
    table = TABLES[node_name]
    values = {s.name: other_value(s) for s in table}
    node = make_node(rclpy_init, node_name, values, tmp_path)
    try:
        declare_table(node, table)
        got = read_table(node, table)
        for s in table:
            assert got[s.name] == values[s.name], s.name
            assert got[s.name] != s.default, s.name
    finally:
        node.destroy_node()


def test_list_defaults_are_typed_and_integers_fit_doubles(rclpy_init, tmp_path):
    node = make_node(rclpy_init, 'typed', {'control_rate_hz': 50, 'limits.lower': [0, 1],
                                           'camera_topics': []}, tmp_path)
    try:
        table = [POLICY_PARAMETERS['control_rate_hz'], POLICY_PARAMETERS['limits.lower'],
                 SYNC_PARAMETERS['camera_topics'], SYNC_PARAMETERS['compressed_cameras']]
        declare_table(node, table)
        got = read_table(node, table)
        assert got == {'control_rate_hz': 50.0, 'limits.lower': [0.0, 1.0],
                       'camera_topics': [], 'compressed_cameras': []}
        assert isinstance(got['control_rate_hz'], float)
        desc = node.describe_parameter('compressed_cameras')
        assert desc.type == RosType.STRING_ARRAY.value and desc.description
    finally:
        node.destroy_node()


def test_wrong_type_is_one_clear_config_error(rclpy_init, tmp_path):
    node = make_node(rclpy_init, 'wrong', {'cameras': 3}, tmp_path)
    try:
        with pytest.raises(ConfigError, match="'cameras' must be a list of strings.*3"):
            declare_table(node, [SYNC_PARAMETERS['cameras']])
    finally:
        node.destroy_node()


def test_unknown_params_file_keys_name_the_nearest_parameter(rclpy_init, tmp_path):
    node = make_node(rclpy_init, 'typos', {'dry_rn': True, 'controler.kind': 'twist',
                                           'colour_order': 'bgr', 'dry_run': True}, tmp_path)
    try:
        declare_table(node, POLICY_PARAMETERS.values())
        assert unknown_overrides(node) == {'dry_rn': 'dry_run',
                                           'controler.kind': 'controller.kind',
                                           'colour_order': ''}
    finally:
        node.destroy_node()


def test_docs_parameter_tables_match_the_code():
    """docs/policy.md and docs/sync.md tables are generated from the declared tables."""
    from vla_ros.cli.param_docs import main
    assert main(['--check']) == 0
