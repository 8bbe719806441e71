"""
``BENCH latency ratio_300ms=...``: closed-loop success when the policy is slower.

The default bundle through ``mujoco_sim`` + ``vla_policy`` (shipped ``config/sim.yaml`` plus
the bundle's recording overrides), with an EVALUATION-ONLY delay added to every chunk after
inference (``vla_policy`` ``eval_added_latency_ms``, i.e. ``vla-ros eval --added-latency-ms``):
0, 100, 300 and 600 ms. ``--episodes`` per task kind and condition on the same fresh seeds of
the test block (a range of it no other tool uses), training phrasings.

Prints each success rate with its 95 % Wilson interval; ``ratio_300ms`` = success at +300 ms /
success at 0 ms (the baseline of the same run; target >= 0.9). Per-episode results go to
``out/bench/latency_<time>.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))
import _smoke as S  # noqa: E402, I100

DELAYS_MS = S.pick((0, 100, 300, 600), (300,))  # smoke: the delayed path only
BENCH_OFFSET = 12_000  # index into the test block reserved for this benchmark
SMOKE_TIMEOUT_S = 1.0  # smoke: one seed, episodes of 1 s sim time (nothing is solved)


def main() -> int:
    """Run the conditions and print the summary line."""
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument('--bundle', default=str(ROOT / 'models' / 'default'))
    p.add_argument('--episodes', type=int, default=5, help='episodes per task kind and delay')
    p.add_argument('--delays', default=','.join(map(str, DELAYS_MS)),
                   help='comma-separated added latencies [ms]; 0 and 300 give the ratio')
    args = p.parse_args()
    from vla_ros.sim.task_suite import block_seed, make_task, TaskKind
    from vla_ros.eval.episode import run_episodes
    from vla_ros.eval.stats import wilson_interval
    kinds = [k.value for k in TaskKind]
    seeds = [block_seed('test', BENCH_OFFSET + i * len(kinds) + j)
             for i in range(args.episodes) for j in range(len(kinds))][:S.pick(None, 1)]
    tasks = [make_task(kinds[n % len(kinds)], s) for n, s in enumerate(seeds)]
    if S.SMOKE:
        tasks = [dataclasses.replace(t, timeout_s=SMOKE_TIMEOUT_S) for t in tasks]
    delays = [float(d) for d in args.delays.split(',')]
    t0 = time.monotonic()
    rates, rows, parts = {}, [], []
    for d in delays:
        over = {'eval_added_latency_ms': d} if d > 0 else {}
        res = run_episodes(args.bundle, tasks, seeds, policy_overrides=over)
        ok = sum(r.success for r in res)
        lo, hi = wilson_interval(ok, len(res))
        rates[d] = ok / len(res)
        parts.append(f'success_{d:g}ms={ok / len(res):.2f}[{lo:.2f},{hi:.2f}]')
        rows += [{**{k: v for k, v in dataclasses.asdict(r).items() if k != 'frames'},
                  'added_latency_ms': d} for r in res]
        print(f'+{d:g} ms (evaluation-only delay): {ok}/{len(res)} '
              f'(95 % CI {100 * lo:.0f}-{100 * hi:.0f} %)', flush=True)
    ratio = (rates.get(300.0, float('nan')) / rates[0.0]) if rates.get(0.0) else float('nan')
    line = (f'BENCH latency {" ".join(parts)} ratio_300ms={ratio:.2f} episodes={len(tasks)} '
            f'block=test seeds={seeds[0]}..{seeds[-1]} wall_s={time.monotonic() - t0:.0f}'
            f'{S.tag()}')
    out = S.out_dir(ROOT / 'out' / 'bench') / f'latency_{time.strftime("%Y%m%dT%H%M%S")}.json'
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({'summary': line, 'bundle': args.bundle, 'episodes': rows},
                              indent=1, default=str))
    print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
