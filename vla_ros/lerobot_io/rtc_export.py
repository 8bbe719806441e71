"""
LeRobot's RTC inside an exported SmolVLA graph, and LeRobot's own RTC chunk (LeRobot side).

The guidance is :mod:`vla_ros.rtc_guidance` (LeRobot's ``RTCProcessor.denoise_step``,
Jacobian-free, written as plain ops) applied to every step of LeRobot's own sampling loop:
:func:`smolvla_sample` is ``VLAFlowMatching.sample_actions`` with it. ``d = 0`` (an all-zero
``prefix_mask``) is the plain chunk, as LeRobot without ``prev_chunk_left_over``.
"""

from __future__ import annotations

import numpy as np
from vla_ros.rtc_guidance import guided_velocity, prefix_weights, RTCSettings


def _weights(prefix_mask, rtc: RTCSettings):
    """Return the guidance weights ``[B, T, 1]`` of ``prefix_mask`` ``[B, T]`` (torch)."""
    # optional heavy dependency: torch
    import torch

    t = int(prefix_mask.shape[-1])  # the chunk length: fixed in the graph
    k = torch.arange(t, dtype=prefix_mask.dtype)[None]
    return prefix_weights(prefix_mask.sum(-1, keepdim=True), k, t, rtc)[..., None]


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
    weights = _weights(prefix_mask, rtc)
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


def parity_prefix(chunk: np.ndarray, std, seed: int) -> np.ndarray:
    """
    Return a physical leftover ``[T, A]`` for the parity sample: LeRobot's plain chunk, moved.

    An offset of 0.5 action std per column (plus a little noise) makes the guidance visible.
    """
    rng = np.random.default_rng(seed + 7)
    std = np.asarray(std, np.float64)
    off = (0.5 + 0.1 * rng.standard_normal((chunk.shape[1], len(std)))) * std
    return (np.asarray(chunk[0], np.float64) + off).astype(np.float32)


def reference_rtc(policy, pre, post, obs: dict, noise: np.ndarray, leftover: np.ndarray,
                  d: int, mean, std, rtc: RTCSettings) -> np.ndarray:
    """
    Return LeRobot's RTC chunk: preprocessor -> ``predict_action_chunk`` -> postprocessor.

    ``predict_action_chunk(batch, noise, inference_delay=d, prev_chunk_left_over=...,
    execution_horizon=E)`` with RTC enabled (:func:`enable_lerobot_rtc`).

    ``prev_chunk_left_over`` is in the model's space, as LeRobot's ``ActionQueue`` keeps it
    (the policy's output before the postprocessor: normalised, unpadded): ``(leftover - mean)
    / std`` -- the very rows our runtime feeds as a ``tail: planned`` ``action_prefix``
    (``leftover`` [T, A] physical: d committed rows, then the plan). ``obs``: LeRobot's raw
    observation (torch, with ``task``).
    """
    # optional heavy dependency: torch
    import torch

    left = ((leftover - np.asarray(mean)) / np.asarray(std)).astype(np.float32)[None]
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
             'max_delay': int(cfg.chunk_size) - 1, 'tail': 'planned'},
            {'name': 'prefix_mask', 'kind': 'prefix_mask', 'prefix': 'action_prefix'}]


def rtc_parity(policy, pre, post, obs: dict, noise: np.ndarray, chunk: np.ndarray, mean, std,
               rtc: RTCSettings, seed: int) -> dict:
    """
    Return the parity sample's RTC part (LeRobot's guided chunk for a leftover).

    ``prefix`` [d, A] + ``prefix_tail`` [T - d, A] (physical), ``expected_rtc`` [1, T, A],
    ``rtc``: the settings.
    """
    left = parity_prefix(chunk, std, seed)
    guided = reference_rtc(policy, pre, post, obs, noise, left, PARITY_DELAY, mean, std, rtc)
    return {'prefix': left[:PARITY_DELAY], 'prefix_tail': left[PARITY_DELAY:],
            'expected_rtc': guided.astype(np.float32), 'rtc': rtc.as_dict()}
