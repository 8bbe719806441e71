"""The parameter spec (ROS-free): typed rows, checks that quote the bad value, file reading."""

from __future__ import annotations

import pathlib
import subprocess
import sys

import pytest
from vla_ros.errors import ConfigError
from vla_ros.params import node_table, ParamType, spec
from vla_ros.params.files import merge_values, node_values, sim_parameters_from_file
import yaml


def test_table_rows_state_types_that_match_their_defaults():
    with pytest.raises(ConfigError, match='not a list of strings'):
        spec('x', ParamType.STRING_ARRAY, [1, 2], 'ints in a string list')
    with pytest.raises(ConfigError, match='must be a list'):
        spec('y', ParamType.STRING_ARRAY, 'a', 'a string for a list')
    assert spec('z', ParamType.DOUBLE, 1, 'an int default for a double').default == 1.0
    with pytest.raises(ConfigError, match=r'must be in \[0, 1\], got 2'):
        spec('r', ParamType.INTEGER, 2, 'default out of its own range', range=(0, 1))
    with pytest.raises(ConfigError, match='choices need a string'):
        spec('c', ParamType.INTEGER, 1, 'choices of an int', choices=('1',))


def test_check_quotes_the_value_and_coerces():
    s = spec('rate_hz', ParamType.DOUBLE, 1.0, 'a rate [Hz]', range=(0.0, 10.0))
    assert s.units == 'Hz'
    assert s.check(3) == 3.0 and isinstance(s.check(3), float)
    with pytest.raises(ConfigError, match=r'rate_hz must be in \[0, 10\], got 11'):
        s.check(11)
    with pytest.raises(ConfigError, match='must be in'):
        s.check(float('nan'))
    with pytest.raises(ConfigError, match='field_s must be in .* got 0.5'):
        s.check(0.5, label='field_s', scale=1e-3)  # the field is in s, the parameter in ms
    with pytest.raises(ConfigError, match="must be a number, got 'x'"):
        s.check('x')
    with pytest.raises(ConfigError, match='must be a number, got True'):
        s.check(True)
    m = spec('mode', ParamType.STRING, 'a', 'a | b', choices=('a', 'b'))
    with pytest.raises(ConfigError, match=r"mode must be one of \['a', 'b'\], got 'c'"):
        m.check('c')
    arr = spec('streams', ParamType.STRING_ARRAY, ['a'], 'subset', choices=('a', 'b'))
    assert arr.check(('b',)) == ['b'] and arr.check([]) == []
    with pytest.raises(ConfigError, match="'z'"):
        arr.check(['a', 'z'])


def test_params_file_values_are_checked_and_completed(tmp_path):
    path = tmp_path / 'p.yaml'
    path.write_text(yaml.safe_dump({
        '/**': {'ros__parameters': {'use_sim_time': True}},
        'vla_policy': {'ros__parameters': {'control_rate_hz': 50,
                                           'scheduler': {'mode': 'sync'}}}}))
    values = node_values(path, 'vla_policy')
    assert values['control_rate_hz'] == 50.0 and isinstance(values['control_rate_hz'], float)
    assert values['scheduler.mode'] == 'sync'
    assert set(values) == set(node_table('vla_policy'))
    with pytest.raises(ConfigError, match=r'control_rate_hz must be in \[0, 1000\], got 5000'):
        node_values(path, 'vla_policy', overrides={'control_rate_hz': 5000})
    with pytest.raises(ConfigError, match=r"unknown parameters \['dry_rn'\]"):
        node_values(path, 'vla_policy', overrides={'dry_rn': True})
    with pytest.raises(ConfigError, match='one of'):
        merge_values(node_table('vla_policy'), {'executor': 'threads'}, 'x')
    assert sim_parameters_from_file(path)['camera_rate_hz'] == 30.0


def test_the_params_package_and_the_offline_reader_import_no_rclpy():
    """Training reads params files through vla_ros.params: no rclpy, no node code."""
    code = ('import sys, vla_ros.params, vla_ros.params.files, vla_ros.core.control.from_params\n'
            'import vla_ros.model.train, vla_ros.harness.sim_config\n'
            'import vla_ros.lerobot_io.from_bags\n'
            'from vla_ros.harness.sim_config import policy_node_params, sim_node_params\n'
            "policy_node_params({'bundle': '-'}); sim_node_params()\n"
            "print(sorted(m for m in sys.modules if m.startswith(('rclpy', 'vla_ros.ros', "
            "'vla_ros.nodes'))))\n")
    res = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=120, cwd=pathlib.Path(__file__).resolve().parents[2])
    assert res.returncode == 0, res.stderr[-2000:]
    assert res.stdout.strip() == '[]'
