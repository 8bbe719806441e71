"""
Inference-time real-time chunking (RTC) inside an exported flow-matching graph (torch side).

LeRobot 0.4.4's ``RTCProcessor.denoise_step`` guides every Euler step towards the committed
prefix: ``x1 = x_t - time * v_t``, ``err = (prefix - x1) * w`` and ``v_t - g(time) * J^T err``
with ``J = d x1 / d x_t`` by autograd. But ``v_t`` is computed *before* ``x_t.requires_grad_``,
so ``x1`` depends on ``x_t`` only through the identity and ``J^T err = err`` exactly: LeRobot's
RTC is Jacobian-free, and this module writes it as plain tensor ops that trace into ONNX
inside the unrolled loop. ``time`` is a constant per unrolled step, so ``g(time)`` is a float
baked into the graph; the prefix weights ``w`` are computed in the graph from
``d = sum(prefix_mask)`` (the ``action_prefix`` / ``prefix_mask`` inputs, docs/bundle.md).
``d = 0`` (no prefix) turns the guidance off: the plain chunk, as LeRobot without
``prev_chunk_left_over``.

Only numpy at import (torch is imported where used), so the pi0-shaped reference graph
(:mod:`vla_ros.model.reference_graphs`) shares it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
import math

import numpy as np


class Schedule(str, Enum):
    """LeRobot's ``RTCAttentionSchedule``: how the prefix weights fall off after ``d``."""

    ZEROS = 'ZEROS'    # 1 for k < d, else 0
    ONES = 'ONES'      # 1 for k < E, else 0
    LINEAR = 'LINEAR'  # 1 for k < d, (E - k) / (E - d + 1) for d <= k < E, 0 after
    EXP = 'EXP'        # LINEAR's tail l times expm1(l) / (e - 1)


@dataclass(frozen=True)
class RTCSettings:
    """
    LeRobot's ``RTCConfig`` as the graph bakes it in.

    :ivar execution_horizon: E, the rows the guidance reaches (clipped to the chunk length).
    :ivar max_guidance_weight: the clamp of the per-step guidance weight.
    :ivar schedule: the prefix-weight schedule (:class:`Schedule`).
    """

    execution_horizon: int = 10
    max_guidance_weight: float = 10.0
    schedule: Schedule = Schedule.LINEAR

    @classmethod
    def from_lerobot(cls, rtc_config) -> RTCSettings:
        """Return the settings of a LeRobot ``RTCConfig`` (or its JSON dict)."""
        get = rtc_config.get if isinstance(rtc_config, dict) else (
            lambda k, dflt: getattr(rtc_config, k, dflt))
        sched = get('prefix_attention_schedule', 'LINEAR')
        return cls(int(get('execution_horizon', 10)),
                   float(get('max_guidance_weight', 10.0)),
                   Schedule(getattr(sched, 'value', sched)))

    def as_dict(self) -> dict:
        """Return the JSON form (bundle provenance)."""
        return {'execution_horizon': self.execution_horizon,
                'max_guidance_weight': self.max_guidance_weight,
                'schedule': self.schedule.value}


def guidance_weight(time: float, max_weight: float) -> float:
    """
    Return LeRobot's guidance weight at flow time ``time`` (1 = noise, 0 = data).

    ``tau = 1 - time``; ``min(c * inv_r2, max)`` with ``c = (1 - tau) / tau`` and ``inv_r2 =
    ((1 - tau)^2 + tau^2) / (1 - tau)^2``; infinities (``tau`` = 0 or 1) become ``max``.
    """
    tau = 1.0 - time
    if tau <= 0.0 or tau >= 1.0:
        return float(max_weight)
    c = (1.0 - tau) / tau
    inv_r2 = ((1.0 - tau) ** 2 + tau ** 2) / (1.0 - tau) ** 2
    return float(min(c * inv_r2, max_weight))


