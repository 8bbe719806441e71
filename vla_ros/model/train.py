"""
Behaviour cloning of a VlaPolicyNet from demonstration bags, then export to a bundle.

Bags -> samples through the node's sync core (:mod:`vla_ros.model.dataset`), normalization
statistics that travel in the bundle, minibatches with modality dropout and random image
shifts (:mod:`vla_ros.model.batches`), L1 loss on normalized action chunks, cosine learning
rate, checkpoints, and the existing exporter
(:func:`vla_ros.model.export.export_bundle`) with the WordPiece text encoder.
"""

from __future__ import annotations

from collections.abc import Callable
import dataclasses
from dataclasses import dataclass, field
import math
from pathlib import Path
import shutil
import time

import numpy as np
import torch
from torch import nn
from tqdm import tqdm
from vla_ros import constants as C
from vla_ros.core.bundle.competence import (CompetenceSpec, DEFAULT_MIN_SIMILARITY,
                                            training_commands)
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.features.audio import MelConfig
from vla_ros.errors import ConfigError
from vla_ros.harness.sim_config import read_recorded_with
from vla_ros.model.batches import Batcher, norm_stats
from vla_ros.model.config import FROZEN_TEXT_DIMS, ModelConfig, TextEncoderKind
from vla_ros.model.dataset import (find_bags, has_effort, load_bags, recorded_kinds,
                                   TASK_KINDS_KEY)
from vla_ros.model.export import export_bundle, NormStats
from vla_ros.model.grounded_text import SEMANTIC_DIM
from vla_ros.model.policy import VlaPolicyNet
from vla_ros.model.prefix import postfix_loss
from vla_ros.model.text_factory import make_text_encoder
from vla_ros.model.train_utils import (count_params, load_train_state, save_checkpoint,
                                       save_train_state, TRAIN_STATE)


def default_policy_config(fusion: str = 'cross_attention', *, image_size: int = 64,
                          d_model: int = 96, horizon: int = 10, dt: float = 0.1,
                          modality_dropout: float = 0.15,
                          image_stem: str = 'keypoints',
                          text_encoder: str = TextEncoderKind.GROUNDED.value,
                          max_delay: int = 0) -> ModelConfig:
    """
    Return the model config of the default policy.

    Front + wrist 64x64 through language-conditioned keypoint encoders (16 channels, 16
    keypoints each), 1 s audio as 32x49 log-mel, two 4x4 taxel pads, 7 joint positions, the
    grounded text embedding (387-d; 64-d for wordbag), H=10 actions 0.1 s apart.
    ``max_delay`` > 0: delay-aware (``action_prefix`` input of up to that many steps).
    """
    return ModelConfig(
        fusion=fusion, cameras=('front', 'wrist'), image_size=(image_size, image_size),
        patch=8, image_layers=1, image_stem=image_stem, keypoints=16, stem_channels=16,
        mel=MelConfig(window_s=1.0, n_mels=32, n_fft=512, hop_length=320), audio_stride=7,
        text_dim=FROZEN_TEXT_DIMS.get(text_encoder, 64), d_model=d_model, n_heads=4,
        n_layers=2, ff_mult=2, n_experts=4,
        horizon=horizon, dt=dt, modality_dropout=modality_dropout, text_encoder=text_encoder,
        use_velocities=False,  # velocities let the policy copy its own motion (copycat)
        delay_aware=max_delay > 0, max_delay=max_delay)


