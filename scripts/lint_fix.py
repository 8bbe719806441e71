#!/usr/bin/env python3
"""
Apply the mechanical part of the ament_flake8 / ament_pep257 fixes to Python files.

Usage (from the repository root, in the project venv)::

    python scripts/lint_fix.py PATH [PATH ...]          # rewrite files in place
    python scripts/lint_fix.py --check PATH [PATH ...]  # list what would change

Directories are searched for ``*.py``. What it rewrites:

- Docstrings (triple double quotes only): a multi-line summary starts on the second line
  (D213) and the closing quotes get a line of their own (D209); a one-line summary gets a
  final period (D400/D415) unless it ends in ``:`` ``,`` or ``;``; when the first paragraph
  has more lines and its first line ends a sentence, a blank line goes after that line (D205).
- Google sections (``Args:``, ``Attributes:``, ``Returns:``, ``Raises:``, ``Yields:``),
  which pydocstyle reads as numpy sections (D406/D407/D413), become reST fields as in rclpy:
  ``:param name:``, ``:ivar name:``, ``:return:``, ``:raises Error:``, ``:yield:``; an item
  for several names (``lower, upper: ...``) keeps them in one field (``:ivar lower, upper:``).
- The first word of a function docstring is put in the imperative mood when it is the
  third person of a verb pydocstyle knows (``Returns`` -> ``Return``; D401). Properties and
  ``test*`` functions are left alone.
- ``__doc__.splitlines()[0]`` becomes ``__doc__.strip().splitlines()[0]``: with the summary
  on the second line the first line of ``__doc__`` is empty.
- The leading block of top-level imports is sorted with flake8-import-order's own google
  key (I100) and the names of a ``from`` import are sorted (I101); groups (future, stdlib,
  third party, relative) are separated by one blank line.

Limits (listed as ``HAND`` lines, fix them by hand): a first paragraph whose first sentence
runs over several lines (D205); summaries that are not verbs (D401: 'The ...', 'A ...',
'Required ...'; ament_pep257 checks properties too); capitalisation (D403) and signatures as
summaries (D402); section items that are not ``name: text``; import blocks holding comments;
imports after the first non-import statement (sys.path set-up); lines that grew past 99
columns; everything flake8 reports besides docstrings and import order (C408, A003, E127...).
Code is never touched other than as described above; run the linters afterwards.
"""

import argparse
import ast
from pathlib import Path
import re
import sys

from flake8_import_order import ImportType, ImportVisitor
from flake8_import_order.styles import Google
from pydocstyle.wordlists import IMPERATIVE_VERBS, stem

MAX_COLUMNS = 99
_SECTIONS = {
    'Args:': ':param', 'Arguments:': ':param', 'Attributes:': ':ivar',
    'Raises:': ':raises', 'Returns:': ':return:', 'Yields:': ':yield:',
}
_ITEM = re.compile(r'^(\*{0,2}[\w.]+(?:\s*[,/]\s*\*{0,2}[\w.]+)*)(?:\s*\(([^)]*)\))?:\s*(.*)$')
_DOC = re.compile(r'^([rRuU]?)"""(.*)"""$', re.DOTALL)


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(' '))


def _imperative(word: str) -> str | None:
    """
    Return the imperative of a third-person verb (``Returns`` -> ``Return``), else None.

    Uses pydocstyle's verb list; other forms (``Required``, ``Summed``) are left alone: the
    stem of an adjective or a participle is rarely the right verb.
    """
    bare = re.sub(r'\W+$', '', word)
    low = bare.lower()
    forms = IMPERATIVE_VERBS.get(stem(low))
    if not bare or not forms or low in forms:
        return None
    best = max(forms, key=lambda f: len(_common_prefix(low, f)))
    if low not in (best + 's', best + 'es', best[:-1] + 'ies'):
        return None
    return best.capitalize() + word[len(bare):]


def _common_prefix(a: str, b: str) -> str:
    n = 0
    while n < min(len(a), len(b)) and a[n] == b[n]:
        n += 1
    return a[:n]


def _end_period(line: str) -> str:
    stripped = line.rstrip()
    if not stripped or stripped[-1] in '.?!:,;':
        return line
    return stripped + '.'


