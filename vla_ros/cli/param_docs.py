"""
Parameter tables of docs/policy.md, sync.md, sim.md and distributed.md, from the declared tables.

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

from vla_ros.nodes.policy_params import POLICY_PARAMETERS
from vla_ros.nodes.sim_params import SIM_PARAMETERS
from vla_ros.nodes.sync_params import SYNC_PARAMETERS
from vla_ros.nodes.vla_inference import INFERENCE_PARAMETERS
from vla_ros.ros.param_table import ParamSpec

ROOT = pathlib.Path(__file__).resolve().parents[2]


def _tables() -> dict[str, tuple[pathlib.Path, list[ParamSpec]]]:

    return {'vla_inference': (ROOT / 'docs/distributed.md', list(INFERENCE_PARAMETERS.values())),
            'mujoco_sim': (ROOT / 'docs/sim.md', list(SIM_PARAMETERS.values())),
            'vla_policy': (ROOT / 'docs/policy.md', list(POLICY_PARAMETERS.values())),
            'sync': (ROOT / 'docs/sync.md', list(SYNC_PARAMETERS.values()))}


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
        rows.append(f'| `{s.name}` | {s.type.name.lower()} | {_default(s)} | {meaning} |')
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
    for name, (path, table) in _tables().items():
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