def prefix_weights(prefix_mask, rtc: RTCSettings):
    """
    Return the guidance weights ``[B, T, 1]`` from ``prefix_mask`` ``[B, T]`` (torch ops).

    LeRobot's ``get_prefix_weights(d, E, T)`` per batch row with ``d = sum(mask)``,
    ``E = min(execution_horizon, T)``, times ``d > 0`` (no prefix: no guidance).
    """
    # optional heavy dependency: torch
    import torch

    t = prefix_mask.shape[-1]
    e = float(min(rtc.execution_horizon, t))
    d = prefix_mask.sum(-1, keepdim=True)                          # [B, 1]
    s = torch.clamp(d, max=e)
    k = torch.arange(t, dtype=prefix_mask.dtype, device=prefix_mask.device)[None]  # [1, T]
    lead = (k < s).to(prefix_mask.dtype)
    tail = ((k >= s) & (k < e)).to(prefix_mask.dtype)
    if rtc.schedule is Schedule.ZEROS:
        w = lead
    elif rtc.schedule is Schedule.ONES:
        w = lead + tail
    else:
        lin = (e - k) / (e - s + 1.0)
        if rtc.schedule is Schedule.EXP:
            lin = lin * torch.expm1(lin) / (math.e - 1.0)
        w = lead + tail * lin
    return (w * (d > 0).to(prefix_mask.dtype))[..., None]


def guided_velocity(v_t, x_t, time: float, prefix, weights, rtc: RTCSettings):
    """
    Return LeRobot's RTC-guided velocity for one Euler step (Jacobian-free, torch ops).

    ``x_t``, ``v_t``, ``prefix``: ``[B, T, A]`` (model space: normalised, padded);
    ``weights``: ``[B, T, 1]`` (:func:`prefix_weights`); ``time``: this step's flow time.
    """
    x1 = x_t - time * v_t
    err = (prefix - x1) * weights
    return v_t - guidance_weight(time, rtc.max_guidance_weight) * err


def smolvla_sample(model, images, img_masks, tokens, mask, state, noise, prefix, prefix_mask,
                   rtc: RTCSettings):
    """
    Return LeRobot's ``VLAFlowMatching.sample_actions`` with RTC guidance, traceable.

    The same calls as LeRobot's loop (prefix embedding + KV cache, ``num_steps`` Euler steps of
    ``denoise_step``); each step's velocity goes through :func:`guided_velocity`.
    """
    # optional heavy dependency: torch
    import torch
    # optional heavy dependency: lerobot
    from lerobot.policies.smolvla.modeling_smolvla import make_att_2d_masks

    embs, pad_masks, att_masks = model.embed_prefix(images, img_masks, tokens, mask,
                                                    state=state)
    att_2d = make_att_2d_masks(pad_masks, att_masks)
    positions = torch.cumsum(pad_masks, dim=1) - 1
    _, kv = model.vlm_with_expert.forward(attention_mask=att_2d, position_ids=positions,
                                          past_key_values=None, inputs_embeds=[embs, None],
                                          use_cache=model.config.use_cache, fill_kv_cache=True)
    steps = model.config.num_steps
    dt = -1.0 / steps
    weights = prefix_weights(prefix_mask, rtc)
    x_t = noise
    for step in range(steps):
        time = 1.0 + step * dt
        t = torch.tensor(time, dtype=torch.float32).expand(state.shape[0])
        v_t = model.denoise_step(x_t=x_t, prefix_pad_masks=pad_masks, past_key_values=kv,
                                 timestep=t)
        x_t = x_t + dt * guided_velocity(v_t, x_t, time, prefix, weights, rtc)
    return x_t


def smolvla_rtc_module(policy, cams: list[str], rtc: RTCSettings, state_key: str):
    """Return ``(state, tokens, mask, noise, prefix, prefix_mask, *images) -> action``."""
    # optional heavy dependency: torch
    import torch

    class SmolVLARTCGraph(torch.nn.Module):

        def __init__(self) -> None:
            super().__init__()
            self.policy = policy

        def forward(self, state, tokens, mask, noise, prefix, prefix_mask, *images):
            batch = {state_key: state, **dict(zip(cams, images))}
            imgs, img_masks = self.policy.prepare_images(batch)
            return smolvla_sample(self.policy.model, imgs, img_masks, tokens, mask,
                                  self.policy.prepare_state(batch), noise, prefix,
                                  prefix_mask, rtc)

    return SmolVLARTCGraph().eval()


