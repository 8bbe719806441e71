"""
``vla-ros eval``: closed-loop success per task on held-out seeds, through the real nodes.

Each run starts ``mujoco_sim`` and ``vla_policy`` as processes, plays N episodes per task kind
(seeds from the ``--block``: ``dev`` by default, ``test`` only for reported numbers; half of
the commands held out: paraphrases, or with ``--language held_out_words`` words no training
phrasing contains), and writes a JSON of every episode with the bundle sha256, the git commit
and the parameter overrides; ``--report`` regenerates the markdown table and bar chart from
such JSONs (e.g. full + each ``--mask``) without running anything. Everything goes under
``out/eval/`` unless a path is given (the published report is written with
``--md docs/eval.md --png docs/img/eval.png``).

A wrong bundle or task kind fails at once; a node that exits or fails to configure stops the
run within seconds, quoting the node's error. Ctrl-C / SIGTERM stop the nodes too.
"""

from __future__ import annotations

import argparse
from pathlib import Path
import time

from vla_ros.cli.common import nearest, parse_choices
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.runtime.masking import check_mask
from vla_ros.errors import ConfigError, UsageError, VlaRosError
from vla_ros.eval.episode import run_episodes
from vla_ros.eval.kinds import trained_kinds
from vla_ros.eval.report import (bar_chart, bundle_provenance, condition_name, git_commit,
                                 load_results, markdown, save_results, write_report)
from vla_ros.params.policy import POLICY_PARAMETERS
from vla_ros.sim.eval_sets import eval_tasks, LANGUAGE_SETS
from vla_ros.sim.task_suite import TaskKind
import yaml

OUT_DIR = Path('out/eval')
TRAINED = 'trained'   # --kinds: the kinds of the bundle's demonstrations


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('bundle', nargs='?', type=Path, help='policy bundle to evaluate')
    parser.add_argument('--episodes', type=int, default=5, help='episodes per task kind')
    parser.add_argument('--kinds', default='trained',
                        help='comma-separated task kinds (pick, push_left, push_right, touch, '
                             'gentle, beep, keyword), all, or trained (default: the kinds the '
                             "bundle's demonstrations had, provenance.task_kinds)")
    parser.add_argument('--mask', action='append', default=[],
                        help='modality the policy sees as absent (image, image/<cam>, audio, '
                             'tactile, language); repeatable (default: none)')
    parser.add_argument('--block', choices=('dev', 'test'), default='dev',
                        help='seed block: dev (tune and compare on it) or test (only for the '
                             'numbers a report publishes; never tune on it)')
    parser.add_argument('--seed-offset', type=int, default=0,
                        help='start this many seeds into the block')
    parser.add_argument('--language', choices=LANGUAGE_SETS, default='paraphrases',
                        help='what the held-out commands are: hand-written paraphrases, '
                             'commands with words no training phrasing contains, or several '
                             'such words at once (multi_word)')
    parser.add_argument('--paraphrase-every', type=int, default=2,
                        help='every k-th episode uses a held-out command (0 = never)')
    parser.add_argument('--rtf', type=float, default=1.0, help='sim real-time factor')
    parser.add_argument('--json', type=Path, default=None,
                        help=f'episode results JSON (default: {OUT_DIR}/<condition>.json)')
    parser.add_argument('--name', default='',
                        help='condition name in the report (default: full, or mask <keys>)')
    parser.add_argument('--video', type=Path, default=None,
                        help='directory for one GIF per episode (default: no GIFs)')
    parser.add_argument('--added-latency-ms', type=float, default=0.0,
                        help='EVALUATION ONLY: delay every chunk by this much after inference, '
                             'as if the policy were slower (vla_policy eval_added_latency_ms; '
                             'labelled in the report)')
    parser.add_argument('--policy-param', action='append', default=[], metavar='NAME=VALUE',
                        help='vla_policy parameter over config/sim.yaml, e.g. '
                             'scheduler.trigger=threshold (repeatable)')
    parser.add_argument('--report', nargs='*', type=Path, default=None,
                        help='result JSONs to combine into --md/--png (no episodes run when '
                             'given without a bundle)')
    parser.add_argument('--md', type=Path, default=OUT_DIR / 'eval.md',
                        help='markdown report to write')
    parser.add_argument('--png', type=Path, default=OUT_DIR / 'eval.png',
                        help='bar chart to write')