@dataclass(frozen=True)
class TrainConfig:
    """
    Training run.

    ``minutes`` > 0 caps wall time (the schedule follows whichever of steps and time runs out
    first). Every ``checkpoint_every`` steps the full training state is saved; ``resume``
    continues from it (same result as an uninterrupted run) when the settings match. A
    delay-aware policy (``policy.delay_aware``) is trained on prefixes of the demo's own actions
    with ``prefix_noise`` (normalized units) added (:mod:`vla_ros.model.prefix`).
    """

    data: tuple[str, ...]
    out: str
    fusion: str = 'cross_attention'
    steps: int = 8000
    minutes: float = 0.0
    batch: int = 64
    lr: float = 1e-3
    weight_decay: float = 1e-4
    modality_dropout: float = 0.15
    word_dropout: float = 0.0    # word-piece dropout on the command (paraphrase robustness)
    shift_px: int = 1            # random image shift [px] (keypoints need the true position)
    seed: int = 0
    threads: int = 1
    cache_dir: str = ''          # sample cache ('' = none)
    work_dir: str = ''           # checkpoints (default: <out>/../train/<out name>)
    checkpoint_every: int = 1000
    resume: bool = False         # continue from <work_dir>/train_state.pt when it matches
    prefix_noise: float = 0.0    # delay-aware: Gaussian noise on the prefix [normalized units]
    model_id: str = ''
    int8: bool = False
    policy: ModelConfig | None = None
    extra: dict = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.steps < 1 or self.batch < 1:
            raise ConfigError(f'steps and batch must be >= 1, got {self.steps}, {self.batch}')
        if not self.data:
            raise ConfigError('data: give at least one bag or directory of bags')
        if not 0 <= self.modality_dropout < 1:
            raise ConfigError(f'modality_dropout must be in [0, 1), got {self.modality_dropout}')


# Text encoders training reads WordPiece ids for; what bundle provenance says about each.
TEXT_ENCODER_NOTES = {
    TextEncoderKind.WORDBAG.value: 'wordbag (MiniLM WordPiece + PCA-64 frozen embeddings)',
    TextEncoderKind.GROUNDED.value: 'grounded (frozen all-MiniLM-L6-v2 sentence embedding of '
                                    'the non-colour words + hue of the colour words from the '
                                    'XKCD/CSS4 colour names)',
    TextEncoderKind.MINILM.value: 'minilm (frozen all-MiniLM-L6-v2 sentence embedding)'}
TRAINABLE_TEXT = frozenset(TEXT_ENCODER_NOTES)


def competence_for(text_encoder: str, commands: list[str]) -> CompetenceSpec | None:
    """
    Return the competence section for a bundle trained on ``commands`` (None: no check).

    The MiniLM-based encoders embed meaning, so distance to the training commands means
    something; the wordbag's trained pooling gives no such guarantee.
    """
    cmds = tuple(training_commands(commands))
    if not cmds:
        return None
    if text_encoder == TextEncoderKind.GROUNDED.value:
        return CompetenceSpec(cmds, DEFAULT_MIN_SIMILARITY, SEMANTIC_DIM, SEMANTIC_DIM)
    if text_encoder == TextEncoderKind.MINILM.value:
        return CompetenceSpec(cmds, DEFAULT_MIN_SIMILARITY)
    return None


LOSS_WINDOW = 50  # steps averaged in every loss figure (progress bar, log, summary, bundle)


def default_work_dir(out: str | Path) -> Path:
    """
    Return where checkpoints of a run writing bundle ``out`` go: ``<out>/../train/<out name>``.

    That is ``out/train/<name>/checkpoint.pt`` for ``--out out/<name>``.
    """
    out = Path(out)
    return out.parent / 'train' / out.name


def loss_summary(losses: list[float]) -> tuple[float, float]:
    """(mean of the first, mean of the last LOSS_WINDOW losses)."""
    if not losses:
        return float('nan'), float('nan')
    return float(np.mean(losses[:LOSS_WINDOW])), float(np.mean(losses[-LOSS_WINDOW:]))


@dataclass
class TrainResult:
    bundle: Path
    checkpoint: Path
    samples: int
    episodes: int
    params: int
    steps: int
    seconds: float
    losses: list[float]

    @property
    def loss_start(self) -> float:
        return loss_summary(self.losses)[0]

    @property
    def loss_end(self) -> float:
        return loss_summary(self.losses)[1]


