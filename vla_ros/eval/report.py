"""Evaluation results -> markdown table + bar chart (success per task kind and condition)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import asdict
import json
from pathlib import Path
import re
import subprocess

import numpy as np
from vla_ros.core.bundle.manifest import sha256_file
from vla_ros.eval.stats import format_rate
from vla_ros.sim.task_suite import TaskKind
import yaml


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


def git_commit(repo: str | Path | None = None) -> str | None:
    """Return HEAD of the checkout holding ``repo`` (+ ``-dirty`` if tracked files changed)."""
    cwd = Path(repo) if repo else Path(__file__).resolve().parents[2]
    try:
        head = subprocess.run(['git', 'rev-parse', 'HEAD'], cwd=cwd, capture_output=True,
                              text=True, timeout=10, check=True).stdout.strip()
        dirty = subprocess.run(['git', 'status', '--porcelain', '--untracked-files=no'],
                               cwd=cwd, capture_output=True, text=True, timeout=10,
                               check=True).stdout.strip()
    except (OSError, subprocess.SubprocessError):
        return None
    return head + ('-dirty' if dirty else '') if head else None


def bundle_provenance(bundle: str | Path) -> dict:
    """
    Return what pins a bundle: sha256 of its ``bundle.yaml`` and the file hashes it lists.

    ``bundle.yaml`` holds the sha256 of every other file of the bundle (verified on load), so
    its own sha256 identifies the whole bundle.
    """
    manifest = Path(bundle) / 'bundle.yaml'
    files = (yaml.safe_load(manifest.read_text()) or {}).get('files') or {}
    return {'bundle_sha256': sha256_file(manifest), 'bundle_files': dict(files)}


def provenance_lines(runs: list[tuple[dict, list[dict]]]) -> list[str]:
    """One markdown bullet per run: seeds, language, bundle and commit, overrides."""
    out = []
    for m, rs in runs:
        block = m.get('block') or '?'
        seeds = sorted(r['seed'] for r in rs)
        span = f'{seeds[0]}-{seeds[-1]}' if seeds else '-'
        note = '' if block == 'test' else ' (not the test block: not for reported numbers)'
        sha = (m.get('bundle_sha256') or '?')[:16]
        over = json.dumps(m.get('overrides') or {}, sort_keys=True)
        lang, commit = m.get('language', 'paraphrases'), m.get('git_commit') or '?'
        added = (f', EVALUATION-ONLY added latency {m["added_latency_ms"]:g} ms'
                 if m.get('added_latency_ms') else '')
        out.append(f'- {condition_name(m)}: {len(rs)} episodes, {block} block seeds {span}{note}'
                   f'{added}'
                   f', held-out commands: {lang}; bundle {m.get("bundle", "?")} sha256 {sha}...'
                   f', commit {commit}; overrides {over}')
    return out


def condition_name(meta: dict) -> str:
    """Return a run's name: its own, else from its mask and evaluation-only latency."""
    if meta.get('name'):
        return meta['name']
    parts = ['mask ' + '+'.join(meta['mask'])] if meta.get('mask') else []
    if meta.get('added_latency_ms'):
        parts.append(f'+{meta["added_latency_ms"]:g} ms latency (eval only)')
    return ', '.join(parts) or 'full'


def summarize(results: list[dict]) -> dict[str, tuple[int, int]]:
    """Count kind -> (successes, episodes), plus 'mean'."""
    out: dict[str, tuple[int, int]] = {}
    for k in TaskKind:
        rs = [r for r in results if r['kind'] == k.value]
        if rs:
            out[k.value] = (sum(r['success'] for r in rs), len(rs))
    out['mean'] = (sum(r['success'] for r in results), len(results))
    return out


