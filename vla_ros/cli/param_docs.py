"""
Parameter tables of the docs (one per node, and the shared sync table), from vla_ros.params.

``python -m vla_ros.cli.param_docs`` rewrites the tables between the markers
``<!-- params:NAME -->`` and ``<!-- /params:NAME -->``; ``--check`` exits 1 when a doc
disagrees with the code (the test suite runs the same check).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
import pathlib
import re
import sys

from vla_ros.params import NODE_PARAMETERS, ParamSpec, SYNC_PARAMETERS

ROOT = pathlib.Path(__file__).resolve().parents[2]
# marker name -> (doc, the rows of its table); the sync table is shared by two nodes, so the
# node tables here are each node's own parameters (NODE_PARAMETERS minus the sync table)
DOCS = {'vla_policy': 'docs/policy.md', 'sync': 'docs/sync.md',
        'multimodal_sync': 'docs/sync.md', 'mujoco_sim': 'docs/sim.md',
        'vla_inference': 'docs/distributed.md', 'sim_microphone': 'docs/sim.md',
        'gz_tactile': 'docs/sim.md', 'fake_sensors': 'README.md',
        'speech_command': 'docs/speech.md'}


def tables() -> dict[str, tuple[pathlib.Path, list[ParamSpec]]]:
    """Marker name -> (doc path, the rows of its table), one per node plus the sync table."""
    out = {'sync': (ROOT / DOCS['sync'], list(SYNC_PARAMETERS.values()))}
    for node, node_tables in NODE_PARAMETERS.items():
        rows = [s for t in node_tables if t is not SYNC_PARAMETERS for s in t.values()]
        out[node] = (ROOT / DOCS[node], rows)
    return out


def _default(s: ParamSpec) -> str:
    if s.default == []:
        return '`[]`'
    if isinstance(s.default, list):
        return '`[' + ', '.join(str(v) if v != '' else "''" for v in s.default) + ']`'
    if isinstance(s.default, str):
        return f"`'{s.default}'`" if s.default == '' else f'`{s.default}`'
    return f'`{str(s.default).lower() if isinstance(s.default, bool) else s.default}`'


def markdown(table: Iterable[ParamSpec]) -> str:
    """One markdown table: parameter, type, default, meaning (with the range)."""
    rows = ['| Parameter | Type | Default | Meaning |', '|---|---|---|---|']
    for s in table:
        meaning = s.description.replace('|', '/')
        if s.range is not None:
            meaning += f' (range {s.range[0]:g}..{s.range[1]:g})'
        if s.choices and not all(c in s.description for c in s.choices):
            meaning += f' (one of {", ".join(s.choices)})'
        if not s.read_only:
            meaning += ' (settable at run time)' if 'settable' not in meaning else ''
        rows.append(f'| `{s.name}` | {s.type.value} | {_default(s)} | {meaning} |')
    return '\n'.join(rows)


def render(text: str, name: str, table: Iterable[ParamSpec]) -> str:
    """``text`` with the block between the markers of ``name`` replaced by the table."""
    pattern = re.compile(rf'(<!-- params:{name} -->\n)(?:.*?\n)?(<!-- /params:{name} -->)',
                         re.S)
    if not pattern.search(text):
        raise SystemExit(f'markers <!-- params:{name} --> ... <!-- /params:{name} --> missing')
    return pattern.sub(lambda m: m.group(1) + markdown(table) + '\n' + m.group(2), text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument('--check', action='store_true', help='only compare, exit 1 on drift')
    args = parser.parse_args(argv)
    stale = []
    for name, (path, table) in tables().items():
        text = path.read_text()
        new = render(text, name, table)
        if new != text:
            stale.append(str(path.relative_to(ROOT)))
            if not args.check:
                path.write_text(new)
    if args.check and stale:
        print(f'parameter tables out of date in {stale}: run python -m '
              'vla_ros.cli.param_docs', file=sys.stderr)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main())