def _convert_section(lines: list[str], start: int, notes: list[str]) -> int:
    """Rewrite the section whose header is ``lines[start]``; return the index after it."""
    header = lines[start]
    base = _indent(header)
    field = _SECTIONS[header.strip()]
    end = start + 1
    while end < len(lines) and (not lines[end].strip() or _indent(lines[end]) > base):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    body = lines[start + 1:end]
    if not body:
        notes.append(f'empty section {header.strip()!r}')
        return start + 1
    pad = ' ' * base
    out: list[str] = []
    if field.endswith(':'):  # Returns / Yields: one block of text
        first = _indent(body[0])
        cont = min((_indent(b) for b in body[1:] if b.strip()), default=first)
        out.append(f'{pad}{field} {body[0].strip()}')
        out += [f'{pad}    {" " * (_indent(b) - cont)}{b.strip()}' if b.strip() else ''
                for b in body[1:]]
    else:
        item_indent = _indent(body[0])
        for b in body:
            if not b.strip():
                out.append('')
            elif _indent(b) == item_indent:
                m = _ITEM.match(b.strip())
                if not m and field == ':raises':  # 'ErrorA, ErrorB.': no name to pull out
                    out.append(f'{pad}:raises: {b.strip()}')
                    continue
                if not m:
                    notes.append(f'section {header.strip()!r}: item {b.strip()!r} is not '
                                 "'name: text'")
                    return end
                name, kind, text = m.groups()
                kind = f'{kind} ' if kind and field == ':param' else ''
                out.append(f'{pad}{field} {kind}{name}: {text}'.rstrip())
            else:
                out.append(f'{pad}    {" " * (_indent(b) - item_indent - 4)}{b.strip()}')
    lines[start:end] = out
    return start + len(out)


def fix_docstring(raw: str, col: int, is_function: bool, notes: list[str]) -> str:
    """Return ``raw`` (a docstring literal at column ``col``) in the ament_pep257 layout."""
    m = _DOC.match(raw)
    if not m:
        notes.append('not a """ docstring (Q001/Q002)')
        return raw
    prefix, body = m.groups()
    pad = ' ' * col
    lines = body.split('\n')
    if len(lines) == 1:
        text = body.strip()
        if is_function and text and (verb := _imperative(text.split()[0])):
            text = verb + text[len(text.split()[0]):]
        return f'{prefix}"""{_end_period(text)}"""'
    content = ([pad + lines[0].strip()] if lines[0].strip() else []) + lines[1:]
    content = [c.rstrip() for c in content]
    while content and not content[-1].strip():
        content.pop()
    while content and not content[0].strip():
        content.pop(0)
    if not content:
        return raw
    if is_function and (verb := _imperative(content[0].split()[0])):
        content[0] = content[0].replace(content[0].split()[0], verb, 1)
    para = 1
    while para < len(content) and content[para].strip():
        para += 1
    if para == 1:
        content[0] = _end_period(content[0])
    elif (content[0].rstrip()[-1] in '.?!'
          and not content[0].rstrip().endswith(('e.g.', 'i.e.'))):
        content.insert(1, '')
    else:
        notes.append(f'HAND D205: summary runs over {para} lines: {content[0].strip()!r}')
    i = 0
    while i < len(content):
        if content[i].strip() in _SECTIONS and _indent(content[i]) == col:
            i = _convert_section(content, i, notes)
        else:
            i += 1
    return f'{prefix}"""\n' + '\n'.join(content) + f'\n{pad}"""'


def _is_property(node: ast.AST) -> bool:
    return any(getattr(d, 'id', getattr(d, 'attr', None)) in ('property', 'cached_property')
               for d in getattr(node, 'decorator_list', ()))


def _docstring_nodes(tree: ast.Module) -> list[tuple[ast.Constant, bool]]:
    """Return (docstring node, imperative mood applies) for every docstring of ``tree``."""
    found = []
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            first = node.body[0] if node.body else None
            if (isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant)
                    and isinstance(first.value.value, str)):
                mood = (isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef))
                        and not _is_property(node) and not node.name.startswith('test'))
                found.append((first.value, mood))
    return found


def fix_docstrings(src: str, notes: list[str]) -> str:
    """Rewrite every module, class and function docstring of ``src``."""
    lines = src.split('\n')
    nodes = sorted(_docstring_nodes(ast.parse(src)), key=lambda n: -n[0].lineno)
    for node, is_function in nodes:
        first, last = node.lineno - 1, node.end_lineno - 1
        raw_b = '\n'.join(lines[first:last + 1]).encode()  # ast offsets count UTF-8 bytes
        cut = len(raw_b) - len(lines[last].encode()) + node.end_col_offset
        head = raw_b[:node.col_offset].decode()
        raw, tail = raw_b[node.col_offset:cut].decode(), raw_b[cut:].decode()
        local: list[str] = []
        new = fix_docstring(raw, node.col_offset, is_function, local)
        notes += [f'{node.lineno}: {n}' for n in local]
        lines[first:last + 1] = (head + new + tail).split('\n')
    src = '\n'.join(lines)
    return re.sub(r'(?<!`)__doc__\.splitlines\(\)', '__doc__.strip().splitlines()', src)


