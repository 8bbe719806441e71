"""
The report of the fusion study, regenerated from ``docs/results/fusion/`` only.

Writes the tables between the ``fusion-study`` markers of ``docs/fusion.md`` (the rest of the
file is hand-written and kept) and the heat map ``fusion_robustness.png``.
"""

from __future__ import annotations

from itertools import combinations
import json
from pathlib import Path

import numpy as np
from vla_ros.eval.fusion_conditions import CONDITIONS, FUSIONS, KINDS
from vla_ros.eval.stats import format_rate, wilson_interval

BEGIN, END = '<!-- fusion-study:begin -->', '<!-- fusion-study:end -->'


def _load(results: Path) -> dict[str, dict]:
    out: dict[str, dict] = {}
    for f in FUSIONS:
        d: dict = {}
        ev = results / f'{f}.eval.json'
        if ev.exists():
            d['eval'] = json.loads(ev.read_text())['results']
        rb = results / f'{f}.robust.jsonl'
        if rb.exists():
            d['robust'] = [json.loads(ln) for ln in rb.read_text().splitlines() if ln.strip()]
        tm = results / f'{f}.timing.json'
        if tm.exists():
            d['timing'] = json.loads(tm.read_text())
        if d:
            out[f] = d
    return out


def _rate(rows: list[dict]) -> tuple[int, int]:
    return sum(bool(r['success']) for r in rows), len(rows)


def conditions(data: dict[str, dict]) -> list[str]:
    """Conditions present in any robustness file, in study order."""
    seen = {r['condition'] for d in data.values() for r in d.get('robust', [])}
    return [c for c in CONDITIONS if c in seen]


def _main_table(data: dict[str, dict]) -> str:
    lines = ['| fusion | success, nodes (test block) | ' + ' | '.join(KINDS) +
             ' | run() p50 / p95 [ms] | int8 run() p50 [ms] | int8 success (lockstep) vs '
             'fp32 | parameters | policy.onnx | steps, final loss |',
             '|---|---|' + '---|' * len(KINDS) + '---|---|---|---|---|---|']
    for f in FUSIONS:
        d = data.get(f, {})
        ev, tm = d.get('eval'), d.get('timing')
        cells = [format_rate(*_rate(ev)) if ev else 'pending']
        for k in KINDS:
            cells.append('{}/{}'.format(*_rate([r for r in ev if r['kind'] == k])) if ev
                         else '')
        if tm:
            cells += [f'{tm["fp32"]["run_ms_p50"]:.2f} / {tm["fp32"]["run_ms_p95"]:.2f}',
                      f'{tm["int8"]["run_ms_p50"]:.2f}']
        else:
            cells += ['', '']
        rb = d.get('robust', [])
        i8 = [r for r in rb if r['condition'] == 'int8']
        base = [r for r in rb if r['condition'] == 'none']
        cells.append('{}/{} vs {}/{}'.format(*_rate(i8), *_rate(base)) if i8 and base else '')
        if tm:
            cells += [f'{(tm.get("params") or 0) / 1e6:.2f} M',
                      f'{tm["fp32"]["onnx_mb"]:.1f} MB (int8 {tm["int8"]["onnx_mb"]:.1f})',
                      f'{tm.get("steps")}, {tm.get("final_loss")}']
        else:
            cells += ['', '', '']
        lines.append(f'| {f} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def _robust_table(data: dict[str, dict], conds: list[str]) -> str:
    lines = ['| fusion | ' + ' | '.join(conds) + ' |', '|---|' + '---|' * len(conds)]
    for f in FUSIONS:
        rb = data.get(f, {}).get('robust', [])
        cells = []
        for c in conds:
            rows = [r for r in rb if r['condition'] == c]
            cells.append('{}/{}'.format(*_rate(rows)) if rows else '')
        lines.append(f'| {f} | ' + ' | '.join(cells) + ' |')
    return '\n'.join(lines)


def separations(data: dict[str, dict], conds: list[str]) -> list[str]:
    """Pairs of fusions whose 95 % Wilson intervals do not overlap, per condition."""
    out = []
    for c in ['nodes', *conds]:
        iv = {}
        for f, d in data.items():
            rows = d.get('eval', []) if c == 'nodes' else [
                r for r in d.get('robust', []) if r['condition'] == c]
            if rows:
                k, n = _rate(rows)
                iv[f] = (k / n, *wilson_interval(k, n))
        for a, b in combinations(sorted(iv), 2):
            (pa, la, ha), (pb, lb, hb) = iv[a], iv[b]
            if ha < lb or hb < la:
                hi, lo = (a, b) if pa > pb else (b, a)
                out.append(f'{c}: {hi} {100 * iv[hi][0]:.0f} % > {lo} {100 * iv[lo][0]:.0f} %')
    return out


def heat_map(data: dict[str, dict], conds: list[str], path: Path) -> None:
    """Fusion x condition success rates (lockstep), annotated with k/n."""
    # optional heavy dependency: matplotlib
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    fus = [f for f in FUSIONS if data.get(f, {}).get('robust')]
    grid = np.full((len(fus), len(conds)), np.nan)
    text = [[''] * len(conds) for _ in fus]
    for i, f in enumerate(fus):
        for j, c in enumerate(conds):
            rows = [r for r in data[f]['robust'] if r['condition'] == c]
            if rows:
                k, n = _rate(rows)
                grid[i, j], text[i][j] = k / n, f'{k}/{n}'
    fig, ax = plt.subplots(figsize=(1.0 + 0.75 * len(conds), 0.9 + 0.55 * len(fus)))
    im = ax.imshow(grid, vmin=0, vmax=1, cmap='RdYlGn', aspect='auto')
    for i in range(len(fus)):
        for j in range(len(conds)):
            ax.text(j, i, text[i][j], ha='center', va='center', fontsize=7)
    ax.set_xticks(range(len(conds)), [c.replace('mask:', 'no ') for c in conds], rotation=40,
                  ha='right', fontsize=8)
    ax.set_yticks(range(len(fus)), fus, fontsize=8)
    ax.set_title('success per fusion and condition (lockstep, test block)', fontsize=9)
    fig.colorbar(im, ax=ax, fraction=0.025)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)


def render(data: dict[str, dict]) -> str:
    """Return the generated section (markdown)."""
    conds = conditions(data)
    sep = separations(data, conds)
    missing = [f for f in FUSIONS if 'eval' not in data.get(f, {})]
    parts = ['### Success, latency, size', '', _main_table(data), '',
             '### Robustness to missing and corrupted modalities', '',
             '![fusion x condition](img/fusion_robustness.png)', '',
             _robust_table(data, conds), '', '### Distinguishable with 95 % intervals', '']
    parts += [f'- {s}' for s in sep] or ['- none: no two fusions have non-overlapping Wilson '
                                         'intervals on any condition measured so far.']
    if missing:
        parts += ['', f'Pending (no committed results yet): {", ".join(missing)}.']
    return '\n'.join(parts)


def write_report(results: Path, md: Path, img_dir: Path) -> str:
    """Regenerate the marked section of ``md`` and the heat map; return the section."""
    data = _load(results)
    section = render(data)
    if data:
        heat_map(data, conditions(data), img_dir / 'fusion_robustness.png')
    text = md.read_text() if md.exists() else f'{BEGIN}\n{END}\n'
    if BEGIN not in text or END not in text:
        text = text.rstrip() + f'\n\n{BEGIN}\n{END}\n'
    head, rest = text.split(BEGIN, 1)
    tail = rest.split(END, 1)[1]
    md.write_text(f'{head}{BEGIN}\n{section}\n{END}{tail}')
    return section
