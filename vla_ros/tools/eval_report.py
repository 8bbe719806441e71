"""Evaluation results -> markdown table + bar chart (success per task kind and condition)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path

import numpy as np

from vla_ros.sim.task_suite import TaskKind


def save_results(path: str | Path, results: Sequence, meta: dict) -> Path:
    """JSON: {'meta': {...}, 'results': [EpisodeResult without frames]}."""
    rows = []
    for r in results:
        d = asdict(r) if not isinstance(r, dict) else dict(r)
        d.pop('frames', None)
        d['mask'] = list(d.get('mask') or ())
        rows.append(d)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({'meta': meta, 'results': rows}, indent=1))
    return path


def load_results(path: str | Path) -> tuple[dict, list[dict]]:
    d = json.loads(Path(path).read_text())
    return d['meta'], d['results']


def condition_name(meta: dict) -> str:
    return meta.get('name') or ('mask ' + '+'.join(meta['mask']) if meta.get('mask')
                                else 'full')


def summarize(results: list[dict]) -> dict[str, tuple[int, int]]:
    """kind -> (successes, episodes), plus 'mean'."""
    out: dict[str, tuple[int, int]] = {}
    for k in TaskKind:
        rs = [r for r in results if r['kind'] == k.value]
        if rs:
            out[k.value] = (sum(r['success'] for r in rs), len(rs))
    out['mean'] = (sum(r['success'] for r in results), len(results))
    return out


def _pct(s: tuple[int, int]) -> str:
    return f'{100.0 * s[0] / s[1]:.0f} % ({s[0]}/{s[1]})' if s[1] else '-'


def markdown(runs: list[tuple[dict, list[dict]]]) -> str:
    """One column per condition; rows per task kind; then latency and failure reasons."""
    names = [condition_name(m) for m, _ in runs]
    sums = [summarize(rs) for _, rs in runs]
    kinds = [k.value for k in TaskKind if any(k.value in s for s in sums)] + ['mean']
    lines = ['| task | ' + ' | '.join(names) + ' |', '|---|' + '---|' * len(names)]
    for k in kinds:
        label = '**mean**' if k == 'mean' else k
        lines.append(f'| {label} | ' + ' | '.join(_pct(s.get(k, (0, 0))) for s in sums) + ' |')
    lat = [np.mean([r['latency_ms'] for r in rs]) if rs else float('nan') for _, rs in runs]
    e2e = [np.mean([r['e2e_ms'] for r in rs]) if rs else float('nan') for _, rs in runs]
    ctl = [np.mean([r['control_rate_hz'] for r in rs]) if rs else float('nan')
           for _, rs in runs]
    lines.append('| policy run() [ms] | ' + ' | '.join(f'{v:.1f}' for v in lat) + ' |')
    lines.append('| frame -> chunk [ms] | ' + ' | '.join(f'{v:.0f}' for v in e2e) + ' |')
    lines.append('| control rate [Hz] | ' + ' | '.join(f'{v:.1f}' for v in ctl) + ' |')
    para = []
    for (m, rs), n in zip(runs, names):
        ho = [r for r in rs if r.get('held_out')]
        tr = [r for r in rs if not r.get('held_out')]
        if ho and tr:
            para.append(f'- {n}: training phrasings {_pct(summarize(tr)["mean"])}, held-out '
                        f'paraphrases {_pct(summarize(ho)["mean"])}')
    out = '\n'.join(lines)
    if para:
        out += '\n\nBy phrasing:\n\n' + '\n'.join(para)
    out += '\n\nFailure reasons:\n\n'
    for (m, rs), n in zip(runs, names):
        c = Counter(f"{r['kind']}: {r['reason']}" for r in rs if not r['success'])
        top = ', '.join(f'{k} x{v}' for k, v in c.most_common(6)) or 'none'
        out += f'- {n}: {top}\n'
    return out


def bar_chart(runs: list[tuple[dict, list[dict]]], path: str | Path,
              title: str = 'Closed-loop success on held-out seeds') -> Path:
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    names = [condition_name(m) for m, _ in runs]
    sums = [summarize(rs) for _, rs in runs]
    kinds = [k.value for k in TaskKind if any(k.value in s for s in sums)] + ['mean']
    x = np.arange(len(kinds))
    w = 0.8 / max(1, len(runs))
    fig, ax = plt.subplots(figsize=(max(6, 1.2 * len(kinds) + 1), 3.6), dpi=110)
    for i, (n, s) in enumerate(zip(names, sums)):
        vals = [100.0 * s[k][0] / s[k][1] if s.get(k, (0, 0))[1] else 0 for k in kinds]
        ax.bar(x + (i - (len(runs) - 1) / 2) * w, vals, w, label=n)
    ax.set_xticks(x, kinds)
    ax.set_ylabel('success [%]')
    ax.set_ylim(0, 105)
    ax.set_title(title)
    ax.legend(fontsize=8, ncols=min(len(runs), 5))
    ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path)
    plt.close(fig)
    return path
