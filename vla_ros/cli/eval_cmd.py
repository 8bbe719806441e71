"""``vla-ros eval``: closed-loop success per task on held-out seeds, through the real nodes.

Each run starts ``mujoco_sim`` and ``vla_policy`` as processes, plays N episodes per task kind
(seeds from the held-out range, half of the commands held-out paraphrases), and writes a JSON
of the episodes; ``--report`` combines JSONs (e.g. full + each ``--mask``) into a markdown
table and a bar chart.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from vla_ros.errors import VlaRosError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('bundle', nargs='?', type=Path, help='policy bundle to evaluate')
    parser.add_argument('--episodes', type=int, default=5, help='episodes per task kind')
    parser.add_argument('--kinds', default='all',
                        help='comma-separated task kinds (pick, push_left, push_right, touch, '
                             'gentle, beep) or all')
    parser.add_argument('--mask', action='append', default=[],
                        help='modality the policy sees as absent (image, image/<cam>, audio, '
                             'tactile, language); repeatable')
    parser.add_argument('--seed-offset', type=int, default=0,
                        help='first held-out seed = 100000 + offset')
    parser.add_argument('--paraphrase-every', type=int, default=2,
                        help='every k-th episode uses a held-out paraphrase (0 = never)')
    parser.add_argument('--rtf', type=float, default=1.0, help='sim real-time factor')
    parser.add_argument('--json', type=Path, default=None,
                        help='episode results JSON (default out/eval/<condition>.json)')
    parser.add_argument('--name', default='', help='condition name in the report')
    parser.add_argument('--video', type=Path, default=None, help='write a GIF per episode here')
    parser.add_argument('--report', nargs='*', type=Path, default=None,
                        help='result JSONs to combine into --md/--png (no episodes run when '
                             'given without a bundle)')
    parser.add_argument('--md', type=Path, default=Path('docs/eval.md'))
    parser.add_argument('--png', type=Path, default=Path('docs/img/eval.png'))


def run(args: argparse.Namespace) -> int:
    from vla_ros.sim.task_suite import TaskKind, eval_tasks
    from vla_ros.tools.eval_report import bar_chart, load_results, markdown, save_results
    jsons = list(args.report or [])
    if args.bundle is not None:
        from vla_ros.tools.episode import run_episodes
        kinds = [k.value for k in TaskKind] if args.kinds == 'all' else args.kinds.split(',')
        pairs = eval_tasks(args.episodes, kinds, seed_offset=args.seed_offset,
                           paraphrase_every=args.paraphrase_every)
        tasks, seeds = [t for t, _ in pairs], [s for _, s in pairs]
        name = args.name or ('mask ' + '+'.join(args.mask) if args.mask else 'full')
        out = args.json or Path('out/eval') / f'{name.replace(" ", "_").replace("/", "-")}.json'
        print(f'eval {args.bundle} [{name}]: {len(tasks)} episodes '
              f'({args.episodes} x {len(kinds)} kinds), rtf {args.rtf}')
        t0 = time.monotonic()

        def progress(r) -> None:
            print(f'  {"OK  " if r.success else "FAIL"} {r.task:18s} seed {r.seed} '
                  f'{"(paraphrase) " if r.held_out else ""}{r.command!r}: {r.reason} '
                  f'[{r.duration_s:.1f} s sim, run {r.latency_ms:.1f} ms]', flush=True)
        try:
            results = run_episodes(args.bundle, tasks, seeds, mask=args.mask,
                                   record_video=args.video, rtf=args.rtf, progress=progress)
        except VlaRosError as e:
            print(f'eval failed: {type(e).__name__}: {e}', file=sys.stderr)
            return 1
        save_results(out, results, {'name': name, 'bundle': str(args.bundle),
                                    'mask': list(args.mask), 'episodes': args.episodes,
                                    'kinds': kinds, 'rtf': args.rtf})
        ok = sum(r.success for r in results)
        print(f'success {ok}/{len(results)} = {100.0 * ok / max(1, len(results)):.0f} % in '
              f'{time.monotonic() - t0:.0f} s -> {out}')
        jsons.insert(0, out)
    if not jsons:
        print('nothing to do: give a bundle and/or --report JSONs', file=sys.stderr)
        return 2
    runs = [load_results(p) for p in jsons]
    md = markdown(runs)
    args.md.parent.mkdir(parents=True, exist_ok=True)
    args.md.write_text('# Closed-loop evaluation\n\n' + md)
    bar_chart(runs, args.png)
    print(md)
    print(f'wrote {args.md} and {args.png}')
    return 0
