"""
Layout checks at the level of grep and import (issue 16, items 2, 3 and 5).

What is checked, precisely:

- QoS: ``QoSProfile(`` is called only in ``vla_ros/qos.py`` (package and benchmarks), so every
  latched, controller or recorder profile has one definition with its reason.
- Configuration: in the package, no dict literal (or ``dict(...)`` call) holds two or more of
  the parameters that ``config/sim.yaml`` sets (any section, dotted names): the sim robot's
  settings live in that file, and tools add only named overrides. Every ``mujoco_sim``
  process started by the package or a benchmark gets its arguments from
  ``NodeParams.ros_args`` (``config/sim.yaml`` + printed overrides).
- Fixtures: no module of the package is a test fixture (no ``test_*.py`` / ``*_fixtures.py``
  / ``conftest.py``, nothing imports ``helpers``), and the bundles tests build come from
  ``test/helpers/bundles.py``.
- Robot nodes: importing the on-robot modules (``vla_ros.core.*``, ``vla_policy``,
  ``multimodal_sync``, ``sensor_inputs``) in a fresh interpreter does not import torch.
- Shell: ``source scripts/env.sh`` in a clean environment puts ``vla-ros`` and the node
  executables on PATH, as README says.
"""

from __future__ import annotations

import ast
import json
import os
import pathlib
import subprocess
import sys

import pytest
from vla_ros.params.files import flatten
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
PACKAGE = ROOT / 'vla_ros'
BENCH = ROOT / 'bench'


def _py_files(*roots: pathlib.Path) -> list[pathlib.Path]:
    return sorted(p for r in roots for p in r.rglob('*.py'))


def _rel(p: pathlib.Path) -> str:
    return str(p.relative_to(ROOT))


def test_qos_profiles_are_defined_only_in_the_qos_module():
    offenders = []
    for path in _py_files(PACKAGE, BENCH):
        if path == PACKAGE / 'qos.py':
            continue
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and (
                    getattr(node.func, 'id', '') == 'QoSProfile'
                    or getattr(node.func, 'attr', '') == 'QoSProfile'):
                offenders.append(f'{_rel(path)}:{node.lineno}')
    assert not offenders, f'QoSProfile(...) outside vla_ros/qos.py: {offenders}'


def _sim_yaml_names() -> set[str]:
    doc = yaml.safe_load((ROOT / 'config' / 'sim.yaml').read_text())
    return {name for section in doc.values()
            for name in flatten(section.get('ros__parameters') or {})}


def _dict_keys(node: ast.AST) -> list[str]:
    if isinstance(node, ast.Dict):
        return [k.value for k in node.keys
                if isinstance(k, ast.Constant) and isinstance(k.value, str)]
    if isinstance(node, ast.Call) and getattr(node.func, 'id', '') == 'dict':
        return [k.arg for k in node.keywords if k.arg]
    return []


def test_no_sim_parameter_dict_in_the_package():
    names = _sim_yaml_names()
    assert {'image_width', 'camera_rate_hz', 'limits.lower', 'autostart'} <= names
    offenders = []
    for path in _py_files(PACKAGE):
        for node in ast.walk(ast.parse(path.read_text())):
            hit = sorted(set(_dict_keys(node)) & names)
            if len(hit) >= 2:
                offenders.append(f'{_rel(path)}:{node.lineno} {hit}')
    assert not offenders, f'sim parameters set outside config/sim.yaml: {offenders}'


def test_the_check_catches_the_old_eval_dict():
    """The AST rule above flags what tools/episode.py used to hold."""
    old = ast.parse("SIM = {'image_width': 96, 'image_height': 96, 'camera_rate_hz': 10.0}")
    assert len(set(_dict_keys(old.body[0].value)) & _sim_yaml_names()) == 3


def test_mujoco_sim_is_started_only_from_config_plus_overrides():
    starts = []
    for path in _py_files(PACKAGE, BENCH):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, 'id', '') == 'NodeProcess'
                    and node.args and isinstance(node.args[0], ast.Constant)
                    and node.args[0].value == 'mujoco_sim'):
                arg = node.args[1] if len(node.args) > 1 else None
                # NodeParams.ros_args(dir), not procs.ros_args(params=...) (an ast.Name)
                ok = (isinstance(arg, ast.Call) and isinstance(arg.func, ast.Attribute)
                      and arg.func.attr == 'ros_args')
                starts.append((f'{_rel(path)}:{node.lineno}', ok))
    assert starts, 'no mujoco_sim start found: the check looks at nothing'
    assert all(ok for _, ok in starts), [s for s, ok in starts if not ok]


def test_no_fixture_module_in_the_package():
    bad = [_rel(p) for p in _py_files(PACKAGE)
           if p.name.startswith('test_') or p.name.endswith('_fixtures.py')
           or p.name == 'conftest.py']
    assert not bad, f'test fixtures inside the package: {bad}'
    importers = [_rel(p) for p in _py_files(PACKAGE, BENCH)
                 if any(isinstance(n, (ast.Import, ast.ImportFrom)) and (
                     getattr(n, 'module', None) or '').split('.')[0] in ('helpers', 'test')
                     for n in ast.walk(ast.parse(p.read_text())))]
    assert not importers, f'package/bench modules importing test code: {importers}'
    assert (ROOT / 'test' / 'helpers' / 'bundles.py').is_file()


ROBOT_MODULES = ['vla_ros.nodes.vla_policy', 'vla_ros.nodes.multimodal_sync',
                 'vla_ros.ros.sensor_inputs'] + [
    f'vla_ros.core.{p.stem}' for p in sorted((PACKAGE / 'core').glob('*.py'))
    if p.stem != '__init__']


@pytest.mark.timeout(120)
def test_robot_node_modules_do_not_import_torch():
    code = ('import importlib, json, sys\n'
            f'for m in {ROBOT_MODULES!r}:\n'
            '    importlib.import_module(m)\n'
            "print(json.dumps({'torch': 'torch' in sys.modules, "
            "'modules': len([m for m in sys.modules if m.startswith('vla_ros.')])}))\n")
    res = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=100, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out['modules'] >= len(ROBOT_MODULES)  # they really were imported
    assert out['torch'] is False


def test_torch_check_sees_torch_when_it_is_imported():
    """The same probe reports torch for a module that needs it (the check is not blind)."""
    code = ('import json, sys\nimport vla_ros.model.policy\n'
            "print(json.dumps('torch' in sys.modules))\n")
    res = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=100, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    assert json.loads(res.stdout.strip().splitlines()[-1]) is True


@pytest.mark.timeout(60)
def test_env_sh_puts_the_executables_on_path_in_a_clean_shell():
    env = {'HOME': os.environ.get('HOME', '/root'), 'PATH': '/usr/bin:/bin', 'TERM': 'dumb'}
    res = subprocess.run(
        ['bash', '--noprofile', '--norc', '-c',
         'source scripts/env.sh >/dev/null 2>&1 && command -v vla-ros mujoco_sim vla_policy '
         'multimodal_sync fake_sensors && vla-ros --help >/dev/null && echo HELP_OK'],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=50)
    lines = res.stdout.split()
    assert res.returncode == 0, res.stdout + res.stderr
    found = {pathlib.Path(p).name for p in lines if p.startswith('/')}
    assert found == {'vla-ros', 'mujoco_sim', 'vla_policy', 'multimodal_sync', 'fake_sensors'}
    assert 'HELP_OK' in lines
