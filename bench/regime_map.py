"""
The scheduler regime map: closed-loop success against inference latency, per scheduler setting.

Lockstep rollouts (:mod:`vla_ros.eval.sim_rollout`: the node's sync core, PolicyLoop,
scheduler and safety filter with ``config/sim.yaml``, no DDS) of ``models/default`` on the
*dev* seed block (this is a tuning map), with ``latency_s`` of simulated inference time from
the frame that requested a chunk to the chunk reaching the scheduler. Every setting plays the
same seeds at every latency. Per-episode rows are appended to ``--out`` (JSON lines; a rerun
skips the rows already there, so an interrupted sweep resumes); ``--plot`` draws
``docs/img/regime_map.png`` and prints the markdown table from that file.

    python bench/regime_map.py                       # sweep (~20 min on 2 cores), resumable
    python bench/regime_map.py --plot                # figure + table from the committed rows

Another bundle's rows beside them (e.g. a delay-aware retrain, issue #29), tagged:

    python bench/regime_map.py --bundle out/delay_aware --tag 'delay-aware'
        --setting 'threshold 8, min_exec 2 (old default)' --latencies 0,300,600,1000,1500
        --out out/regime_delay_aware.jsonl --figure out/regime_delay_aware.png
"""

from __future__ import annotations

import argparse
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / 'docs' / 'results' / 'regime' / 'regime_map.jsonl'
FIGURE = ROOT / 'docs' / 'img' / 'regime_map.png'
LATENCIES_MS = (0, 100, 200, 300, 450, 600, 800)
DEV_OFFSET = 5_000  # index into the dev block reserved for this map
# name -> vla_policy parameters over config/sim.yaml (the default bundle: horizon 10, dt 0.1 s).
# Until 2026-12-07 the shipped scheduler was the threshold trigger (auto = threshold for a
# bundle without an action prefix) with `blend`: the settings below name both explicitly, so
# that they mean what their committed rows measured; "old default" is that shipped setting.
_OLD = {'scheduler.trigger': 'threshold', 'scheduler.smoothing': 'blend'}
SETTINGS: dict[str, dict[str, object]] = {
    'threshold 8, min_exec 1': {**_OLD, 'scheduler.min_execution_steps': 1},
    'threshold 8, min_exec 2 (old default)': dict(_OLD),
    'threshold 5, min_exec 2': {**_OLD, 'scheduler.inference_threshold': 5},
    'trigger frame, min_exec 2': {**_OLD, 'scheduler.trigger': 'frame',
                                  'scheduler.max_inference_rate_hz': 10.0},
    'temporal ensemble, min_exec 2': {**_OLD, 'scheduler.smoothing': 'temporal_ensemble'},
    'no smoothing, min_exec 2': {**_OLD, 'scheduler.smoothing': 'none'},
    # explicit triggers, for a bundle whose default (`auto`) is not the threshold (#29)
    'trigger threshold 8, min_exec 2': dict(_OLD),
    'trigger frame, no cap': {**_OLD, 'scheduler.trigger': 'frame'},
    # the shipped defaults from 2026-12-07 (auto trigger, temporal ensemble): no override
    'shipped: auto, temporal ensemble': {},
    'trigger threshold 16, min_exec 2': {'scheduler.trigger': 'threshold',
                                         'scheduler.inference_threshold': 16},
    'trigger threshold 20, min_exec 2': {'scheduler.trigger': 'threshold',
                                         'scheduler.inference_threshold': 20},
    'trigger threshold 22, min_exec 2': {'scheduler.trigger': 'threshold',
                                         'scheduler.inference_threshold': 22},
    'trigger frame, temporal ensemble': {'scheduler.trigger': 'frame',
                                         'scheduler.max_inference_rate_hz': 10.0,
                                         'scheduler.smoothing': 'temporal_ensemble'},
    'trigger threshold 8, temporal ensemble': {'scheduler.trigger': 'threshold',
                                               'scheduler.smoothing': 'temporal_ensemble'},
    'trigger threshold 9, temporal ensemble': {'scheduler.trigger': 'threshold',
                                               'scheduler.inference_threshold': 9,
                                               'scheduler.smoothing': 'temporal_ensemble'},
    'trigger threshold 22, temporal ensemble': {'scheduler.trigger': 'threshold',
                                                'scheduler.inference_threshold': 22,
                                                'scheduler.smoothing': 'temporal_ensemble'},
    'trigger threshold 23, temporal ensemble': {'scheduler.trigger': 'threshold',
                                                'scheduler.inference_threshold': 23,
                                                'scheduler.smoothing': 'temporal_ensemble'},
    # the shipped auto trigger with the ensemble weighting newer plans (m < 0): for long chunks,
    # where the frame trigger's ensemble would average up to a horizon's worth of plans
    'auto, temporal ensemble m -0.1': {'scheduler.ensemble_coeff': -0.1},
    'auto, temporal ensemble m -0.3': {'scheduler.ensemble_coeff': -0.3},
    'auto, temporal ensemble m -1': {'scheduler.ensemble_coeff': -1.0},
}