def enable_lerobot_rtc(policy, rtc: RTCSettings) -> None:
    """Turn LeRobot's own RTC on for ``policy`` with ``rtc`` (config + ``RTCProcessor``)."""
    # optional heavy dependency: lerobot
    from lerobot.configs.types import RTCAttentionSchedule
    from lerobot.policies.rtc.configuration_rtc import RTCConfig

    policy.config.rtc_config = RTCConfig(
        enabled=True, execution_horizon=rtc.execution_horizon,
        max_guidance_weight=rtc.max_guidance_weight,
        prefix_attention_schedule=RTCAttentionSchedule(rtc.schedule.value))
    policy.init_rtc_processor()


def parity_prefix(chunk: np.ndarray, mean, std, d: int, seed: int) -> np.ndarray:
    """
    Return a physical prefix ``[d, A]`` for the parity sample: LeRobot's plain chunk, moved.

    An offset of 0.5 action std per column (plus a little noise) makes the guidance visible.
    """
    rng = np.random.default_rng(seed + 7)
    std = np.asarray(std, np.float64)
    off = (0.5 + 0.1 * rng.standard_normal((d, len(std)))) * std
    return (np.asarray(chunk[0, :d], np.float64) + off).astype(np.float32)


def reference_rtc(policy, pre, post, obs: dict, noise: np.ndarray, prefix: np.ndarray,
                  mean, std, rtc: RTCSettings) -> np.ndarray:
    """
    Return LeRobot's RTC chunk: preprocessor -> ``predict_action_chunk`` -> postprocessor.

    ``predict_action_chunk(batch, noise, inference_delay=d, prev_chunk_left_over=...,
    execution_horizon=E)`` with RTC enabled (:func:`enable_lerobot_rtc`).

    ``prev_chunk_left_over`` is in the model's space, as LeRobot's ``ActionQueue`` keeps it
    (the policy's output before the postprocessor: normalised, unpadded): ``(prefix - mean) /
    std`` for the ``d`` rows, zero after -- the very rows our runtime feeds as
    ``action_prefix``. ``obs``: LeRobot's raw observation (torch, with ``task``).
    """
    # optional heavy dependency: torch
    import torch

    d = prefix.shape[0]
    left = np.zeros((1, policy.config.chunk_size, prefix.shape[1]), np.float32)
    left[0, :d] = (prefix - np.asarray(mean)) / np.asarray(std)
    orig = policy.config.rtc_config
    enable_lerobot_rtc(policy, rtc)
    try:
        with torch.no_grad():
            policy.reset()
            out = policy.predict_action_chunk(
                pre(dict(obs)), noise=torch.from_numpy(noise), inference_delay=d,
                prev_chunk_left_over=torch.from_numpy(left),
                execution_horizon=rtc.execution_horizon)
            return post(out).numpy()
    finally:
        policy.config.rtc_config = orig
        policy.init_rtc_processor()


PARITY_DELAY = 3  # d of the parity sample's prefix


def settings_for(cfg, *, force: bool) -> RTCSettings | None:
    """Return the RTC settings to export: the config's ``rtc_config`` if enabled or ``force``."""
    got = getattr(cfg, 'rtc_config', None)
    if got is not None and (force or got.enabled):
        return RTCSettings.from_lerobot(got)
    return RTCSettings() if force else None


def rtc_inputs(cfg) -> list[dict]:
    """Return the export's descriptions of the ``action_prefix`` / ``prefix_mask`` inputs."""
    return [{'name': 'action_prefix', 'kind': 'action_prefix',
             'max_delay': int(cfg.chunk_size) - 1},
            {'name': 'prefix_mask', 'kind': 'prefix_mask', 'prefix': 'action_prefix'}]


def rtc_parity(policy, pre, post, obs: dict, noise: np.ndarray, chunk: np.ndarray, mean, std,
               rtc: RTCSettings, seed: int) -> dict:
    """Return the parity sample's RTC part: ``prefix`` [d, A], ``expected_rtc`` [1, T, A]."""
    prefix = parity_prefix(chunk, mean, std, PARITY_DELAY, seed)
    guided = reference_rtc(policy, pre, post, obs, noise, prefix, mean, std, rtc)
    return {'prefix': prefix, 'expected_rtc': guided.astype(np.float32),
            'rtc': rtc.as_dict()}
