"""
README and docs against the launch files and the declared parameter tables (no launch import).

- every ``name:=`` in README.md and docs/*.md exists: after ``ros2 launch vla_ros FILE`` it is
  an argument of FILE, after ``-p`` a declared parameter, anywhere else an argument of some
  launch file;
- every launch argument is declared once, used, and documented (README or docs);
- every launch file has an argument table (``| Argument | Default | Meaning |``, the file
  named in the lines before it), and every such table in README and docs lists exactly the
  file's arguments with the declared defaults;
- the parameter lists of README (vla_policy, multimodal_sync, fake_sensors) and every
  ``| Parameter |`` table of the docs name declared parameters (the tables of every node's
  parameters are generated from vla_ros.params: test/params/test_param_drift.py).
"""

from __future__ import annotations

import ast
import pathlib
import re

import pytest
from vla_ros.params import (FAKE_SENSORS_PARAMETERS, NODE_PARAMETERS, node_table,
                            POLICY_PARAMETERS, SYNC_PARAMETERS)

ROOT = pathlib.Path(__file__).resolve().parents[1]
LAUNCH = {p.name: p for p in sorted((ROOT / 'launch').glob('*.launch.py'))}
DOCS = [ROOT / 'README.md', *sorted((ROOT / 'docs').glob('*.md'))]
BUILTIN = {'use_sim_time'}


DECLARED = {name for node in NODE_PARAMETERS for name in node_table(node)} | BUILTIN
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
    assert set(nodes) == {'mujoco_sim', 'vla_policy', 'speech_command'}  # speech:=true
    # config/sim.yaml first (mujoco_sim: then the bundle's recorded sensors), then arguments
    assert nodes['vla_policy'].startswith('[sim_params')
    assert nodes['mujoco_sim'].startswith('[*files')
    assert 'files = [params_file]' in path.read_text()
    assert "'bundle': LaunchConfiguration('bundle')" in nodes['vla_policy']
    assert "'bundle': LaunchConfiguration('bundle')" in nodes['speech_command']


# -- launch-argument tables ('| Argument | Default | Meaning |') against the launch files ----

ARG_TABLE = '| Argument | Default | Meaning |'
LAUNCH_NAME = re.compile(r'(\w+\.launch\.py)')
TABLE_CONTEXT_LINES = 12  # the launch file is named within this many lines before its table


def _launch_tables() -> list[tuple[str, str, dict[str, str]]]:
    """Return (where, launch file, {argument: default cell}) of every launch-argument table."""
    out = []
    for doc in DOCS:
        lines = doc.read_text().splitlines()
        for i, line in enumerate(lines):
            if not line.startswith('| Argument |'):
                continue
            where = f'{doc.name}:{i + 1}'
            assert line.strip() == ARG_TABLE, f'{where}: header must be {ARG_TABLE!r}'
            named = LAUNCH_NAME.findall('\n'.join(lines[max(0, i - TABLE_CONTEXT_LINES):i]))
            assert named, f'{where}: no *.launch.py named in the lines before the table'
            rows: dict[str, str] = {}
            for row in lines[i + 2:]:
                if not row.startswith('|'):
                    break
                cells = [c.strip() for c in row.strip().strip('|').split('|')]
                names = TICKED.findall(cells[0])
                assert len(names) == 1, f'{where}: row {row!r} names no single argument'
                assert names[0] not in rows, f'{where}: {names[0]} twice'
                rows[names[0]] = cells[1]
            out.append((where, named[-1], rows))
    return out


def _assignments(tree: ast.AST) -> dict[str, ast.expr]:
    return {n.targets[0].id: n.value for n in ast.walk(tree) if isinstance(n, ast.Assign)
            and len(n.targets) == 1 and isinstance(n.targets[0], ast.Name)}


def _text(node: ast.expr | None, env: dict[str, ast.expr], depth: int = 0) -> str | None:
    """Return a default as the docs write it (package share: share/vla_ros); None: unknown."""
    if node is None or depth > 10:
        return None
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node.value
    if isinstance(node, ast.Name):
        return _text(env.get(node.id), env, depth + 1)
    if isinstance(node, ast.Call):
        fn = getattr(node.func, 'id', getattr(node.func, 'attr', ''))
        if fn in ('FindPackageShare', 'get_package_share_directory'):
            return f'share/{ast.literal_eval(node.args[0])}'
        parts = node.args[0].elts if fn == 'PathJoinSubstitution' else (
            node.args if fn == 'join' else None)
        if parts is not None:
            texts = [_text(p, env, depth + 1) for p in parts]
            return None if None in texts else '/'.join(texts)
    return None


def _declared_defaults(path: pathlib.Path) -> dict[str, str | None]:
    """Return argument -> default as text ('(required)' for none; None: not a literal)."""
    tree = ast.parse(path.read_text())
    env = _assignments(tree)
    out = {}
    for c in ast.walk(tree):
        if isinstance(c, ast.Call) and getattr(c.func, 'id', '') == 'DeclareLaunchArgument':
            kw = {k.arg: k.value for k in c.keywords}
            out[ast.literal_eval(c.args[0])] = ('(required)' if 'default_value' not in kw
                                                else _text(kw['default_value'], env))
    return out


def _cell(text: str) -> str:
    """Return a table default cell as text: `true` -> true, `''` -> ''."""
    value = text.strip()
    if value.startswith('`') and value.endswith('`'):
        value = value[1:-1]
    return '' if value == "''" else value


def test_every_launch_file_has_an_argument_table():
    tables = _launch_tables()
    assert len(tables) >= len(LAUNCH)
    assert {f for _, f, _ in tables} == set(LAUNCH), {f for _, f, _ in tables} ^ set(LAUNCH)


@pytest.mark.parametrize('where,file,rows', _launch_tables(), ids=lambda v: str(v)[:40])
def test_argument_tables_equal_the_declarations(where, file, rows):
    """Both directions, and every default the table gives equals the declared one."""
    declared = _declared_defaults(LAUNCH[file])
    missing, extra = sorted(set(declared) - set(rows)), sorted(set(rows) - set(declared))
    assert not missing and not extra, \
        f'{where} ({file}): missing from the table {missing}, not arguments {extra}'
    wrong = [f'{name}: table {rows[name]!r}, declared {default!r}'
             for name, default in declared.items()
             if default is not None and rows[name] and _cell(rows[name]) != default]
    assert not wrong, f'{where} ({file}): ' + '; '.join(wrong)


def test_the_default_reader_reads_every_default():
    """Every launch argument's default is understood (else the table check skips it)."""
    unread = {f: [a for a, d in _declared_defaults(p).items() if d is None]
              for f, p in LAUNCH.items()}
    assert not any(unread.values()), unread


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
    lists = {
        'vla_policy': (_ticked_after(readme, 'Main parameters', 'plus the sync parameters'),
                       set(POLICY_PARAMETERS) | set(SYNC_PARAMETERS)),
        'multimodal_sync': (_ticked_after(readme, 'Key parameters:', 'Full table'),
                            set(SYNC_PARAMETERS)),
        'fake_sensors': (_ticked_after(readme, '`/joint_states` (100 Hz). Parameters', '##'),
                         set(FAKE_SENSORS_PARAMETERS))}
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