def train(tc: TrainConfig, *, log: Callable[[str], None] = print,
          progress: bool = True) -> TrainResult:
    """Train, checkpoint and export; returns where the bundle went and the loss curve."""
    t_start = time.monotonic()
    torch.manual_seed(tc.seed)
    torch.set_num_threads(tc.threads)
    cfg = tc.policy or default_policy_config(tc.fusion, modality_dropout=tc.modality_dropout)
    if cfg.text_encoder not in TRAINABLE_TEXT:
        raise ConfigError(f'training reads commands as WordPiece ids: the policy config needs '
                          f'text_encoder in {sorted(TRAINABLE_TEXT)}, got {cfg.text_encoder!r}')
    out = Path(tc.out)
    work = Path(tc.work_dir) if tc.work_dir else default_work_dir(out)
    work.mkdir(parents=True, exist_ok=True)
    bags = find_bags(list(tc.data))
    if not bags:
        raise ConfigError(f'no bags (directories with metadata.yaml) in {list(tc.data)}')
    if has_effort(bags) and C.GRIPPER_EFFORT_ACTION not in cfg.extra_actions:
        # the recordings command the gripper's max effort: the policy learns it as well
        cfg = dataclasses.replace(cfg, extra_actions=(*cfg.extra_actions,
                                                      C.GRIPPER_EFFORT_ACTION))
        log(f'the recordings command the gripper effort: actions {list(cfg.action_names)}')
    recorded = read_recorded_with(list(tc.data))
    log(f'sync: the vla_policy section of config/sim.yaml; data recorded with '
        f'{recorded or "(no recorded_with.yaml)"}')
    log(f'reading {len(bags)} bags through the sync core (cache: {tc.cache_dir or "none"})')
    bar = tqdm(total=len(bags), desc='bags', unit='bag', disable=not progress)
    samples = load_bags(bags, cfg, tc.cache_dir or None,
                        progress=lambda b, n: bar.update(1))
    bar.close()
    stats = norm_stats(samples)
    text = make_text_encoder(cfg.text_encoder, cfg.text_dim)
    policy = VlaPolicyNet(cfg)
    params = [p for m in (policy, text) for p in m.parameters() if p.requires_grad]
    opt = torch.optim.AdamW(params, lr=tc.lr, weight_decay=tc.weight_decay)
    batcher = Batcher(samples, cfg, stats, text, shift_px=tc.shift_px,
                      dropout=cfg.modality_dropout, seed=tc.seed,
                      word_dropout=tc.word_dropout)
    log(f'{len(samples)} samples from {len(bags)} episodes, {len(batcher.phrases)} phrasings; '
        f'{cfg.fusion}, {count_params(policy) / 1e6:.2f} M params')
    budget = tc.minutes * 60.0
    losses: list[float] = []
    ck, state_file = work / 'checkpoint.pt', work / TRAIN_STATE
    sig = {'bags': [str(b) for b in bags], 'samples': len(samples), 'policy': cfg.to_dict(),
           **{k: getattr(tc, k) for k in ('steps', 'minutes', 'batch', 'lr', 'weight_decay',
                                          'word_dropout', 'shift_px', 'seed',
                                          'prefix_noise')}}
    start, elapsed0 = 1, 0.0
    state = load_train_state(state_file, sig) if tc.resume else None
    if state is not None:
        policy.load_state_dict(state['policy'])
        text.load_state_dict(state['text'])
        opt.load_state_dict(state['opt'])
        batcher.set_rng_state(state['batch_rng'])
        torch.set_rng_state(state['torch_rng'])
        losses, start, elapsed0 = list(state['losses']), state['step'] + 1, state['elapsed_s']
        log(f'resumed from {state_file} at step {state["step"]} ({elapsed0 / 60:.1f} min in)')
    elif tc.resume:
        log(f'no resumable state with these settings in {work}: starting at step 1')
    t0 = time.monotonic() - elapsed0
    bar = tqdm(total=tc.steps, initial=start - 1, desc='train', unit='step',
               disable=not progress)
    policy.train()
    text.train()
    step = 0
    for step in range(start, tc.steps + 1):
        frac = step / tc.steps
        if budget > 0:
            frac = max(frac, (time.monotonic() - t0) / budget)
        if frac > 1.0:
            break
        warm = min(1.0, step / 200)
        for gp in opt.param_groups:
            gp['lr'] = tc.lr * warm * (0.05 + 0.95 * 0.5 * (1 + math.cos(math.pi * frac)))
        xs, y, mask = batcher(tc.batch, prefix_noise=tc.prefix_noise)
        out_ = policy(*xs)
        pred = out_[0] if isinstance(out_, tuple) else out_
        loss = postfix_loss(pred, y, mask)  # the steps after the prefix (all without one)
        opt.zero_grad(set_to_none=True)
        loss.backward()
        nn.utils.clip_grad_norm_(params, 1.0)
        opt.step()
        losses.append(loss.item())
        if step % 20 == 0:
            bar.set_postfix(loss=f'{np.mean(losses[-LOSS_WINDOW:]):.4f}')
        bar.update(1)
        if tc.checkpoint_every and step % tc.checkpoint_every == 0:
            save_checkpoint(ck, policy, text, stats.__dict__, commands=batcher.phrases)
            save_train_state(state_file, signature=sig, step=step, losses=losses,
                             elapsed_s=time.monotonic() - t0, policy=policy, text=text,
                             opt=opt, batch_rng_state=batcher.rng_state())
    step = len(losses)  # the steps actually taken (the budget may end the loop early)
    first, last = loss_summary(losses)
    bar.set_postfix(loss=f'{last:.4f}')
    bar.close()
    policy.eval()
    text.eval()
    save_checkpoint(ck, policy, text, stats.__dict__, commands=batcher.phrases)
    log(f'trained {step} steps in {time.monotonic() - t0:.0f} s: loss (mean of '
        f'{LOSS_WINDOW} steps) {first:.4f} -> {last:.4f}; checkpoint {ck}')
    export_policy(policy, text, out, stats=stats, model_id=tc.model_id or f'vla-sim-{cfg.fusion}',
                  int8=tc.int8, provenance={
                      'trained_on': [str(p) for p in tc.data], 'episodes': len(bags),
                      **({TASK_KINDS_KEY: kinds} if (kinds := recorded_kinds(bags)) else {}),
                      'samples': len(samples), 'steps': step, 'batch': tc.batch,
                      'final_loss': round(last, 5),
                      **({'delay_aware': {'max_delay': cfg.max_delay,
                                          'prefix_noise': tc.prefix_noise}}
                         if cfg.delay_aware else {}),
                      **({'recorded_with': recorded} if recorded else {}), **tc.extra},
                  competence=competence_for(cfg.text_encoder, batcher.phrases), log=log)
    return TrainResult(out, ck, len(samples), len(bags), count_params(policy), step,
                       time.monotonic() - t_start, losses)


def export_policy(policy: VlaPolicyNet, text: nn.Module, out: str | Path, *,
                  stats: NormStats, model_id: str, int8: bool = False,
                  provenance: dict | None = None, competence: CompetenceSpec | None = None,
                  log: Callable[[str], None] = print) -> Path:
    """export_bundle (the WordPiece kinds bring MiniLM's tokenizer.json); verified."""
    out = Path(out)
    if out.exists():
        shutil.rmtree(out)
    export_bundle(policy, text, out, model_id=model_id, stats=stats, int8=int8,
                  provenance={'text_encoder': TEXT_ENCODER_NOTES.get(policy.cfg.text_encoder,
                                                                     policy.cfg.text_encoder),
                              **(provenance or {})},
                  competence=competence, log=log)
    load_bundle(out)
    return out