def _pct(s: tuple[int, int]) -> str:
    return format_rate(*s)


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
            what = 'words' if m.get('language') == 'held_out_words' else 'paraphrases'
            para.append(f'- {n}: training phrasings {_pct(summarize(tr)["mean"])}, held-out '
                        f'{what} {_pct(summarize(ho)["mean"])}')
            for v in sorted({r.get('variant') for r in ho} - {'', None}):
                vs = [r for r in ho if r.get('variant') == v]
                para.append(f'  - {v}: {_pct(summarize(vs)["mean"])}')
    out = '\n'.join(lines)
    para += language_lines(runs)
    if para:
        out += '\n\nBy phrasing:\n\n' + '\n'.join(para)
    out += ('\n\nRates: successes/episodes (rate, 95 % Wilson interval).\n\nRuns:\n\n'
            + '\n'.join(provenance_lines(runs)))
    out += '\n\nFailure reasons:\n\n'
    for (m, rs), n in zip(runs, names):
        c = Counter(f"{r['kind']}: {r['reason']}" for r in rs if not r['success'])
        top = ', '.join(f'{k} x{v}' for k, v in c.most_common(6)) or 'none'
        out += f'- {n}: {top}\n'
    return out


def language_lines(runs: list[tuple[dict, list[dict]]]) -> list[str]:
    """
    One bullet per run of held-out commands only that has a training-phrasing twin.

    The twin is a run without held-out commands on the same seeds and mask: its success is the
    denominator of ``lang_ratio``.
    """
    out = []
    key = lambda rs: (sorted(r['seed'] for r in rs), sorted(rs[0].get('mask') or []))  # noqa
    for m, rs in runs:
        if not rs or not all(r.get('held_out') for r in rs):
            continue
        twin = next((t for _, t in runs if t and not any(r.get('held_out') for r in t)
                     and key(t) == key(rs)), None)
        if twin is None:
            continue
        ho, tr = summarize(rs)['mean'], summarize(twin)['mean']
        ratio = ho[0] / tr[0] if tr[0] else float('nan')
        out.append(f'- {condition_name(m)} vs training phrasings on the same seeds: '
                   f'{_pct(ho)} vs {_pct(tr)}, lang_ratio {ratio:.2f}')
        for v in sorted({r.get('variant') for r in rs} - {'', None}):
            vs = [r for r in rs if r.get('variant') == v]
            out.append(f'  - {v}: {_pct(summarize(vs)["mean"])}')
    return out


REPORT_BEGIN = '<!-- eval report: generated by `vla-ros eval --report`, do not edit -->'
REPORT_END = '<!-- end of eval report -->'


def write_report(path: str | Path, md: str) -> Path:
    """
    Write ``md`` to ``path`` between the report markers, keeping any text around them.

    A file without the markers is replaced by a title and the marked report.
    """
    path = Path(path)
    block = f'{REPORT_BEGIN}\n\n{md.rstrip()}\n\n{REPORT_END}'
    old = path.read_text() if path.exists() else ''
    if REPORT_BEGIN in old and REPORT_END in old:
        head, rest = old.split(REPORT_BEGIN, 1)
        text = head + block + rest.split(REPORT_END, 1)[1]
    else:
        text = f'# Closed-loop evaluation\n\n{block}\n'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def bar_label(s: tuple[int, int] | None) -> str:
    """``'3/5'`` for an evaluated bar (``'0/2'`` too), ``'n/a'`` when not evaluated."""
    return f'{s[0]}/{s[1]}' if s and s[1] else 'n/a'


