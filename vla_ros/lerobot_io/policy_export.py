"""
A LeRobot policy checkpoint -> ONNX graph + normalisation + parity sample (LeRobot side).

Runs in ``.venv-lerobot``. The checkpoint directory is what LeRobot saves (``config.json``,
``model.safetensors``, ``policy_preprocessor*.json`` / ``policy_postprocessor*`` with the
normalisation stats). The graph is the policy's model between its normaliser and
unnormaliser (normalised state and images in, a normalised chunk out); the normalisation
goes into the bundle as mean / std per input and action (every LeRobot mode -- MEAN_STD,
MIN_MAX, QUANTILES, QUANTILE10, IDENTITY -- is an affine map, written as such), so
``vla-ros inspect`` shows it. ``parity.npz`` holds a raw observation and the chunk LeRobot's
own pipeline (preprocessor -> ``predict_action_chunk`` -> postprocessor) makes of it; the
robot side replays it through :class:`~vla_ros.core.runtime.policy_runtime.PolicyRuntime`.
"""

from __future__ import annotations

from importlib.metadata import version
import json
from pathlib import Path
import time

import numpy as np
from vla_ros.lerobot_io import diffusion_export as dx
from vla_ros.lerobot_io import rtc_export as rx
from vla_ros.lerobot_io import smolvla_export as sx

SUPPORTED = ('act', 'smolvla', 'diffusion')
EXPORT_JSON = 'lerobot_export.json'
PARITY_NPZ = 'parity.npz'
OPSET = 17


def _affine(mode: str, st: dict, eps: float, *, inverse: bool, n: int = 0
            ) -> tuple[list, list]:
    """
    Map a LeRobot normalisation mode + stats to (mean, std): x_norm = (x - mean) / std.

    IDENTITY without stats gives ``n`` zeros / ones (3 for an image's channels).
    """
    g = {k: np.asarray(v, np.float64).reshape(-1) for k, v in st.items()}
    if mode == 'MEAN_STD':
        mean, std = g['mean'], g['std'] if inverse else g['std'] + eps
    elif mode in ('MIN_MAX', 'QUANTILES', 'QUANTILE10'):
        lo, hi = {'MIN_MAX': ('min', 'max'), 'QUANTILES': ('q01', 'q99'),
                  'QUANTILE10': ('q10', 'q90')}[mode]
        denom = g[hi] - g[lo]
        denom = np.where(denom == 0, eps, denom)
        mean, std = g[lo] + denom / 2, denom / 2
    elif mode == 'IDENTITY':
        n = len(next(iter(g.values()))) if g else max(n, 1)
        mean, std = np.zeros(n), np.ones(n)
    else:
        raise ValueError(f'LeRobot normalisation mode {mode!r} is not affine; not exportable')
    return mean.tolist(), std.tolist()


def _norm_step(pipeline):
    for step in pipeline.steps:
        if hasattr(step, 'norm_map') and hasattr(step, 'stats'):
            return step
    raise ValueError('the processor pipeline has no normaliser step')


def _mode(step, ftype) -> str:
    m = step.norm_map.get(ftype)
    return 'IDENTITY' if m is None else str(m.value)