def _import_text(node: ast.stmt, original: str, notes: list[str]) -> str:
    if not isinstance(node, ast.ImportFrom):
        return original
    names = [a.name + (f' as {a.asname}' if a.asname else '') for a in node.names]
    ordered = sorted(names, key=lambda n: Google.name_key(n.split(' as ')[0]))
    if names == ordered:
        return original
    if '#' in original:
        notes.append(f'HAND line {node.lineno}: names not sorted, but the import has a comment')
        return original
    module = '.' * node.level + (node.module or '')
    one = f'from {module} import {", ".join(ordered)}'
    if len(one) <= MAX_COLUMNS:
        return one
    return f'from {module} import (\n' + ''.join(f'    {n},\n' for n in ordered) + ')'


def fix_imports(src: str, notes: list[str]) -> str:
    """Sort the leading block of top-level imports with flake8-import-order's google key."""
    tree = ast.parse(src)
    body = tree.body[1:] if ast.get_docstring(tree, clean=False) is not None else tree.body
    block = []
    for node in body:
        if not isinstance(node, (ast.Import, ast.ImportFrom)):
            break
        block.append(node)
    later = [n.lineno for n in body[len(block):] if isinstance(n, (ast.Import, ast.ImportFrom))]
    if later:
        notes.append(f'HAND imports after code at lines {later} are not sorted')
    if not block:
        return src
    lines = src.split('\n')
    first, last = block[0].lineno - 1, block[-1].end_lineno - 1
    between = [ln for ln in lines[first:last + 1] if ln.strip().startswith('#')]
    if between or any(';' in lines[n.lineno - 1] for n in block):
        notes.append(f'HAND import block at line {first + 1} holds comments; not sorted')
        return src
    visitor = ImportVisitor([], [])
    visitor.visit(ast.Module(body=block, type_ignores=[]))
    keyed = []
    for node, classified in zip(block, visitor.imports):
        if classified.type == ImportType.MIXED:
            notes.append(f'HAND line {node.lineno}: one import of mixed kinds (I666)')
            return src
        text = '\n'.join(lines[node.lineno - 1:node.end_lineno])
        text = _import_text(node, text, notes)
        keyed.append((Google.import_key(classified), classified.type, text))
    keyed.sort(key=lambda k: k[0])
    out: list[str] = []
    for i, (_, kind, text) in enumerate(keyed):
        if i and kind != keyed[i - 1][1]:
            out.append('')
        out.append(text)
    lines[first:last + 1] = '\n'.join(out).split('\n')
    return '\n'.join(lines)


def fix_source(src: str, notes: list[str]) -> str:
    """Return ``src`` with the docstring and import fixes applied."""
    src = fix_imports(fix_docstrings(src, notes), notes)
    ast.parse(src)  # never write a file that does not parse
    for n, line in enumerate(src.split('\n'), 1):
        if len(line) > MAX_COLUMNS:
            notes.append(f'HAND line {n} has {len(line)} columns')
    return src


def _python_files(paths: list[str]) -> list[Path]:
    files: list[Path] = []
    for p in map(Path, paths):
        files += sorted(p.rglob('*.py')) if p.is_dir() else [p]
    return [f for f in files if not any(part.startswith(('.', '_')) and part not in ('.', '..')
                                        and part != f.name for part in f.parts)]


def main(argv: list[str] | None = None) -> int:
    """Fix (or with --check, list) the files under the given paths; 1 if any would change."""
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('paths', nargs='+', help='files or directories')
    parser.add_argument('--check', action='store_true', help='only list files that change')
    args = parser.parse_args(argv)
    changed = 0
    for path in _python_files(args.paths):
        src = path.read_text()
        notes: list[str] = []
        new = fix_source(src, notes)
        for note in notes:
            print(f'{path}: {note}')
        if new != src:
            changed += 1
            print(f'{path}: {"would change" if args.check else "fixed"}')
            if not args.check:
                path.write_text(new)
    return 1 if changed and args.check else 0


if __name__ == '__main__':
    sys.exit(main())
