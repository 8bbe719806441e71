"""
``BENCH eval success=... success_lo=... lang_ratio=...``: the default bundle, closed loop.

The loop runs through ``mujoco_sim`` + ``vla_policy`` (the shipped ``config/sim.yaml`` plus
the printed overrides of the bundle's recording), ``--episodes`` per task kind on fresh seeds of
the *test* block (never tuned on; a range of it no other tool uses). Each seed is played twice:
with a training phrasing, and with a command whose words no training phrasing contains
(:mod:`vla_ros.sim.language`), and a third time with a ``multi_word`` command (several held-out
words at once: verb, noun and colour synonyms in a polite frame, sometimes reordered).

``vla_policy`` identifies the task of each command (``command_tasks`` = config/command_tasks.yaml,
WordNet from ``wordnet-base``) and refuses what it cannot place; ``--instruction canonical``
(default) hands the policy the canonical training phrasing of the identified task, ``raw`` the
text as sent, ``off`` runs without the identifier (the bundle's nearest-command check only).

- success: share of training-phrasing episodes solved; success_lo: its 95 % Wilson lower
  bound;
- lang_ratio: success with held-out words / success with training phrasings (same seeds);
- multi_word_success, multi_word_ratio: the same for the multi-word commands;
- wrong_task_rate: held-out episodes (held-out words + multi-word) that were not refused and
  failed although the same seed with the training phrasing succeeded, and whose words can
  have made it fail: the policy ran another task's phrasing, or text that is no training
  phrasing of the asked task (``raw`` / ``off``), / held-out episodes. A failure after the
  policy ran a training phrasing of the asked task (``canonical``: the identifier placed the
  command right) is the world, not the words: it counts in flip_rate (the closed loop's own
  run-to-run variation, which a re-run of the training phrasing shows as well);
- refused_rate: held-out episodes refused / held-out;
  never_ran: held-out episodes neither refused nor ever running (the policy held throughout);
  misidentified: held-out episodes the policy ran as another task's canonical phrasing
  (canonical instruction: the identifier's own wrong tasks, free of closed-loop noise);
- hearing_drop_pts: success on the hearing tasks (:data:`~vla_ros.sim.hearing_tasks.
  HEARING_KINDS`: beep, keyword) minus success on the same seeds and commands with audio masked
  (``mask_modalities: [audio]``), in points (target >= 30); hearing_masked: the masked
  successes; hearing_per_kind: the drop per kind;
- ratio = success / 0.9 (the target, with success_lo >= 0.8, lang_ratio and multi_word_ratio
  >= 0.9 and wrong_task_rate <= 0.02).

Per-episode results go to ``out/bench/eval_<time>.json``.
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

TARGET = 0.9
BENCH_OFFSET = 10_000  # index into the test block reserved for this benchmark
SMOKE_TIMEOUT_S = 1.0  # smoke: one seed, episodes of 1 s sim time (nothing is solved)
INSTRUCTIONS = ('canonical', 'raw', 'off')
REFUSED = 'refused: '  # an episode's reason when the policy refused its command (eval/episode)


def canonical(kind: str, colour: str) -> str:
    """Return the canonical instruction of a task (the first training phrasing)."""
    from vla_ros.sim.task_suite import task_table
    return task_table().canonical(kind, colour)


def trained_phrasings(kind: str, colour: str) -> set[str]:
    """Return the training phrasings of a task (the commands the policy was trained on)."""
    from vla_ros.sim.task_suite import TaskKind, TRAIN_PHRASES
    return {t.format(c=colour) for t in TRAIN_PHRASES[TaskKind(kind)]}


def language_metrics(train: list, words: list, multi: list) -> str:
    """
    Return the held-out language fields of the summary line.

    ``train``, ``words``, ``multi``: the episode results of the same seeds, in the same order,
    with training phrasings, held-out words and multi-word commands.
    """
    ok = sum(r.success for r in train)
    held = list(zip(train * 2, words + multi))
    refused = sum(h.reason.startswith(REFUSED) for _, h in held)
    failed = [(t, h) for t, h in held
              if t.success and not h.success and not h.reason.startswith(REFUSED)]
    # the policy ran a training phrasing of the asked task: the words cannot have made it fail
    flips = sum(h.policy_command in trained_phrasings(h.kind, h.colour) for _, h in failed)
    wrong = len(failed) - flips
    # not refused, yet ~/status never said running (the policy held throughout: load, sync)
    never_ran = sum(not h.policy_command and not h.reason.startswith(REFUSED) for _, h in held)
    # canonical instruction: the policy ran another task's (or colour's) training phrasing
    misidentified = sum(bool(h.policy_command) and h.policy_command != h.command
                        and h.policy_command != canonical(h.kind, h.colour) for _, h in held)
    n = len(train)
    ok_words, ok_multi = sum(r.success for r in words), sum(r.success for r in multi)
    return (f'held_out_words_success={ok_words / n:.2f} lang_ratio={ok_words / max(ok, 1):.2f} '
            f'multi_word_success={ok_multi / n:.2f} multi_word_ratio={ok_multi / max(ok, 1):.2f} '
            f'wrong_task_rate={wrong / len(held):.3f} wrong_task={wrong} '
            f'flip_rate={flips / len(held):.3f} '
            f'refused_rate={refused / len(held):.3f} never_ran={never_ran} '
            f'misidentified={misidentified}')


def drop_fields(name: str, full: list, masked: list) -> str:
    """
    Return the line fields of one modality's drop: ``<name>_drop_pts`` etc.

    ``full``: the training-phrasing results of the modality's kinds; ``masked``: the same tasks
    and seeds with the modality masked, in the same order. Points = 100 x success rate.
    """
    def pts(rs: list, kind: str | None = None) -> float:
        rs = [r for r in rs if kind is None or r.kind == kind]
        return 100.0 * sum(r.success for r in rs) / max(1, len(rs))

    if not full:
        return f'{name}_drop_pts=nan {name}_masked=0/0 {name}_per_kind=-'
    per = ','.join(f'{k}:{pts(full, k) - pts(masked, k):+.0f}'
                   for k in dict.fromkeys(r.kind for r in full))
    return (f'{name}_drop_pts={pts(full) - pts(masked):.0f} '
            f'{name}_masked={sum(r.success for r in masked)}/{len(masked)} '
            f'{name}_per_kind={per}')


def main() -> int:
    """Run the episodes and print the summary line."""
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument('--bundle', default=str(ROOT / 'models' / 'default'))
    p.add_argument('--episodes', type=int, default=10,
                   help='episodes per task kind (10: 60 seeds, each played twice, ~10 min; '
                        'with 30 episodes the Wilson lower bound of a policy that solves 95 in '
                        '100 falls below 0.8 about half of the time)')
    p.add_argument('--no-language', action='store_true',
                   help='skip the held-out episodes (lang_ratio, multi_word_* not measured)')
    p.add_argument('--instruction', choices=INSTRUCTIONS, default='canonical',
                   help='canonical / raw: vla_policy command_instruction with command_tasks; '
                        'off: no task identification')
    args = p.parse_args()
    from vla_ros.sim.hearing_tasks import HEARING_KINDS
    from vla_ros.sim.language import held_out_word_task, multi_word_task
    from vla_ros.sim.task_suite import episode_seed, make_task
    from vla_ros.eval.kinds import trained_kinds
    from vla_ros.eval.episode import run_episodes
    from vla_ros.eval.stats import wilson_interval
    if not (pathlib.Path(args.bundle) / 'bundle.yaml').exists():
        print(f'no bundle at {args.bundle}; run `make train`', file=sys.stderr)
        return 1
    kinds = trained_kinds(args.bundle)
    pairs = [(k, episode_seed('test', BENCH_OFFSET, i, k))
             for i in range(args.episodes) for k in kinds][:S.pick(None, 1)]
    seeds = [s for _, s in pairs]
    train = [make_task(k, s) for k, s in pairs]
    tasks = list(train)
    if not args.no_language:
        tasks += [held_out_word_task(t.kind, s) for t, s in zip(train, seeds)]
        tasks += [multi_word_task(t.kind, s) for t, s in zip(train, seeds)]
    if S.SMOKE:
        tasks = [dataclasses.replace(t, timeout_s=SMOKE_TIMEOUT_S) for t in tasks]
    overrides = ({} if args.instruction == 'off' else
                 {'command_tasks': str(ROOT / 'config' / 'command_tasks.yaml'),
                  'command_instruction': args.instruction})
    t0 = time.monotonic()
    res = run_episodes(args.bundle, tasks, seeds * (len(tasks) // len(seeds)),
                       policy_overrides=overrides)
    n = len(train)
    # the hearing tasks again, same seeds and commands, audio masked (this policy's drop)
    hear = [i for i, t in enumerate(train) if t.kind.value in HEARING_KINDS]
    masked = run_episodes(args.bundle, [tasks[i] for i in hear], [seeds[i] for i in hear],
                          mask=['audio'], policy_overrides=overrides) if hear else []
    ok = sum(r.success for r in res[:n])
    lo, _ = wilson_interval(ok, n)
    succ = ok / n
    line = (f'BENCH eval success={succ:.2f} success_lo={lo:.2f} episodes={n} '
            f'successes={ok}')
    if not args.no_language:
        line += ' ' + language_metrics(res[:n], res[n:2 * n], res[2 * n:])
    line += ' ' + drop_fields('hearing', [res[i] for i in hear], masked)
    per_kind = {k: f'{sum(r.success for r in res[:n] if r.kind == k)}/'
                   f'{sum(r.kind == k for r in res[:n])}' for k in kinds}
    line += (f' per_kind={",".join(f"{k}:{v}" for k, v in per_kind.items())} '
             f'block=test seeds={seeds[0]}..{seeds[-1]} '
             f'instruction={args.instruction} wall_s={time.monotonic() - t0:.0f} '
             f'ratio={succ / TARGET:.2f}{S.tag()}')
    out = S.out_dir(ROOT / 'out' / 'bench') / f'eval_{time.strftime("%Y%m%dT%H%M%S")}.json'
    out.parent.mkdir(parents=True, exist_ok=True)
    rows = [{k: v for k, v in dataclasses.asdict(r).items() if k != 'frames'}
            for r in res + masked]
    out.write_text(json.dumps({'summary': line, 'bundle': args.bundle, 'episodes': rows},
                              indent=1, default=str))
    print(line)
    return 0


if __name__ == '__main__':
    sys.exit(main())