def export_checkpoint(ckpt: Path, out: Path, *, seed: int = 0, rtc: bool = False) -> dict:
    """
    Write ``out/policy.onnx``, ``lerobot_export.json`` and ``parity.npz``; return the json.

    ``rtc``: SmolVLA with LeRobot's real-time chunking in the graph (also when the
    checkpoint's ``rtc_config`` is enabled; :mod:`~vla_ros.lerobot_io.rtc_export`).
    """
    # optional heavy dependency: lerobot
    from lerobot.configs.policies import PreTrainedConfig
    from lerobot.configs.types import FeatureType
    from lerobot.policies.factory import get_policy_class, make_pre_post_processors

    cfg = PreTrainedConfig.from_pretrained(ckpt)
    if cfg.type not in SUPPORTED:
        raise ValueError(f'policy type {cfg.type!r}: export supports {SUPPORTED} (see '
                         'docs/lerobot.md for the manual path)')
    cfg.device = 'cpu'
    policy = get_policy_class(cfg.type).from_pretrained(ckpt, config=cfg).eval()
    pre, post = make_pre_post_processors(cfg, pretrained_path=str(ckpt))
    pn, an = _norm_step(pre), _norm_step(post)
    cams = list(cfg.image_features)
    state_key = 'observation.state' if cfg.robot_state_feature else None

    rng = np.random.default_rng(seed)
    inputs: list[dict] = []
    raw: dict[str, np.ndarray] = {}
    if state_key:
        mean, std = _affine(_mode(pn, FeatureType.STATE), pn.stats.get(state_key, {}),
                            pn.eps, inverse=False)
        inputs.append({'name': state_key, 'kind': 'state', 'mean': mean, 'std': std,
                       'shape': list(cfg.robot_state_feature.shape),
                       'pad_to': int(getattr(cfg, 'max_state_dim', 0) or 0) or None})
        raw[state_key] = (np.asarray(mean) + 0.5 * np.asarray(std) * rng.standard_normal(
            len(mean))).astype(np.float32)[None]
    for key in cams:
        mean, std = _affine(_mode(pn, FeatureType.VISUAL), pn.stats.get(key, {}), pn.eps,
                            inverse=False, n=3)
        shape = list(cfg.image_features[key].shape)  # [3, H, W]
        inputs.append({'name': key, 'kind': 'image', 'camera': key.rsplit('.', 1)[-1],
                       'mean': mean, 'std': std, 'shape': shape})
        raw[key] = rng.integers(0, 256, (1, shape[1], shape[2], 3), dtype=np.uint8)
    amean, astd = _affine(_mode(an, FeatureType.ACTION), an.stats.get('action', {}), an.eps,
                          inverse=True)

    out.mkdir(parents=True, exist_ok=True)
    extra: dict = {}
    if cfg.type == 'smolvla':
        chunk, extra = _smolvla(policy, cfg, pre, post, inputs, raw, out, seed=seed,
                                rtc=rx.settings_for(cfg, force=rtc), action=(amean, astd))
    elif cfg.type == 'diffusion':
        chunk, extra = _diffusion(policy, cfg, pre, post, inputs, raw, out, seed=seed)
    else:
        chunk = _act(policy, pre, post, inputs, raw, state_key, cams, out)
    np.savez(out / PARITY_NPZ, expected=chunk.astype(np.float32), **raw,
             **{k: v for k, v in extra.items() if isinstance(v, np.ndarray)})

    info = {'policy_type': cfg.type, 'lerobot_version': version('lerobot'),
            'checkpoint': str(ckpt), 'inputs': inputs,
            'chunk_size': int(getattr(cfg, 'chunk_size', None) or cfg.n_action_steps),
            'n_action_steps': int(getattr(cfg, 'n_action_steps', None) or cfg.chunk_size),
            'action_dim': int(cfg.action_feature.shape[0]),
            'action_mean': amean, 'action_std': astd, 'opset': OPSET,
            'params': sum(p.numel() for p in policy.parameters()),
            **{k: v for k, v in extra.items() if not isinstance(v, np.ndarray)}}
    (out / EXPORT_JSON).write_text(json.dumps(info, indent=1))
    print(f'[lerobot] exported {cfg.type} ({sum(p.numel() for p in policy.parameters())} '
          f'parameters) to {out / "policy.onnx"}', flush=True)
    return info


def _act(policy, pre, post, inputs: list[dict], raw: dict, state_key: str | None,
         cams: list[str], out: Path) -> np.ndarray:
    """ACT: the model between normaliser and unnormaliser; return LeRobot's chunk on ``raw``."""
    # optional heavy dependency: torch
    import torch

    class Graph(torch.nn.Module):

        def __init__(self) -> None:
            super().__init__()
            self.policy = policy

        def forward(self, *xs):
            batch = dict(zip(([state_key] if state_key else []) + cams, xs))
            return self.policy.predict_action_chunk(batch)

    obs = {k: torch.from_numpy(v) for k, v in raw.items() if k == state_key}
    for k in cams:
        obs[k] = torch.from_numpy(raw[k]).permute(0, 3, 1, 2).float() / 255
    with torch.no_grad():
        chunk = post(policy.predict_action_chunk(pre(obs))).numpy()
        feeds = pre(obs)
        example = tuple(feeds[i['name']] for i in inputs)
        names = [i['name'] for i in inputs]
        torch.onnx.export(Graph().eval(), example, str(out / 'policy.onnx'), input_names=names,
                          output_names=['action'], opset_version=OPSET, dynamo=False,
                          dynamic_axes={**{n: {0: 'batch'} for n in names},
                                        'action': {0: 'batch'}})
    return chunk


def _smolvla(policy, cfg, pre, post, inputs: list[dict], raw: dict, out: Path, *,
             seed: int, rtc: rx.RTCSettings | None = None,
             action: tuple[list, list] = ([], [])) -> tuple[np.ndarray, dict]:
    """SmolVLA: the whole sampling path (:mod:`~vla_ros.lerobot_io.smolvla_export`)."""
    for i in inputs:
        if i['kind'] == 'image':
            i['resize_in_graph'] = list(cfg.resize_imgs_with_padding or [])
    inputs += [{'name': sx.TOKENS_KEY, 'kind': 'text_tokens',
                'max_length': int(cfg.tokenizer_max_length), 'prompt': sx.PROMPT,
                'padding_side': 'right', 'tokenizer': 'tokenizer.json'},
               {'name': sx.MASK_KEY, 'kind': 'token_mask', 'tokens': sx.TOKENS_KEY},
               {'name': sx.NOISE_KEY, 'kind': 'noise', 'seed': seed,
                'shape': [int(cfg.chunk_size), int(cfg.max_action_dim)]}]
    command = 'pick up the red cube'
    stamp_ns = 1_000_000_000
    # the runtime's noise for this frame stamp (vla_ros.core.runtime.preprocess.draw_noise)
    noise = np.random.default_rng([seed, stamp_ns]).standard_normal(
        (1, cfg.chunk_size, cfg.max_action_dim)).astype(np.float32)
    chunk = sx.reference(policy, pre, post, raw, command, noise)
    sx.export_graph(policy, cfg, out, opset=OPSET, rtc=rtc)
    sx.tokenizer_json(pre, out)
    step = next(s for s in pre.steps if hasattr(s, 'input_tokenizer'))
    extra = {'noise': noise, 'command': command, 'stamp_ns': stamp_ns,
             'pad_id': int(step.input_tokenizer.pad_token_id or 0),
             'num_steps': int(cfg.num_steps)}
    if rtc is not None:
        inputs += rx.rtc_inputs(cfg)
        extra.update(rx.rtc_parity(policy, pre, post, sx.lerobot_obs(raw, command), noise, chunk,
                                   *action, rtc, seed))
    return chunk, extra


