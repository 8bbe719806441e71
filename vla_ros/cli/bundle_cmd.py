"""
``vla-ros bundle init|check|tokens``: wrap a foreign ONNX policy into a bundle, check it.

``init MODEL.onnx --out DIR`` drafts DIR/bundle.yaml from the graph's inputs and outputs
(the export style -- openpi, SmolVLA, LeRobot, plain -- is recognised from the input names)
and marks with FILL_IN what a person must fill in: joint names, stats, dt, the prompt.
``check DIR`` feeds synthetic frames through the real runtime and prints per-input shapes,
dtypes and value ranges and the chunk timings (p50 / p95); it fails with a one-line error
where the contract and the graph disagree. ``tokens DIR "a command"`` prints the prompt the
command becomes and the token ids the runtime feeds. Torch-free.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import onnxruntime as ort
from vla_ros.cli.inspect_cmd import table
from vla_ros.core.bundle.draft import write_draft
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.runtime.bundle_check import check_bundle_dir
from vla_ros.core.runtime.token_view import command_tokens
from vla_ros.errors import UsageError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest='action', required=True, metavar='ACTION',
                                help='init: draft bundle.yaml; check: run it on synthetic frames')
    p = sub.add_parser('init', help='draft bundle.yaml for an ONNX policy',
                       description='Draft DIR/bundle.yaml for an ONNX policy graph.')
    p.add_argument('model', type=Path, help='the ONNX policy graph (copied into DIR)')
    p.add_argument('--out', type=Path, required=True, help='bundle directory to write')
    p.add_argument('--tokenizer', type=Path, default=None,
                   help='tokenizer.json of a text_tokens input (copied and hashed)')
    p.add_argument('--force', action='store_true', help='overwrite an existing bundle.yaml')
    p.set_defaults(_action=_init)
    c = sub.add_parser('check', help='run a bundle on synthetic frames, print its contract',
                       description='Run a bundle on synthetic frames through PolicyRuntime.')
    c.add_argument('bundle', type=Path, help='bundle directory (or its bundle.yaml)')
    c.add_argument('--runs', type=int, default=20, help='timed chunks')
    c.add_argument('--no-verify', action='store_true', help='skip sha256 verification')
    c.set_defaults(_action=_check)
    t = sub.add_parser('tokens', help='print the prompt and token ids a command becomes',
                       description='Print the prompt a command becomes and the token ids '
                                   '(with their text) that the runtime feeds each language '
                                   'input of a bundle.')
    t.add_argument('bundle', type=Path, help='bundle directory (or its bundle.yaml)')
    t.add_argument('command', help='the language command, e.g. "pick up the red cube"')
    t.add_argument('--state', default=None, metavar='X,Y,...',
                   help='joint positions for a {state} prompt field, comma-separated in the '
                        "joints input's joint_names order (default: the state mean)")
    t.add_argument('--all', action='store_true', help='list the padding positions too')
    t.add_argument('--no-verify', action='store_true', help='skip sha256 verification')
    t.set_defaults(_action=_tokens)


def run(args: argparse.Namespace) -> int:
    return args._action(args)


def _init(args: argparse.Namespace) -> int:

    draft = write_draft(args.model, args.out, tokenizer=args.tokenizer, force=args.force)
    print(f'wrote {args.out / "bundle.yaml"} ({len(draft.manifest["inputs"])} inputs); '
          f'{len(draft.todo)} FILL_IN left:')
    for p in draft.todo:
        print(f'  {p}')
    for n in draft.notes:
        print(f'note: {n}')
    print(f'then: vla-ros bundle check {args.out}')
    return 0


def _check(args: argparse.Namespace) -> int:

    if args.runs < 1:
        raise UsageError(f'--runs must be >= 1, got {args.runs}')
    ort.set_default_logger_severity(4)  # a failing run is reported in one line, not logged too
    r = check_bundle_dir(args.bundle, runs=args.runs, verify_hashes=not args.no_verify)
    print(f'bundle {args.bundle}: {r.model_id} (format {r.format_version}) OK')
    print(table('Inputs (built from a synthetic frame)',
                ('name', 'kind', 'shape', 'dtype', 'min', 'max'),
                [(i.name, i.kind, str(list(i.shape)), i.dtype, f'{i.low:.4g}', f'{i.high:.4g}')
                 for i in r.inputs]))
    print(table('Actions over the chunks (physical units)', ('name', 'min', 'max'),
                [(n, f'{lo:.4g}', f'{hi:.4g}') for n, lo, hi in
                 zip(r.action_names, r.action_low, r.action_high)]))
    print(table(f'Timing per chunk, {r.runs} runs', ('phase', 'p50 ms', 'p95 ms'),
                [(p, f'{a:.2f}', f'{b:.2f}') for p, (a, b) in r.timings_ms.items()]))
    t = r.timings_ms
    print(f"CHECK {r.model_id} preprocess_p50_ms={t['preprocess'][0]:.2f} "
          f"run_p50_ms={t['run'][0]:.2f} run_p95_ms={t['run'][1]:.2f} "
          f"postprocess_p50_ms={t['postprocess'][0]:.2f} total_p50_ms={t['total'][0]:.2f} "
          f"total_p95_ms={t['total'][1]:.2f}")
    return 0


def _floats(text: str | None) -> list[float] | None:
    if text is None:
        return None
    try:
        return [float(x) for x in text.split(',') if x.strip()]
    except ValueError as e:
        raise UsageError(f'--state: expected comma-separated numbers, got {text!r}') from e


def _tokens(args: argparse.Namespace) -> int:

    b = load_bundle(args.bundle, verify_hashes=not args.no_verify)
    views = command_tokens(b, args.command, state=_floats(args.state))
    print(f'bundle {args.bundle}: {b.manifest.model_id}')
    for v in views:
        pad = '' if v.padding_side is None else \
            f', padded on the {v.padding_side} with id {v.pad_id}'
        print(f'\n{v.target} ({v.tokenizer}, max_length {v.max_length}{pad})')
        print(f'prompt: {v.prompt!r}')
        if v.state is not None:
            where = '' if args.state else ' (the state mean; --state sets them)'
            print(f'state: joint positions {[round(x, 4) for x in v.state]}{where}')
        rows = [(str(i), str(t), str(k), repr(tok)) for i, (t, k, tok) in
                enumerate(zip(v.ids, v.mask, v.tokens)) if k or args.all]
        print(table('', ('#', 'id', 'mask', 'token'), rows).strip('\n'))
        n_pad = v.mask.count(0)
        print(f'{len(v.ids) - n_pad} tokens' + (
            f' + {n_pad} padding (id {v.pad_id} {v.tokens[v.mask.index(0)]!r}, mask 0, on '
            f'the {v.padding_side})' if n_pad else ''))
        if v.truncated:
            print(f'TRUNCATED: the prompt makes {v.full_length} tokens; max_length '
                  f'{v.max_length} keeps the first {v.max_length}, the rest is not fed')
        print(f'ids: {list(v.ids)}')
    return 0
