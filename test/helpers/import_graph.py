"""
The import graph of the vla_ros package, read from its source (AST, nothing is imported).

Every ``import`` / ``from ... import`` statement of every module, at module level or inside a
function, with what test_layout.py needs to judge it: the importing module, the imported
vla_ros module (or the third-party top-level name), whether it runs inside a function, and
the comments around it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
import io
import pathlib
import tokenize

PACKAGE_NAME = 'vla_ros'


@dataclass(frozen=True)
class Import:
    """One imported name of one import statement."""

    source: str                 # the importing module, e.g. 'vla_ros.eval.demo'
    target: str                 # a vla_ros module ('vla_ros.core.frame') or a top-level name
    internal: bool              # target is a vla_ros module
    line: int                   # line of the statement in the source module
    function_level: bool        # inside a function (runs when the function is called)
    comments: tuple[str, ...]   # function-level: the comments of the enclosing function above
    #                             and on the statement; module level: those on the statement

    def where(self) -> str:
        return f'{self.source}:{self.line}'


def module_files(root: pathlib.Path) -> dict[str, pathlib.Path]:
    """Map the name of every module under ``root/vla_ros`` to its file (packages: __init__)."""
    out = {}
    for path in sorted((root / PACKAGE_NAME).rglob('*.py')):
        parts = list(path.relative_to(root).with_suffix('').parts)
        if parts[-1] == '__init__':
            parts.pop()
        out['.'.join(parts)] = path
    return out


def package_of(module: str) -> str:
    """
    Return the top-level part of vla_ros a module belongs to.

    ``vla_ros.core.sync.buffers`` -> ``core``; ``vla_ros.errors`` -> ``errors``; ``vla_ros``
    (its ``__init__``) -> ``''``.
    """
    parts = module.split('.')
    return parts[1] if len(parts) > 1 else ''


def _comments(source: str) -> dict[int, str]:
    out = {}
    for tok in tokenize.generate_tokens(io.StringIO(source).readline):
        if tok.type == tokenize.COMMENT:
            out[tok.start[0]] = tok.string
    return out


def _resolve(name: str, modules: Mapping[str, pathlib.Path]) -> str:
    while name and name not in modules:
        name = name.rpartition('.')[0]
    return name


def _targets(node: ast.Import | ast.ImportFrom, module: str, is_package: bool,
             modules: Mapping[str, pathlib.Path]) -> list[tuple[str, bool]]:
    """(target, internal) of each name the statement imports."""
    if isinstance(node, ast.Import):
        names = [a.name for a in node.names]
    else:
        if node.level:
            base = module.split('.') if is_package else module.split('.')[:-1]
            base = base[:len(base) - node.level + 1]
            mod = '.'.join(base + ([node.module] if node.module else []))
        else:
            mod = node.module or ''
        # `from pkg import sub` imports the module pkg.sub; `from mod import name` imports mod
        names = [f'{mod}.{a.name}' if f'{mod}.{a.name}' in modules else mod for a in node.names]
    out = []
    for name in names:
        if name == PACKAGE_NAME or name.startswith(PACKAGE_NAME + '.'):
            out.append((_resolve(name, modules), True))
        else:
            out.append((name.split('.')[0], False))
    return out


def read_imports(root: pathlib.Path) -> list[Import]:
    """Every import of every vla_ros module (module- and function-level)."""
    modules = module_files(root)
    out = []
    for module, path in modules.items():
        source = path.read_text()
        comments = _comments(source)
        tree = ast.parse(source)
        enclosing: dict[int, ast.AST] = {}  # id(import node) -> its innermost function
        for fn in ast.walk(tree):
            if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
                for n in ast.walk(fn):
                    if isinstance(n, (ast.Import, ast.ImportFrom)):
                        prev = enclosing.get(id(n))
                        if prev is None or prev.lineno < fn.lineno:
                            enclosing[id(n)] = fn
        for node in ast.walk(tree):
            if not isinstance(node, (ast.Import, ast.ImportFrom)):
                continue
            fn = enclosing.get(id(node))
            first = fn.lineno if fn is not None else node.lineno
            near = tuple(comments[i] for i in range(first, node.end_lineno + 1) if i in comments)
            targets = dict.fromkeys(_targets(node, module, path.name == '__init__.py',
                                             modules))
            for target, internal in targets:
                if target and target != module:
                    out.append(Import(module, target, internal, node.lineno, fn is not None,
                                      near))
    return out


def module_graph(imports: Iterable[Import]) -> dict[str, set[str]]:
    """Map each module to the vla_ros modules it imports (every explicit edge, any level)."""
    graph: dict[str, set[str]] = {}
    for imp in imports:
        if imp.internal:
            graph.setdefault(imp.source, set()).add(imp.target)
    return graph


def find_cycle(graph: Mapping[str, Iterable[str]]) -> list[str] | None:
    """Return one cycle as a path ``[a, b, ..., a]``, or None (iterative DFS, sorted order)."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    for start in sorted(graph):
        if state.get(start):
            continue
        path, stack = [start], [iter(sorted(graph.get(start, ())))]
        state[start] = 1
        while stack:
            nxt = next(stack[-1], None)
            if nxt is None:
                state[path.pop()] = 2
                stack.pop()
            elif state.get(nxt) == 1:
                return path[path.index(nxt):] + [nxt]
            elif not state.get(nxt):
                state[nxt] = 1
                path.append(nxt)
                stack.append(iter(sorted(graph.get(nxt, ()))))
    return None


def import_closure(module: str, imports: Iterable[Import]) -> set[str]:
    """
    Return what importing ``module`` loads: vla_ros modules and third-party top-level names.

    Follows module-level imports only (a function-level import runs when called), and the
    parent packages' ``__init__`` of every vla_ros module reached.
    """
    by_source: dict[str, list[Import]] = {}
    for imp in imports:
        if not imp.function_level:
            by_source.setdefault(imp.source, []).append(imp)
    seen: set[str] = set()
    todo = [module]
    while todo:
        m = todo.pop()
        if m in seen:
            continue
        seen.add(m)
        parent = m.rpartition('.')[0]
        if parent:
            todo.append(parent)
        for imp in by_source.get(m, ()):
            if imp.internal:
                todo.append(imp.target)
            else:
                seen.add(imp.target)
    return seen