def summaries_from_markdown(md: str) -> list[tuple[str, dict[str, tuple[int, int]]]]:
    """
    Read (condition, kind -> (successes, episodes)) from the table :func:`markdown` wrote.

    The table is the one in ``docs/eval.md``: this re-draws the chart from a published report
    without re-running it.
    """
    rows = [ln for ln in md.splitlines() if ln.startswith('|')]
    if len(rows) < 3 or not rows[0].startswith('| task |'):
        raise ValueError('no "| task | ..." table found')
    names = [c.strip() for c in rows[0].strip('|').split('|')[1:]]
    out: list[tuple[str, dict[str, tuple[int, int]]]] = [(n, {}) for n in names]
    cell = re.compile(r'(\d+)/(\d+)')  # 'k/n (p %, CI)' and the older 'p % (k/n)'
    for row in rows[2:]:
        cols = [c.strip() for c in row.strip('|').split('|')]
        kind = cols[0].strip('*')
        if kind not in [k.value for k in TaskKind] + ['mean']:
            continue
        for (_, sums), c in zip(out, cols[1:]):
            m = cell.search(c)
            if m:
                sums[kind] = (int(m[1]), int(m[2]))
    return out


def chart_figure(names: Sequence[str], sums: Sequence[dict[str, tuple[int, int]]],
                 title: str = 'Closed-loop success on held-out seeds'):
    """
    Draw the success chart; return (figure, axes, legend).

    Grouped bars per task kind, successes/episodes on every bar,
    'n/a' (grey, no bar) where a condition was not evaluated, a thin stub at 0 %, the legend
    below the axes so it never covers a bar.
    """
    # optional heavy dependency: matplotlib
    import matplotlib
    matplotlib.use('Agg')
    from matplotlib.patches import Patch
    import matplotlib.pyplot as plt
    kinds = [k.value for k in TaskKind if any(k.value in s for s in sums)] + ['mean']
    x = np.arange(len(kinds))
    w = 0.8 / max(1, len(names))
    fig, ax = plt.subplots(figsize=(max(6.5, 1.3 * len(kinds) + 1), 4.2), dpi=110)
    small = 8 if len(names) <= 3 else 7
    handles = []
    for i, (n, s) in enumerate(zip(names, sums)):
        xs = x + (i - (len(names) - 1) / 2) * w
        vals = [100.0 * s[k][0] / s[k][1] if s.get(k, (0, 0))[1] else 0.0 for k in kinds]
        handles.append(Patch(color=f'C{i}', label=n))
        for xi, v, k in zip(xs, vals, kinds):
            label = bar_label(s.get(k))
            if label != 'n/a':
                ax.bar(xi, v, w * 0.92, color=f'C{i}')
            else:
                ax.text(xi, 2, 'n/a', ha='center', va='bottom', rotation=90, fontsize=small,
                        color='0.55', style='italic')
                continue
            if v == 0:  # evaluated, none solved: a visible stub, not an empty slot
                ax.plot([xi - w * 0.42, xi + w * 0.42], [0.6, 0.6], color=f'C{i}', lw=2.5)
            ax.text(xi, v + 1.5, label, ha='center', va='bottom', rotation=90,
                    fontsize=small)
    ax.set_xticks(x, kinds)
    ax.set_ylabel('success [%]')
    ax.set_ylim(0, 122)
    ax.set_yticks(range(0, 101, 20))
    ax.set_title(title)
    legend = ax.legend(handles=handles, fontsize=8, ncols=min(len(names), 5), loc='upper center',
                       bbox_to_anchor=(0.5, -0.1), frameon=False)
    ax.grid(axis='y', alpha=0.3)
    fig.tight_layout()
    return fig, ax, legend


def save_chart(names: Sequence[str], sums: Sequence[dict[str, tuple[int, int]]],
               path: str | Path, title: str = 'Closed-loop success on held-out seeds') -> Path:
    # optional heavy dependency: matplotlib
    import matplotlib.pyplot as plt
    fig, _, legend = chart_figure(names, sums, title)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, bbox_extra_artists=[legend], bbox_inches='tight')
    plt.close(fig)
    return path


def bar_chart(runs: list[tuple[dict, list[dict]]], path: str | Path,
              title: str = 'Closed-loop success on held-out seeds') -> Path:
    """Save the chart of result JSONs (see :func:`chart_figure`)."""
    return save_chart([condition_name(m) for m, _ in runs], [summarize(rs) for _, rs in runs],
                      path, title)
