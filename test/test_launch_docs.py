"""
README and docs against the launch files and the declared parameter tables (no launch import).

- every ``name:=`` in README.md and docs/*.md exists: after ``ros2 launch vla_ros FILE`` it is
  an argument of FILE, after ``-p`` a declared parameter, anywhere else an argument of some
  launch file;
- every launch argument is declared once, used, and documented (README or docs);
- the parameter lists of README (vla_policy, multimodal_sync, fake_sensors) and every
  ``| Parameter |`` table of the docs name declared parameters (the tables of docs/policy.md,
  docs/sync.md and docs/sim.md are generated from the declarations: test_param_table.py).
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest
from vla_ros.nodes.policy_params import POLICY_PARAMETERS
from vla_ros.nodes.sim_params import SIM_PARAMETERS
from vla_ros.nodes.sync_params import SYNC_PARAMETERS
from vla_ros.nodes.vla_inference import INFERENCE_PARAMETERS

ROOT = pathlib.Path(__file__).resolve().parents[1]
LAUNCH = {p.name: p for p in sorted((ROOT / 'launch').glob('*.launch.py'))}
DOCS = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]
BUILTIN = {'use_sim_time'}


def _declare_parameter_calls() -> set[str]:
    """Names the nodes declare one by one (``self.declare_parameter('name', ...)``)."""
    out = set()
    for path in (ROOT / 'vla_ros' / 'nodes').glob('*.py'):
        for node in ast.walk(ast.parse(path.read_text())):
            if (isinstance(node, ast.Call) and getattr(node.func, 'attr', '') ==
                    'declare_parameter' and node.args and isinstance(node.args[0], ast.Constant)):
                out.add(node.args[0].value)
    return out


DECLARED = (set(POLICY_PARAMETERS) | set(SYNC_PARAMETERS) | set(SIM_PARAMETERS) | BUILTIN
            | set(INFERENCE_PARAMETERS) | _declare_parameter_calls())
ASSIGN = re.compile(r'(?P<p>-p\s+)?(?<![\w.:/-])(?P<name>[A-Za-z_][\w.]*):=')
LAUNCH_CMD = re.compile(r'ros2 launch vla_ros (?P<file>\S+\.launch\.py)')
TICKED = re.compile(r'`([a-z][a-z0-9_]*(?:\.(?:[a-z0-9_]+|\*|<[a-z]+>))*)`')


def _calls(path: pathlib.Path, name: str) -> list[str]:
    """First string argument of every call to ``name`` in a launch file."""
    out = []
    for node in ast.walk(ast.parse(path.read_text())):
        if (isinstance(node, ast.Call) and getattr(node.func, 'id', '') == name
                and node.args and isinstance(node.args[0], ast.Constant)):
            out.append(node.args[0].value)
    return out


def _arguments(path: pathlib.Path) -> list[str]:
    return _calls(path, 'DeclareLaunchArgument')


def _lines() -> list[tuple[str, int, str]]:
    """(doc, line number, text) of every logical line (backslash continuations joined)."""
    out = []
    for doc in DOCS:
        buf, start = '', 0
        for i, line in enumerate(doc.read_text().splitlines(), 1):
            if not buf:
                start = i
            buf += line.rstrip('\\') + ' '
            if not line.endswith('\\'):
                out.append((doc.name, start, buf))
                buf = ''
    return out


def _parameter(name: str) -> bool:
    return name in DECLARED


def test_every_launch_argument_is_declared_once_and_used():
    for name, path in LAUNCH.items():
        declared = _arguments(path)
        assert len(declared) == len(set(declared)), name
        assert set(_calls(path, 'LaunchConfiguration')) == set(declared), name


def test_every_name_assignment_in_the_docs_exists():
    all_args = {a for p in LAUNCH.values() for a in _arguments(p)}
    checked, wrong = 0, []
    for doc, line, text in _lines():
        launch = LAUNCH_CMD.search(text)
        for m in ASSIGN.finditer(text):
            name, checked = m['name'], checked + 1
            if m['p']:
                ok, what = _parameter(name), 'declared parameter'
            elif launch and m.start() > launch.start():
                file = launch['file']
                ok = file in LAUNCH and name in _arguments(LAUNCH[file])
                what = f'argument of {file}'
            else:
                ok, what = name in all_args, 'launch argument'
            if not ok:
                wrong.append(f'{doc}:{line}: {name}:= is no {what}')
    assert checked >= 10, 'the docs name fewer arguments than expected: is the regex blind?'
    assert not wrong, '\n'.join(wrong)


def test_the_readme_launch_commands_name_existing_launch_files():
    files = {m['file'] for _, _, text in _lines() for m in LAUNCH_CMD.finditer(text)}
    assert {'robot.launch.py', 'mujoco.launch.py', 'gazebo.launch.py'} <= files
    assert files <= set(LAUNCH), files - set(LAUNCH)


@pytest.mark.parametrize('name', sorted(LAUNCH))
def test_every_launch_argument_is_documented(name):
    text = '\n'.join(d.read_text() for d in DOCS)
    missing = [a for a in _arguments(LAUNCH[name])
               if f'`{a}`' not in text and f'{a}:=' not in text]
    assert not missing, f'{name}: arguments not in README.md or docs/*.md: {missing}'


def test_mujoco_launch_runs_what_the_readme_says():
    """README: mujoco.launch.py bundle:=... starts the sim and the policy with sim.yaml."""
    path = LAUNCH['mujoco.launch.py']
    assert 'bundle' in _arguments(path)
    tree = ast.parse(path.read_text())
    nodes = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.Call) and getattr(node.func, 'id', '') == 'Node':
            kw = {k.arg: k.value for k in node.keywords}
            nodes[ast.literal_eval(kw['executable'])] = ast.unparse(kw['parameters'])
    assert set(nodes) == {'mujoco_sim', 'vla_policy'}
    for params in nodes.values():
        assert params.startswith('[sim_params')  # config/sim.yaml first, then the arguments
    assert "'bundle': LaunchConfiguration('bundle')" in nodes['vla_policy']


def _ticked_after(text: str, marker: str, end: str) -> list[str]:
    i = text.index(marker)
    return TICKED.findall(text[i:text.index(end, i)])


def _matches(name: str, table: set[str]) -> bool:
    if name.endswith(('.*', '.<modality>')):
        prefix = name.rsplit('.', 1)[0] + '.'
        return any(t.startswith(prefix) for t in table)
    return name in table


def test_readme_parameter_lists_name_declared_parameters():
    readme = (ROOT / 'README.md').read_text()
    fake = set(_calls(ROOT / 'vla_ros' / 'nodes' / 'fake_sensors.py', 'd'))
    lists = {
        'vla_policy': (_ticked_after(readme, 'Main parameters', 'plus the sync parameters'),
                       set(POLICY_PARAMETERS) | set(SYNC_PARAMETERS)),
        'multimodal_sync': (_ticked_after(readme, 'Key parameters:', 'Full table'),
                            set(SYNC_PARAMETERS)),
        'fake_sensors': (_ticked_after(readme, '`/joint_states` (100 Hz). Parameters:', '##'),
                         fake)}
    for node, (names, table) in lists.items():
        assert len(names) >= 5, node
        unknown = [n for n in names if not _matches(n, table)]
        assert not unknown, f'README names undeclared {node} parameters: {unknown}'


def test_docs_parameter_tables_name_declared_parameters():
    seen = 0
    for doc in DOCS:
        in_table = False
        for line in doc.read_text().splitlines():
            if line.startswith('| Parameter |'):
                in_table = True
                continue
            if in_table and not line.startswith('|'):
                in_table = False
            if in_table and not line.startswith('|---'):
                first = line.split('|')[1]
                for name in TICKED.findall(first):
                    seen += 1
                    assert _matches(name, DECLARED), f'{doc.name}: {name} is not declared'
    assert seen >= len(POLICY_PARAMETERS)
