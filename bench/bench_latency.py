"""
``BENCH latency success_600ms=...``: closed-loop success and smoothness when the policy is slower.

Episodes through the real nodes (``mujoco_sim`` + ``vla_policy``, :mod:`vla_ros.eval.episode`:
the shipped ``config/sim.yaml`` plus the bundle's recording overrides), with an
EVALUATION-ONLY delay added to every chunk after inference (``vla_policy``
``eval_added_latency_ms``, i.e. ``vla-ros eval --added-latency-ms``). ``--episodes`` per task
kind (the kinds the bundle was trained on) and condition, on the same seeds of the test block
(a range of it no other tool uses) for every condition, training phrasings.

Conditions:
- NEW, ``--bundle`` (``models/default``) with the SHIPPED scheduler defaults (no override; a
  bundle with an ``action_prefix`` input gets its prefix from the scheduler), at every delay
  of ``--delays`` (0, 600, 1000 ms; 300 on request) and ``--jerk-delay``;
- OLD, ``--old-bundle`` (``models/default_h10`` where it exists, else ``models/default``) with
  the scheduler settings shipped before issue #29 pinned (:data:`OLD_SCHEDULER`), at
  ``--jerk-delay`` (600 ms) only.

Printed: ``success_<d>ms`` with its 95 % Wilson interval per delay of NEW,
``episodes_per_condition``, ``ratio_<d>ms`` = success at +d / success at +0 (same seeds), and
``boundary_jerk_ratio`` = p99 over episodes of the largest joint-velocity step at a chunk
boundary, NEW / OLD, at ``--jerk-delay``. The step (vla_ros/core/control/boundary_steps.py;
``vla_policy`` reports it on ``~/status``, reset by each command): with ``q_k`` the positions
of control tick k [rad], ``v_k = (q_k - q_{k-1}) / T`` and ``s_k = max_j |v_k - v_{k-1}|``
[rad/s]; at a tick k whose action comes from a newer chunk than the one served before it, the
step is ``max(s_k, s_{k+1})``; an episode's value is its largest step (episodes without a
boundary left out). ``boundary_jerk_ratio`` uses the positions the scheduler planned (before
the safety filter); ``boundary_jerk_ratio_commanded`` the commanded ones, whose steps the
filter limits to ``max_acceleration x T`` while the arm moves (0.8 rad/s with config/sim.yaml
at 10 Hz; holds are not rate limited), so it tends to 1 when both setups jump. The p99 of a
per-episode maximum is a tail statistic (with one episode per kind, two runs of the same setup
gave 2.39 and 4.84 rad/s); ``boundary_p50_*`` are the medians beside it. Per-episode results
(both steps each) go to ``out/bench/latency_<time>.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))
import _smoke as S  # noqa: E402, I100
import numpy as np  # noqa: E402, I100

DELAYS_MS = S.pick((0, 600, 1000), (600,))  # smoke: the delayed path only
JERK_DELAY_MS = 600.0
BENCH_OFFSET = 12_000  # index into the test block reserved for this benchmark
SMOKE_TIMEOUT_S = 1.0  # smoke: one seed, episodes of 1 s sim time (nothing is solved)
MODELS = ROOT / 'models'
# the scheduler as shipped before issue #29 (the OLD setup keeps it whatever ships now)
OLD_SCHEDULER = {'scheduler.mode': 'async', 'scheduler.smoothing': 'blend',
                 'scheduler.inference_threshold': 8, 'scheduler.blend_steps': 4,
                 'scheduler.ensemble_coeff': 0.01, 'scheduler.trigger': 'threshold',
                 'scheduler.max_inference_rate_hz': 0.0, 'scheduler.min_execution_steps': 2}
STEP_KEYS = {'planned': 'boundary_step_max_planned', 'commanded': 'boundary_step_max'}


def default_old_bundle() -> pathlib.Path:
    """Return ``models/default_h10`` (the default before the delay-aware one) or the default."""
    old = MODELS / 'default_h10'
    return old if (old / 'bundle.yaml').exists() else MODELS / 'default'


def p99_step(rows: list[dict], key: str, q: float = 99.0) -> float:
    """Return the ``q`` percentile over episodes (with a boundary) of their largest step."""
    v = [r[key] for r in rows if r['chunk_boundaries'] > 0]
    return float(np.percentile(v, q)) if v else float('nan')


def main() -> int:
    """Run the conditions and print the summary line."""
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument('--bundle', default=str(MODELS / 'default'), help='NEW: shipped defaults')
    p.add_argument('--old-bundle', default=str(default_old_bundle()),
                   help='OLD: the scheduler of before issue #29 (OLD_SCHEDULER)')
    p.add_argument('--episodes', type=int, default=10, help='episodes per task kind and delay')
    p.add_argument('--delays', default=','.join(map(str, DELAYS_MS)),
                   help='comma-separated added latencies [ms] of NEW; 0 gives the ratios')
    p.add_argument('--jerk-delay', type=float, default=JERK_DELAY_MS,
                   help='added latency [ms] of the OLD run (the boundary_jerk_ratio)')
    args = p.parse_args()
    from vla_ros.sim.task_suite import episode_seed, make_task
    from vla_ros.eval.kinds import trained_kinds
    from vla_ros.eval.episode import run_episodes
    from vla_ros.eval.stats import wilson_interval
    kinds = trained_kinds(args.bundle)
    pairs = [(k, episode_seed('test', BENCH_OFFSET, i, k))
             for i in range(args.episodes) for k in kinds][:S.pick(None, 1)]
    seeds = [s for _, s in pairs]
    tasks = [make_task(k, s) for k, s in pairs]
    if S.SMOKE:
        tasks = [dataclasses.replace(t, timeout_s=SMOKE_TIMEOUT_S) for t in tasks]
    delays = sorted({float(d) for d in args.delays.split(',')} | {args.jerk_delay})
    conditions = [('new', args.bundle, d, {}) for d in delays]
    conditions.append(('old', args.old_bundle, args.jerk_delay, OLD_SCHEDULER))
    t0, load0 = time.monotonic(), os.getloadavg()[0]
    rates, rows, parts, by = {}, [], [], {}
    for name, bundle, d, sched in conditions:
        over = {**sched, **({'eval_added_latency_ms': d} if d > 0 else {})}
        res = run_episodes(bundle, tasks, seeds, policy_overrides=over)
        ok = sum(r.success for r in res)
        lo, hi = wilson_interval(ok, len(res))
        got = [{**{k: v for k, v in dataclasses.asdict(r).items() if k != 'frames'},
                'condition': name, 'bundle': bundle, 'added_latency_ms': d,
                'scheduler_overrides': sched} for r in res]
        rows += got
        by[name, d] = got
        if name == 'new':
            rates[d] = ok / len(res)
            parts.append(f'success_{d:g}ms={ok / len(res):.2f}[{lo:.2f},{hi:.2f}]')
        print(f'{name.upper()} {bundle} +{d:g} ms (evaluation-only delay): {ok}/{len(res)} '
              f'(95 % CI {100 * lo:.0f}-{100 * hi:.0f} %), boundary step p99 '
              f'{p99_step(got, STEP_KEYS["planned"]):.2f} rad/s planned, '
              f'{p99_step(got, STEP_KEYS["commanded"]):.2f} commanded', flush=True)
    for d in delays:
        if d > 0:
            r = rates[d] / rates[0.0] if rates.get(0.0) else float('nan')
            parts.append(f'ratio_{d:g}ms={r:.2f}')
    new, old = by.get(('new', args.jerk_delay), []), by['old', args.jerk_delay]
    for what, key in STEP_KEYS.items():
        n, o = p99_step(new, key), p99_step(old, key)
        suffix = '' if what == 'planned' else f'_{what}'
        parts.append(f'boundary_jerk_ratio{suffix}={n / o if o > 0 else float("nan"):.2f}')
        parts.append(f'boundary_p99_new{suffix}={n:.2f} boundary_p99_old{suffix}={o:.2f} '
                     f'boundary_p50_new{suffix}={p99_step(new, key, 50):.2f} '
                     f'boundary_p50_old{suffix}={p99_step(old, key, 50):.2f}')
    line = (f'BENCH latency {" ".join(parts)} episodes_per_condition={len(tasks)} '
            f'conditions={len(conditions)} bundle={args.bundle} old_bundle={args.old_bundle} '
            f'block=test seeds={seeds[0]}..{seeds[-1]} wall_s={time.monotonic() - t0:.0f} '
            f'load={load0:.1f}/{os.getloadavg()[0]:.1f}{S.tag()}')
    out = S.out_dir(ROOT / 'out' / 'bench') / f'latency_{time.strftime("%Y%m%dT%H%M%S")}.json'
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({'summary': line, 'bundle': args.bundle,
                               'old_bundle': args.old_bundle, 'old_scheduler': OLD_SCHEDULER,
                               'episodes': rows}, indent=1, default=str))
    print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
