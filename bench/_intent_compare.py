"""
``BENCH intent ...``: which task a command asks for, offline (no sim), per method and command set.

Compares the ways :class:`~vla_ros.core.language.intent.IntentIdentifier` can decide: the
bundle's MiniLM encoder alone (colour from its grounded colour part), WordNet alone (word
overlap after mapping unseen words), and both combined. Command sets: the training phrasings
(each must map to its own task), the held-out words (one rule at a time), ``multi_word``
(all rules at once, ``--n`` seeds of the dev block), the paraphrases, and commands that must
be refused (nonsense, unknown colour, two tasks at once). Per set and method: correct (task
and colour), refused, wrong (a different task or colour: the failure that must not happen).
"""

from __future__ import annotations

import argparse
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))
import _smoke as S  # noqa: E402, I100

MUST_REFUSE = ('make me a sandwich', 'pick up the purple cube', 'push the red cube',
               'lift the red cube and push the blue cube left', 'dance with the green cube',
               'push the green cube left and right', 'what time is it', 'the red cube',
               'paint the red cube blue', 'pick up the yellow block')


def command_sets(n: int) -> dict[str, list[tuple[str, str, str]]]:
    """Return set name -> (command, task, colour) triples; task '' = must be refused."""
    from vla_ros.sim.language import held_out_word_commands, multi_word_task
    from vla_ros.sim.task_suite import (block_seed, COLOURS, HELD_OUT_PHRASES, TaskKind,
                                        TRAIN_PHRASES)
    kinds = list(TaskKind)
    return {
        'training': [(t.format(c=c), k.value, c) for k in kinds for t in TRAIN_PHRASES[k]
                     for c in COLOURS],
        'held_out_words': [(t, k.value, c) for k in kinds for c in COLOURS
                           for t, _ in held_out_word_commands(k, c)],
        'multi_word': [(t.command, t.kind.value, t.colour) for t in
                       (multi_word_task(kinds[i % len(kinds)], block_seed('dev', i))
                        for i in range(n))],
        'paraphrases': [(t.format(c=c), k.value, c) for k in kinds for t in HELD_OUT_PHRASES[k]
                        for c in COLOURS],
        'must_refuse': [(t, '', '') for t in MUST_REFUSE]}


def main() -> int:
    """Print one line per method with the counts per command set."""
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument('--bundle', default=str(ROOT / 'models' / 'default'))
    p.add_argument('--n', type=int, default=300, help='multi-word commands (dev-block seeds)')
    p.add_argument('--weights', type=float, nargs='*', default=[],
                   help='also: combined with these lexical weights (x --min-scores)')
    p.add_argument('--min-scores', type=float, nargs='*', default=[0.5])
    p.add_argument('--verbose', action='store_true', help='print every wrong / refused command')
    args = p.parse_args()
    from vla_ros.core.bundle.manifest import load_bundle
    from vla_ros.core.language import IntentIdentifier, WordNet
    from vla_ros.core.language.command_tasks import hue_colour
    from vla_ros.core.runtime.policy_runtime import open_language
    from vla_ros.sim.task_suite import task_table
    bundle = load_bundle(args.bundle)
    enc, comp = open_language(bundle, ['CPUExecutionProvider'], resident=True)
    spec = comp.spec
    table = task_table()
    hue = hue_colour(enc.embed, spec.colour_offset, table.colours,
                     max_angle_deg=spec.max_colour_angle_deg)
    wn = WordNet()
    methods = {f'combined_w{w}_min{m}': IntentIdentifier(
        table, enc.embed, semantic_dims=spec.semantic_dims, lexicon=wn, colour_head=hue,
        lexical_weight=w, min_score=m) for w in args.weights for m in args.min_scores}
    methods |= {
        'minilm': IntentIdentifier(table, enc.embed, semantic_dims=spec.semantic_dims,
                                   lexical_weight=0.0, colour_head=hue),
        'wordnet': IntentIdentifier(table, None, lexicon=wn, lexical_weight=1.0),
        'combined': IntentIdentifier(table, enc.embed, semantic_dims=spec.semantic_dims,
                                     lexicon=wn, colour_head=hue)}
    sets = command_sets(S.pick(args.n, 12))
    for name, ident in methods.items():
        t0 = time.monotonic()
        parts = []
        for sname, items in sets.items():
            ok = ref = wrong = 0
            for text, task, colour in items:
                it = ident.identify(text)
                if not it.understood:
                    ref += 1
                    ok += task == ''
                elif (it.task, it.colour) == (task, colour):
                    ok += 1
                else:
                    wrong += 1
                if args.verbose and (not it.understood or (it.task, it.colour) != (task, colour)):
                    print(f'  {name} {sname}: {text!r} -> {it.task or "-"} {it.colour} '
                          f'({it.score:.2f} vs {it.runner_up} {it.second:.2f}) {it.reason}')
            parts.append(f'{sname}={ok}/{len(items)},refused={ref},wrong={wrong}')
        ms = 1e3 * (time.monotonic() - t0) / sum(len(v) for v in sets.values())
        print(f'BENCH intent method={name} {" ".join(parts)} ms_per_command={ms:.1f}{S.tag()}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
