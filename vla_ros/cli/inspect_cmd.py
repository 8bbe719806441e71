"""``vla-ros inspect BUNDLE``: a policy bundle's contract as readable tables (torch-free)."""

from __future__ import annotations

import argparse
from pathlib import Path
import sys

from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.errors import BundleError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument('bundle', type=Path, help='bundle directory (or its bundle.yaml)')
    parser.add_argument('--no-verify', action='store_true',
                        help='skip sha256 verification (still checks files and ONNX graph)')


def _table(title: str, header: tuple[str, ...], rows: list[tuple[str, ...]]) -> str:
    """Render ``rows`` under ``header`` as an aligned text table titled ``title``."""
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    line = '  '.join('-' * w for w in widths)
    fmt = '  '.join(f'{{:<{w}}}' for w in widths)
    body = [fmt.format(*map(str, r)).rstrip() for r in rows]
    return '\n'.join([title, fmt.format(*header).rstrip(), line, *body, ''])


def _prep(pre: dict) -> str:
    kind = pre.get('kind', '')
    hist = ', history' if pre.get('history') else ''
    if kind in ('image', 'image_stack'):
        cams = f"stack of {', '.join(pre['cameras'])}: " if kind == 'image_stack' else ''
        vr = pre.get('value_range', [0, 1])
        return (f"{cams}{pre['size'][0]}x{pre['size'][1]} {pre.get('color_order', 'rgb')} "
                f"{pre.get('layout', 'CHW')} resize {pre.get('resize', 'stretch')}, "
                f"range {_fl(vr)}, mean {_fl(pre.get('mean', [0] * 3))} std "
                f"{_fl(pre.get('std', [1] * 3))}{hist}")
    if kind == 'text_tokens':
        tok = pre['tokenizer']
        state = f", state {pre['state_input']} in {pre.get('state_bins', 256)} bins" \
            if '{state}' in pre.get('prompt', '') else ''
        return (f"{tok['kind']}{' ' + tok['file'] if tok.get('file') else ''}, max "
                f"{pre['max_length']}, pad {pre.get('padding_side', 'right')} id "
                f"{pre.get('pad_id', 0)}, prompt {pre.get('prompt', '{command}')!r}{state}")
    if kind == 'token_mask':
        return f"attention mask of {pre['tokens']}"
    if kind == 'noise':
        return (f"{pre.get('distribution', 'normal')} x {pre.get('scale', 1.0):g}, seed "
                f"{pre.get('seed', 0)} + frame stamp")
    if kind == 'history_mask':
        return '1 per observed history frame, 0 padded'
    if kind == 'action_prefix':
        after = 'then the planned rest' if pre.get('tail') == 'planned' else 'zero-padded'
        return (f'committed actions, (a - mean) / std, {after}; d <= '
                f"{pre.get('max_delay', 'horizon - 1')}")
    if kind == 'prefix_mask':
        return f"1 per committed step of {pre['prefix']}"
    if kind in ('log_mel', 'audio_waveform'):
        m = pre['mel']
        return (f"{kind} {m['sample_rate']} Hz, {m['window_s']} s window, n_fft "
                f"{m['n_fft']} hop {m['hop_length']}, {m['n_mels']} mels "
                f"{m['fmin']:g}-{m['fmax']:g} Hz")
    if kind == 'tactile':
        pads = ', '.join(f"{p['name']} {p['rows']}x{p['cols']}x{p['channels']}"
                         for p in pre.get('pads', []))
        return f"pads {pads}; / {pre.get('scale', 1.0)} {pre.get('unit', '')}"
    if kind == 'joints':
        vel = ' + velocities' if pre.get('use_velocities') else ''
        pad = f", padded to {pre['pad_to']}" if 'pad_to' in pre else ''
        return f"{len(pre['joint_names'])} joint positions{vel}, (x - mean) / std{pad}{hist}"
    if kind == 'presence':
        return 'order: ' + ', '.join(pre['order'])
    return kind