def _diffusion(policy, cfg, pre, post, inputs: list[dict], raw: dict, out: Path, *,
               seed: int) -> tuple[np.ndarray, dict]:
    """
    Diffusion Policy: encoder + unrolled scheduler (:mod:`~vla_ros.lerobot_io.diffusion_export`).

    ``raw`` becomes a history of ``n_obs_steps`` distinct observations (oldest first); the
    parity frame carries the older ones in ``Frame.history``.
    """
    k = int(cfg.n_obs_steps)
    rng = np.random.default_rng(seed + 1)
    for i in inputs:
        i['history'] = k
        v = raw[i['name']]
        if i['kind'] == 'state':
            step = 0.05 * np.asarray(i['std']) * rng.standard_normal((1, k, v.shape[-1]))
            raw[i['name']] = (v[:, None] + np.cumsum(step, 1) - step.sum(1, keepdims=True)
                              ).astype(np.float32)
        else:
            past = rng.integers(0, 256, (1, k - 1, *v.shape[1:]), dtype=np.uint8)
            raw[i['name']] = np.concatenate([past, v[:, None]], 1)
    draws = dx.noise_draws(policy)
    shape = [draws, int(cfg.horizon), int(cfg.action_feature.shape[0])]
    inputs.append({'name': dx.NOISE_KEY, 'kind': 'noise', 'seed': seed, 'shape': shape})
    stamp_ns = 1_000_000_000
    # the runtime's noise for this frame stamp (vla_ros.core.runtime.preprocess.draw_noise)
    noise = np.random.default_rng([seed, stamp_ns]).standard_normal((1, *shape)).astype(
        np.float32)
    chunk = dx.reference(policy, pre, post, raw, noise)
    dx.export_graph(policy, cfg, out, opset=OPSET)
    sched = policy.diffusion.noise_scheduler
    return chunk, {'noise': noise, 'stamp_ns': stamp_ns, 'n_obs_steps': k,
                   'horizon': int(cfg.horizon), 'scheduler': type(sched).__name__,
                   'num_steps': int(policy.diffusion.num_inference_steps),
                   'crop_shape': list(cfg.crop_shape or []) or None}


def time_chunks(ckpt: Path, *, runs: int, threads: int) -> dict:
    """
    Time LeRobot's own chunk [ms] on a random observation (the torch baseline).

    Each chunk is the full pipeline: preprocessor -> ``predict_action_chunk`` ->
    postprocessor, after one warm-up chunk; ``peak_rss_mb`` is this process's (VmHWM).
    """
    # optional heavy dependency: torch
    import torch
    # optional heavy dependency: lerobot
    from lerobot.configs.policies import PreTrainedConfig
    from lerobot.policies.factory import get_policy_class, make_pre_post_processors

    torch.set_num_threads(threads)
    cfg = PreTrainedConfig.from_pretrained(ckpt)
    cfg.device = 'cpu'
    policy = get_policy_class(cfg.type).from_pretrained(ckpt, config=cfg).eval()
    pre, post = make_pre_post_processors(cfg, pretrained_path=str(ckpt))
    rng = np.random.default_rng(0)
    obs = {k: torch.from_numpy(rng.random((1, *f.shape), np.float32))
           for k, f in cfg.input_features.items()}
    if cfg.type == 'smolvla':
        obs['task'] = 'pick up the red cube'
    ms = []
    with torch.no_grad():
        for i in range(runs + 1):
            t0 = time.monotonic()
            policy.reset()
            if cfg.type == 'diffusion':  # its queues hold the observations (select_action's)
                post(dx.lerobot_chunk(policy, [pre(dict(obs))]))
            else:
                post(policy.predict_action_chunk(pre(dict(obs))))
            if i:
                ms.append((time.monotonic() - t0) * 1e3)
    return {'policy_type': cfg.type, 'threads': threads, 'runs': runs,
            'torch_ms_p50': float(np.percentile(ms, 50)),
            'torch_ms_p95': float(np.percentile(ms, 95)),
            'params': sum(p.numel() for p in policy.parameters()),
            'peak_rss_mb': next(int(x.split()[1]) for x in open('/proc/self/status')
                                if x.startswith('VmHWM')) / 1024}
