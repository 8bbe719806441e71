"""
Sanity run of delay-aware training (#29 item 2), plain vs ``--delay-aware``.

The same data, seed and budget, trained once plain and once delay-aware; both evaluated on
the same samples.

For each delay d the table gives the loss on the steps after the prefix (smooth-L1 in
normalized units, as training reports it), the plain policy on the same steps (it gets no
prefix), so the two columns compare like with like. Not a closed-loop result: the regime map
(bench/regime_map.py) is that.

    python scripts/delay_aware_sanity.py out/demos/clean out/demos/dart --minutes 6
        --steps 100000 --out out/delay_sanity
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import time

import numpy as np
import torch
from vla_ros.model.batches import Batcher, norm_stats
from vla_ros.model.dataset import find_bags, load_bags
from vla_ros.model.prefix import postfix_loss
from vla_ros.model.text_factory import make_text_encoder
from vla_ros.model.train import default_policy_config, train, TrainConfig
from vla_ros.model.train_utils import load_checkpoint

EVAL_DELAYS = (0, 1, 2, 4, 6, 8)
EVAL_SAMPLES = 512


def evaluate(checkpoint: Path, samples, delays=EVAL_DELAYS) -> dict[int, float]:
    """Return d -> loss on the steps after d (the same samples for every model)."""
    policy, text_state, _ = load_checkpoint(checkpoint)
    cfg = policy.cfg
    text = make_text_encoder(cfg.text_encoder, cfg.text_dim)
    if text_state:
        text.load_state_dict(text_state)
    text.eval()
    stats = norm_stats(samples)
    out = {}
    for d in delays:
        batcher = Batcher(samples, cfg, stats, text, shift_px=0, dropout=0.0, seed=123)
        b = EVAL_SAMPLES
        with torch.no_grad():
            xs, y, _ = batcher(b, train=False, delays=np.full(b, d))
            pred = policy(*xs)
            pred = pred[0] if isinstance(pred, tuple) else pred
            mask = (torch.arange(cfg.horizon)[None, :] < d).float().expand(b, -1)
            out[d] = float(postfix_loss(pred, y, mask))
    return out


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.strip().split('\n')[0])
    ap.add_argument('data', nargs='+')
    ap.add_argument('--out', type=Path, default=Path('out/delay_sanity'))
    ap.add_argument('--steps', type=int, default=1500)
    ap.add_argument('--minutes', type=float, default=0.0)
    ap.add_argument('--max-delay', type=int, default=8)
    ap.add_argument('--prefix-noise', type=float, default=0.0)
    ap.add_argument('--threads', type=int, default=1)
    args = ap.parse_args()
    cache = args.out / 'cache'
    rows = {}
    for name, max_delay in (('plain', 0), ('delay_aware', args.max_delay)):
        cfg = default_policy_config(max_delay=max_delay)
        tc = TrainConfig(data=tuple(args.data), out=str(args.out / name), steps=args.steps,
                         minutes=args.minutes, threads=args.threads, cache_dir=str(cache),
                         word_dropout=0.15, policy=cfg, prefix_noise=args.prefix_noise,
                         checkpoint_every=0, model_id=f'sanity-{name}')
        t0 = time.monotonic()
        res = train(tc, progress=False)
        rows[name] = {'steps': res.steps, 'minutes': round((time.monotonic() - t0) / 60, 2),
                      'loss_end': round(res.loss_end, 5), 'checkpoint': str(res.checkpoint)}
    samples = load_bags(find_bags(list(args.data)), default_policy_config(), cache)
    for name in rows:
        rows[name]['eval'] = {d: round(v, 5) for d, v in
                              evaluate(Path(rows[name]['checkpoint']), samples).items()}
    print(json.dumps(rows, indent=1))
    print('d  plain  delay_aware  (loss on the steps after the prefix)')
    for d in EVAL_DELAYS:
        print(f'{d}  {rows["plain"]["eval"][d]:.4f}  {rows["delay_aware"]["eval"][d]:.4f}')
    (args.out / 'sanity.json').write_text(json.dumps(rows, indent=1))
    return 0


if __name__ == '__main__':
    raise SystemExit(main())