def _check_args(args: argparse.Namespace) -> list[str]:
    """Validate before any node starts; returns the task kinds."""
    kinds = parse_choices('all' if args.kinds == TRAINED else args.kinds,
                          [k.value for k in TaskKind], 'task kind')
    args.policy_overrides = policy_overrides(args.policy_param)
    if args.kinds == TRAINED and args.bundle is not None:
        try:
            kinds = trained_kinds(args.bundle)
        except VlaRosError:
            pass   # run() loads the bundle and says what is wrong with it
    try:
        check_mask(args.mask)
    except ConfigError as e:
        raise UsageError(f'--mask: {e}') from e
    if args.episodes < 1:
        raise UsageError(f'--episodes must be >= 1, got {args.episodes}')
    if args.seed_offset < 0:
        raise UsageError(f'--seed-offset must be >= 0, got {args.seed_offset}')
    if args.rtf <= 0:
        raise UsageError(f'--rtf must be > 0, got {args.rtf:g}')
    for p in args.report or []:
        if not p.is_file():
            raise UsageError(f'--report: no such file {str(p)!r}')
    return kinds


def policy_overrides(items: list[str]) -> dict[str, object]:
    """Parse ``NAME=VALUE`` items into checked ``vla_policy`` parameters (UsageError)."""
    out: dict[str, object] = {}
    for item in items:
        name, sep, value = item.partition('=')
        name = name.strip()
        if not sep or name not in POLICY_PARAMETERS:
            raise UsageError(f'--policy-param: expected NAME=VALUE with a vla_policy parameter '
                             f'NAME, got {item!r}{nearest(name, list(POLICY_PARAMETERS))}')
        try:
            out[name] = POLICY_PARAMETERS[name].check(yaml.safe_load(value))
        except ConfigError as e:
            raise UsageError(f'--policy-param: {e}') from e
    return out


def run(args: argparse.Namespace) -> int:
    kinds = _check_args(args)
    jsons = list(args.report or [])
    if args.bundle is not None:
        load_bundle(args.bundle)  # a wrong path fails here, in milliseconds
        try:
            pairs = eval_tasks(args.episodes, kinds, block=args.block,
                               seed_offset=args.seed_offset,
                               paraphrase_every=args.paraphrase_every, language=args.language)
        except ConfigError as e:
            raise UsageError(str(e)) from e
        if args.block == 'test':
            print('seed block: TEST (for reported numbers only; do not tune on these results)',
                  flush=True)
        tasks, seeds = [t for t, _ in pairs], [s for _, s in pairs]
        name = args.name or condition_name({'mask': list(args.mask),
                                            'added_latency_ms': args.added_latency_ms})
        out = args.json or OUT_DIR / f'{name.replace(" ", "_").replace("/", "-")}.json'
        print(f'eval {args.bundle} [{name}]: {len(tasks)} episodes '
              f'({args.episodes} x {len(kinds)} kinds), rtf {args.rtf}', flush=True)
        t0 = time.monotonic()

        def progress(r) -> None:
            held = f'(held out{" " + r.variant if r.variant else ""}) ' if r.held_out else ''
            print(f'  {"OK  " if r.success else "FAIL"} {r.task:18s} seed {r.seed} '
                  f'{held}{r.command!r}: {r.reason} '
                  f'[{r.duration_s:.1f} s sim, run {r.latency_ms:.1f} ms]', flush=True)
        params: dict = {}

        def on_start(runner) -> None:
            params.update(params_file=str(runner.sim_params.params_file),
                          overrides=runner.overrides)
            print('parameters: ' + runner.describe().replace('\n', '\nparameters: '),
                  flush=True)
        added = ({'eval_added_latency_ms': args.added_latency_ms}
                 if args.added_latency_ms > 0 else {})
        added.update(args.policy_overrides)
        results = run_episodes(args.bundle, tasks, seeds, mask=args.mask,
                               record_video=args.video, rtf=args.rtf, progress=progress,
                               on_start=on_start, policy_overrides=added)
        save_results(out, results, {'name': name, 'bundle': str(args.bundle),
                                    'mask': list(args.mask), 'episodes': args.episodes,
                                    'kinds': kinds, 'rtf': args.rtf, 'block': args.block,
                                    'seed_offset': args.seed_offset,
                                    'language': args.language,
                                    'paraphrase_every': args.paraphrase_every,
                                    'added_latency_ms': args.added_latency_ms,
                                    'policy_overrides': args.policy_overrides,
                                    'git_commit': git_commit(),
                                    **bundle_provenance(args.bundle), **params})
        ok = sum(r.success for r in results)
        print(f'success {ok}/{len(results)} = {100.0 * ok / max(1, len(results)):.0f} % in '
              f'{time.monotonic() - t0:.0f} s -> {out}')
        jsons.insert(0, out)
    if not jsons:
        raise UsageError('nothing to do: give a bundle and/or --report JSONs')
    runs = [load_results(p) for p in jsons]
    md = markdown(runs)
    write_report(args.md, md)  # hand-written text around the report markers is kept
    bar_chart(runs, args.png)
    print(md)
    print(f'wrote {args.md} and {args.png}')
    return 0
