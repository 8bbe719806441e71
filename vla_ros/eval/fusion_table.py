"""
The fusion comparison: early / late / cross_attention / moe.

Each is trained on the same data with the same budget (optimizer steps, batch, seed, image
stem), and evaluated closed loop through the real ``mujoco_sim`` + ``vla_policy`` processes on
the same held-out episodes.

    python -m vla_ros.cli.fusion_table out/demos --steps 4000 --episodes 2

Writes one bundle per fusion (``out/fusion/<fusion>``), the episode JSONs, ``docs/fusion.md``
(success per task, policy run() latency, parameters, training time) and a bar chart.
"""

from __future__ import annotations

from collections.abc import Sequence
import json
from pathlib import Path
import time

import numpy as np
from vla_ros.eval.episode import run_episodes
from vla_ros.eval.report import bar_chart, load_results, markdown, save_results, summarize
from vla_ros.eval.stats import format_rate
from vla_ros.model.config import Fusion
from vla_ros.sim.eval_sets import eval_tasks

FUSIONS = tuple(f.value for f in Fusion)


def train_one(fusion: str, data: list[str], out_dir: Path, *, steps: int, threads: int,
              cache: str) -> dict:
    """Train and export one fusion; returns its training record."""
    # optional heavy dependency: torch (via vla_ros.model.train)
    from vla_ros.model.train import TrainConfig, default_policy_config, train
    res = train(TrainConfig(data=tuple(data), out=str(out_dir / fusion), fusion=fusion,
                            steps=steps, threads=threads, cache_dir=cache,
                            work_dir=str(out_dir / 'work' / fusion),
                            policy=default_policy_config(fusion), model_id=f'vla-sim-{fusion}'),
                progress=False)
    return {'fusion': fusion, 'params': res.params, 'steps': res.steps,
            'train_min': round(res.seconds / 60, 1),
            'final_loss': round(float(np.mean(res.losses[-50:])), 4)}


def eval_one(bundle: Path, episodes: int, out_json: Path, name: str) -> Path:
    """Closed-loop episodes through the real nodes; results JSON (``vla-ros eval`` format)."""
    pairs = eval_tasks(episodes)
    results = run_episodes(bundle, [t for t, _ in pairs], [s for _, s in pairs])
    return save_results(out_json, results, {'name': name, 'bundle': str(bundle), 'mask': [],
                                            'episodes': episodes})


def table(records: list[dict], runs: list[tuple[dict, list[dict]]]) -> str:
    """Markdown: one row per fusion (success, latency, parameters, training)."""
    lines = ['| fusion | success (held-out) | policy run() [ms] | parameters | '
             'training | final loss |', '|---|---|---|---|---|---|']
    for rec, (_, rs) in zip(records, runs):
        ok, n = summarize(rs)['mean']
        lat = np.mean([r['latency_ms'] for r in rs])
        lines.append(f"| {rec['fusion']} | {format_rate(ok, n)} | {lat:.1f} | "
                     f"{rec['params'] / 1e6:.2f} M | {rec['steps']} steps, "
                     f"{rec['train_min']} min | {rec['final_loss']} |")
    return '\n'.join(lines)


def compare(data: Sequence[str], out: Path, *, fusions: Sequence[str] = FUSIONS,
            steps: int = 4000, episodes: int = 2, threads: int = 2, cache: str = 'out/cache',
            skip_train: bool = False) -> tuple[list[dict], list[tuple[dict, list[dict]]]]:
    """
    Train (or reuse, ``skip_train``) and evaluate each fusion; (records, results) per fusion.

    ``data``: bag directories; ``out``: bundles, training records and episode JSONs.
    """
    out.mkdir(parents=True, exist_ok=True)
    records, runs = [], []
    for fusion in fusions:
        rec_file = out / f'{fusion}.train.json'
        t0 = time.monotonic()
        if skip_train and rec_file.exists():
            rec = json.loads(rec_file.read_text())
        else:
            rec = train_one(fusion, list(data), out, steps=steps, threads=threads, cache=cache)
            rec_file.write_text(json.dumps(rec))
        js = eval_one(out / fusion, episodes, out / f'{fusion}.eval.json', fusion)
        records.append(rec)
        runs.append(load_results(js))
        ok = sum(r['success'] for r in runs[-1][1])
        print(f'{fusion}: {ok}/{len(runs[-1][1])} in {time.monotonic() - t0:.0f} s', flush=True)
    return records, runs


def write_comparison(records: list[dict], runs: list[tuple[dict, list[dict]]], md: Path,
                     png: Path) -> str:
    """Write the comparison page ``md`` and its bar chart ``png``; returns the page."""
    text = ('# Fusion comparison\n\nSame demonstrations, same optimizer steps, batch, seed and '
            'image stem for every fusion; closed loop through the real `mujoco_sim` + '
            '`vla_policy` processes on the same held-out episodes. Written by '
            '`python -m vla_ros.cli.fusion_table`.\n\n'
            f'![success per task and fusion](img/{png.name})\n\n'
            + table(records, runs) + '\n\nPer task:\n\n' + markdown(runs))
    md.write_text(text)
    bar_chart(runs, png, title='Closed-loop success per fusion (held-out seeds)')
    return text