def _done(path: pathlib.Path) -> set[tuple[str, float, int]]:
    if not path.exists():
        return set()
    rows = [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]
    return {(r['setting'], r['latency_ms'], r['seed']) for r in rows}


def sweep(path: pathlib.Path, episodes: int, bundle: str, *,
          settings: dict[str, dict[str, object]] | None = None, tag: str = '',
          latencies: tuple[float, ...] = LATENCIES_MS) -> None:
    """
    Play every (setting, latency, seed) not yet in ``path``; append one row each.

    ``tag``: prefixed to the setting names of these rows (another bundle beside the default).
    """
    settings = {f'{tag}: {k}' if tag else k: v for k, v in (settings or SETTINGS).items()}
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime
    from vla_ros.sim.task_suite import episode_seed, make_task
    from vla_ros.eval.kinds import trained_kinds
    from vla_ros.eval.sim_rollout import lockstep_world, rollout
    rt = PolicyRuntime.from_bundle(bundle)
    world, rates = lockstep_world(rt)
    kinds = trained_kinds(bundle)
    seeds = [(episode_seed('dev', DEV_OFFSET, i, k), k) for i in range(episodes) for k in kinds]
    done = _done(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    total = len(settings) * len(latencies) * len(seeds)
    n, t0 = len(done), time.monotonic()
    with path.open('a') as f:
        for name, over in settings.items():
            for lat in latencies:
                for seed, kind in seeds:
                    if (name, float(lat), seed) in done:
                        continue
                    steps = {}
                    m = rollout(world, rt, make_task(kind, seed), seed, rates=rates,
                                latency_s=lat / 1e3, policy_overrides=over,
                                on_done=lambda loop: steps.update(  # noqa: B023 - called now
                                    _boundary_fields(loop.boundary_steps)))
                    f.write(json.dumps({'setting': name, 'overrides': over,
                                        'latency_ms': float(lat), 'seed': seed, 'kind': kind,
                                        'success': bool(m.success), 'reason': m.reason,
                                        'sim_s': round(m.last_time, 2), **steps}) + '\n')
                    f.flush()
                    n += 1
                    print(f'[{n}/{total} {time.monotonic() - t0:.0f} s] {name} +{lat} ms '
                          f'{kind} {seed}: {"OK" if m.success else "FAIL"} ({m.reason})',
                          flush=True)


def _boundary_fields(meter) -> dict[str, object]:
    """Return the row's boundary steps [rad/s] (vla_ros/core/control/boundary_steps.py)."""
    return {'boundary_step_max': round(meter.commanded.max_step, 4),
            'boundary_step_max_planned': round(meter.planned.max_step, 4),
            'chunk_boundaries': meter.commanded.boundaries}


def plot(path: pathlib.Path, figure: pathlib.Path) -> str:
    """Draw success vs latency per setting (Wilson bands); return the markdown table."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    from vla_ros.eval.stats import wilson_interval
    rows = [json.loads(ln) for ln in path.read_text().splitlines() if ln.strip()]
    names = list(dict.fromkeys([s for s in SETTINGS if any(r['setting'] == s for r in rows)]
                               + [r['setting'] for r in rows]))
    lats = sorted({r['latency_ms'] for r in rows})
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    table = ['| setting | ' + ' | '.join(f'+{lat:g} ms' for lat in lats) + ' |',
             '|---|' + '---|' * len(lats)]
    jerk = table[:]  # p99 over episodes of the boundary step (rows that have it)
    for name in names:
        cells, ys, los, his = [], [], [], []
        for lat in lats:
            sel = [r['success'] for r in rows if r['setting'] == name and r['latency_ms'] == lat]
            ok, n = sum(sel), len(sel)
            lo, hi = wilson_interval(ok, n) if n else (float('nan'),) * 2
            ys.append(ok / n if n else float('nan'))
            los.append(lo)
            his.append(hi)
            cells.append(f'{ok}/{n}' if n else '')
        ax.plot(lats, ys, marker='o', label=name)
        ax.fill_between(lats, los, his, alpha=0.05)
        table.append(f'| {name} | ' + ' | '.join(cells) + ' |')
        steps = [[r['boundary_step_max_planned'] for r in rows if r['setting'] == name
                  and r['latency_ms'] == lat and r.get('chunk_boundaries')]  # had a boundary
                 for lat in lats]
        if any(steps):
            jerk.append(f'| {name} | ' + ' | '.join(
                f'{np.percentile(v, 99):.2f}' if v else '' for v in steps) + ' |')
    ax.axvline(200, color='grey', lw=0.8, ls=':')   # 2 actions = min_execution_steps x dt
    ax.text(205, 0.97, 'min_exec x dt', color='grey', fontsize=8)
    ax.set_xlabel('inference latency (simulated, frame -> chunk) [ms]')
    ax.set_ylabel('success (dev block, 95 % Wilson band)')
    ax.set_ylim(0, 1.02)
    ax.set_title('models/default (horizon 10 x 0.1 s), lockstep rollouts')
    ax.legend(fontsize=8, loc='lower left')
    ax.grid(alpha=0.3)
    fig.tight_layout()
    figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure, dpi=110)
    if len(jerk) > 2:
        table += ['', 'p99 over episodes of the largest joint-velocity step at a chunk boundary '
                  '(planned actions, before the safety filter) [rad/s]:', '', *jerk]
    return '\n'.join(table)


def main() -> int:
    """Sweep (resumable) or plot."""
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument('--bundle', default=str(ROOT / 'models' / 'default'))
    p.add_argument('--episodes', type=int, default=10, help='episodes per task kind and cell')
    p.add_argument('--out', type=pathlib.Path, default=OUT, help='per-episode rows (JSONL)')
    p.add_argument('--plot', action='store_true', help='only draw the figure and the table')
    p.add_argument('--setting', action='append', choices=list(SETTINGS),
                   help='only these settings (repeatable; default: all)')
    p.add_argument('--tag', default='', help="prefix of these rows' setting names")
    p.add_argument('--figure', type=pathlib.Path, default=FIGURE, help='where the plot goes')
    p.add_argument('--latencies', default=','.join(map(str, LATENCIES_MS)),
                   help='comma-separated added latencies [ms]')
    a = p.parse_args()
    if not a.plot:
        sweep(a.out, a.episodes, a.bundle, tag=a.tag,
              settings={k: SETTINGS[k] for k in a.setting} if a.setting else None,
              latencies=tuple(float(x) for x in a.latencies.split(',')))
    print(plot(a.out, a.figure))
    return 0


if __name__ == '__main__':
    sys.exit(main())
