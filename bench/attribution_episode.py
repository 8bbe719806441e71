"""
What the default policy relies on during an episode: ``~/modality_weights`` over time.

Lockstep rollouts (:mod:`vla_ros.eval.sim_rollout`, the node's PolicyLoop with
``attribution_rate_hz``) of ``models/default`` on a *beep* episode (lift, release at the beep)
and a *gentle* episode (close until the pads feel the cube), dev-block seeds. Each chunk's
weights are recorded with the tactile total and the beep time, written to
``docs/results/attribution/episodes.json`` and drawn to ``docs/img/attribution.png``.

    python bench/attribution_episode.py          # ~10 s
"""

from __future__ import annotations

import json
import pathlib
import sys

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
OUT = ROOT / 'docs' / 'results' / 'attribution' / 'episodes.json'
FIGURE = ROOT / 'docs' / 'img' / 'attribution.png'
DEV_OFFSET = 9_000  # index into the dev block reserved for this figure
KINDS = ('beep', 'gentle')
RATE_HZ = 10.0


def record(bundle: str) -> list[dict]:
    """Play one episode per kind; return the per-chunk rows."""
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime
    from vla_ros.sim.task_suite import block_seed, make_task
    from vla_ros.eval.sim_rollout import lockstep_world, rollout
    rt = PolicyRuntime.from_bundle(bundle)
    world, rates = lockstep_world(rt)
    episodes = []
    for i, kind in enumerate(KINDS):
        seed = block_seed('dev', DEV_OFFSET + i)
        task = make_task(kind, seed)
        rows: list[dict] = []

        def on_chunk(t: float, res, rows=rows) -> None:
            w = res.weights
            if w is not None:
                tac = res.frame.tactile
                rows.append({'t': round(t, 3), 'weights': [round(float(v), 4) for v in w.weights],
                             'tactile_sum': 0.0 if tac is None else round(float(tac.sum()), 3)})
        mon = rollout(world, rt, task, seed, rates=rates, on_chunk=on_chunk,
                      policy_overrides={'attribution_rate_hz': RATE_HZ})
        keys = list(rt.manifest.inputs[-1].preprocessing.get('order', []))
        episodes.append({'kind': kind, 'seed': seed, 'command': task.command,
                         'success': bool(mon.success), 'reason': mon.reason,
                         'beep_time': mon.beep_time, 'modalities': [k for k in keys
                                                                    if k != 'joints'],
                         'chunks': rows})
        print(f'{kind} {seed} {task.command!r}: {mon.reason}, {len(rows)} weight samples',
              flush=True)
    return episodes


def plot(episodes: list[dict], figure: pathlib.Path) -> None:
    """One panel per episode: stacked weights over time, beep and tactile marked."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    import numpy as np
    fig, axes = plt.subplots(len(episodes), 1, figsize=(8, 2.6 * len(episodes)), sharex=False)
    for ax, ep in zip(np.atleast_1d(axes), episodes):
        t = np.array([r['t'] for r in ep['chunks']])
        w = np.array([r['weights'] for r in ep['chunks']]).T
        ax.stackplot(t, w, labels=ep['modalities'], alpha=0.85)
        tac = np.array([r['tactile_sum'] for r in ep['chunks']])
        if tac.max() > 0:
            ax.plot(t, tac / tac.max(), color='k', lw=1.0, ls='--', label='tactile total (norm.)')
        if ep['beep_time'] is not None:
            ax.axvline(ep['beep_time'], color='red', lw=1.5, label='beep')
        ax.set_title(f'{ep["kind"]}: "{ep["command"]}" ({ep["reason"]})', fontsize=9)
        ax.set_ylim(0, 1)
        ax.set_ylabel('weight')
        ax.legend(fontsize=7, loc='upper left', ncol=4)
    np.atleast_1d(axes)[-1].set_xlabel('sim time [s]')
    fig.tight_layout()
    figure.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(figure, dpi=110)


def main() -> int:
    """Record, write the JSON, draw the figure."""
    episodes = record(str(ROOT / 'models' / 'default'))
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps(episodes, indent=1))
    plot(episodes, FIGURE)
    return 0


if __name__ == '__main__':
    sys.exit(main())
