"""
Inference-time real-time chunking (RTC) of a flow-matching graph: what its guidance computes.

LeRobot 0.4.4's ``RTCProcessor.denoise_step`` guides every Euler step of the flow towards the
committed prefix: ``x1 = x_t - time * v_t``, ``err = (prefix - x1) * w`` and the velocity
``v_t - g(time) * J^T err`` with ``J = d x1 / d x_t`` by autograd. But ``v_t`` is computed
*before* ``x_t.requires_grad_``, so ``x1`` depends on ``x_t`` only through the identity and
``J^T err = err`` exactly: LeRobot's RTC is Jacobian-free, and an exported graph does it with
plain ops inside its unrolled loop (docs/bundle.md, "Action prefix"). ``time`` is a constant
per unrolled step, so ``g(time)`` is a float baked in; the weights ``w`` come from ``d =
sum(prefix_mask)`` in the graph.

Written with operators only, so the same functions run on numpy arrays (tests, checks) and on
torch tensors while a graph is traced (``vla_ros.lerobot_io.rtc_export`` in the LeRobot
worker, the pi0-shaped reference graph); this module imports neither numpy, torch nor ONNX.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
import math
from typing import Any

from vla_ros.errors import PrefixSpecError


class Schedule(str, Enum):
    """LeRobot's ``RTCAttentionSchedule``: how the prefix weights fall off after ``d``."""

    ZEROS = 'ZEROS'    # 1 for k < d, else 0
    ONES = 'ONES'      # 1 for k < E, else 0
    LINEAR = 'LINEAR'  # 1 for k < d, (E - k) / (E - d + 1) for d <= k < E, 0 after
    EXP = 'EXP'        # LINEAR's tail l times expm1(l) / (e - 1)


@dataclass(frozen=True)
class RTCSettings:
    """
    LeRobot's ``RTCConfig`` as a graph bakes it in.

    :ivar execution_horizon: E, the rows the guidance reaches (clipped to the chunk length).
    :ivar max_guidance_weight: the clamp of the per-step guidance weight (> 0).
    :ivar schedule: the prefix-weight schedule (:class:`Schedule`).
    """

    execution_horizon: int = 10
    max_guidance_weight: float = 10.0
    schedule: Schedule = Schedule.LINEAR

    def __post_init__(self) -> None:
        object.__setattr__(self, 'schedule', Schedule(self.schedule))
        if self.execution_horizon < 1 or not self.max_guidance_weight > 0:
            raise PrefixSpecError(f'RTC settings: execution_horizon >= 1 and '
                                  f'max_guidance_weight > 0 needed, got {self}')

    @classmethod
    def from_lerobot(cls, rtc_config: Any) -> RTCSettings:
        """Return the settings of a LeRobot ``RTCConfig`` (or its JSON dict)."""
        def get(key: str, default: Any) -> Any:
            if isinstance(rtc_config, dict):
                return rtc_config.get(key, default)
            return getattr(rtc_config, key, default)
        sched = get('prefix_attention_schedule', 'LINEAR')
        return cls(int(get('execution_horizon', 10)), float(get('max_guidance_weight', 10.0)),
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
    ((1 - tau)^2 + tau^2) / (1 - tau)^2``; the infinities at ``tau`` = 0 or 1 become ``max``.
    """
    tau = 1.0 - time
    if tau <= 0.0 or tau >= 1.0:
        return float(max_weight)
    c = (1.0 - tau) / tau
    inv_r2 = ((1.0 - tau) ** 2 + tau ** 2) / (1.0 - tau) ** 2
    return float(min(c * inv_r2, max_weight))


def prefix_weights(d: Any, k: Any, horizon: int, rtc: RTCSettings) -> Any:
    """
    Return LeRobot's prefix weights ``[B, T]`` (``get_prefix_weights``), zero where d = 0.

    ``d``: ``[B, 1]`` committed steps (float; ``sum(prefix_mask)``), ``k``: ``[1, T]`` step
    indices 0..T-1 (float, same array type), ``horizon``: T. ``E = min(execution_horizon,
    T)``, ``s = min(d, E)``; no prefix (``d`` = 0) gets no guidance, as LeRobot without
    ``prev_chunk_left_over``.
    """
    e = float(min(rtc.execution_horizon, horizon))
    s = d - (d > e) * (d - e)                       # min(d, E), operators only
    lead = (k < s) * 1.0
    tail = (k >= s) * (k < e) * 1.0
    if rtc.schedule is Schedule.ZEROS:
        w = lead
    elif rtc.schedule is Schedule.ONES:
        w = lead + tail
    else:
        lin = (e - k) / (e - s + 1.0)
        if rtc.schedule is Schedule.EXP:
            lin = lin * (math.e ** lin - 1.0) / (math.e - 1.0)
        w = lead + tail * lin
    return w * (d > 0)


def guided_velocity(v_t: Any, x_t: Any, time: float, prefix: Any, weights: Any,
                    rtc: RTCSettings) -> Any:
    """
    Return LeRobot's RTC-guided velocity for one Euler step (Jacobian-free).

    ``x_t``, ``v_t``, ``prefix``: ``[B, T, A]`` (model space: normalised, padded);
    ``weights``: ``[B, T, 1]`` (:func:`prefix_weights` with a last axis); ``time``: this
    step's flow time.
    """
    x1 = x_t - time * v_t
    err = (prefix - x1) * weights
    return v_t - guidance_weight(time, rtc.max_guidance_weight) * err