table = _table  # shared with `vla-ros bundle check`


def _fl(xs: list[float]) -> str:
    return '[' + ', '.join(f'{x:.3g}' for x in xs) + ']'


def run(args: argparse.Namespace) -> int:

    try:
        b = load_bundle(args.bundle, verify_hashes=not args.no_verify)
    except BundleError as e:
        print(f'invalid bundle: {type(e).__name__}: {e}', file=sys.stderr)
        return 1
    m = b.manifest
    prov = m.provenance
    out = [f'bundle {b.path}  (format {m.format_version}, '
           f'{"sha256 verified" if not args.no_verify else "sha256 NOT verified"})', '']
    summary = [('model id', m.model_id), ('policy', m.policy_file)]
    summary += [(k, str(prov[k])) for k in ('created', 'exporter', 'fusion', 'params',
                                            'parity_max_abs', 'int8', 'source', 'checkpoint')
                if prov.get(k) not in (None, '')]
    summary += [('action kind', m.action_kind), ('horizon x dt', f'{m.horizon} x {m.dt:g} s'
                                                 f' = {m.horizon * m.dt:g} s'),
                ('required', ', '.join(m.required_modalities) or '-'),
                ('modalities', ', '.join(m.modalities))]
    if m.gate_output:
        summary.append(('gate output', m.gate_output))
    post = m.action_post
    if post is not None and (post.start, post.stop) != (0, post.width):
        summary.append(('action slice', f'[{post.start}, {post.stop}) of {post.width}'))
    if post is not None and post.reference.value != 'absolute':
        summary.append(('action reference', f'{post.reference.value} (+ state of '
                                            f'{", ".join(post.delta_joints)})'))
    if m.history is not None:
        summary.append(('history', f'{m.history.frames} frames, {m.history.spacing_s:g} s '
                                   'apart (from the sync buffers)'))
    out.append(_table('Summary', ('key', 'value'), summary))
    out.append(_table('Inputs', ('name', 'modality', 'shape', 'dtype', 'preprocessing'),
                      [(s.name, s.modality, str(list(s.shape)), s.dtype,
                        _prep(s.preprocessing)) for s in m.inputs]))
    out.append(_table('Outputs', ('name', 'shape', 'dtype'),
                      [(o.name, str(list(o.shape)), o.dtype) for o in m.outputs]))
    out.append(_table('Actions (physical = model * std + mean)',
                      ('#', 'name', 'unit', 'mean', 'std'),
                      [(str(i), n, u, f'{mu:.4g}', f'{sd:.4g}') for i, (n, u, mu, sd) in
                       enumerate(zip(m.action_names, m.action_units, m.action_mean,
                                     m.action_std))]))
    if m.text_encoder:
        te = m.text_encoder
        tok = te.get('tokenizer') or {}
        out.append(_table('Text encoder (run once per command)', ('key', 'value'), [
            ('file', te['file']), ('inputs', ', '.join(te['input_names'])),
            ('output', f"{te['output_name']} [{te['dim']}]"),
            ('tokenizer', f"{tok.get('kind')} max {tok.get('max_length')} tokens"
                          + (f" ({tok['file']})" if tok.get('file') else '')),
            ('competence', _competence(te.get('competence')))]))
    out.append(_table('Files', ('file', 'size', 'sha256'),
                      [(n, f'{(b.path / n).stat().st_size / 1e6:.2f} MB', h[:16] + '...')
                       for n, h in m.files.items()]))
    print('\n'.join(out))
    return 0


def _competence(raw: dict | None) -> str:
    """One line on the bundle's command competence check (docs/bundle.md)."""
    if not raw:
        return 'none (every command runs)'
    colour = (f", colour within {raw.get('max_colour_angle_deg', 50):g} deg"
              if raw.get('colour_offset') is not None else '')
    return (f"{len(raw['commands'])} training commands, min similarity "
            f"{raw['min_similarity']:g}{colour}")
