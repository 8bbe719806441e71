"""
What the policy relies on: per-modality weights of one chunk (ROS-free).

Gradient-free, for any fusion and any bundle with a presence input or optional modalities:
the chunk is computed again with one modality switched off at a time (exactly as a stopped
sensor: :func:`~vla_ros.core.runtime.masking.mask_frame`), and the weight of modality m is

    d_m = mean over the chunk of |a - a_without_m| / action std      (dimensionless)
    w_m = d_m / sum_k d_k                                              (sum 1)

The variants run as one batch when the graph's batch dimension is dynamic (one
``session.run`` for all of them). Proprioception is required and never switched off: when
no switch-off changes the chunk (sum d = 0) every weight is 0 and ``relied_on_any`` is False.
For mixture-of-experts bundles the gate weights of the unmasked chunk are reported beside it.
"""

from __future__ import annotations

from dataclasses import dataclass
import threading
import time

import numpy as np
from vla_ros.core.frame import Frame
from vla_ros.core.runtime.masking import mask_frame
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.core.runtime.postprocess import to_chunk
from vla_ros.errors import VlaRosError

METHOD = 'presence_ablation'
_NON_MASKABLE = ('joints',)


@dataclass(frozen=True)
class ModalityWeights:
    """
    Per-modality reliance of one chunk.

    :ivar modalities: keys as in the presence input (``image/front``, ``audio``, ...).
    :ivar weights: [M] in [0, 1], sum 1 (all 0 when ``relied_on_any`` is False).
    :ivar deltas: [M] mean |chunk change| in action-std units when the modality is off.
    :ivar present: [M] whether the modality was present in the frame (absent: delta 0).
    :ivar gate_weights: [E] MoE gate weights of the unmasked chunk, else None.
    :ivar compute_ms: wall time of the variants [ms].
    """

    stamp_ns: int
    modalities: tuple[str, ...]
    weights: np.ndarray
    deltas: np.ndarray
    present: np.ndarray
    method: str
    compute_ms: float
    gate_weights: np.ndarray | None = None

    @property
    def relied_on_any(self) -> bool:
        """Tell whether switching some modality off changed the chunk."""
        return bool(self.deltas.sum() > 0.0)


def attribution_keys(runtime: PolicyRuntime) -> tuple[str, ...]:
    """Return the switchable modalities: the presence order (or inputs), joints excluded."""
    m = runtime.manifest
    for spec in m.inputs:
        order = spec.preprocessing.get('order')
        if spec.kind == 'presence' and order:
            return tuple(k for k in order if k not in _NON_MASKABLE
                         and k not in m.required_modalities)
    keys: list[str] = []
    for spec in m.inputs:
        cams = spec.preprocessing.get('cameras') or (
            [spec.preprocessing['camera']] if 'camera' in spec.preprocessing else [])
        cand = [f'image/{c}' for c in cams] if cams else [spec.modality]
        keys += [k for k in cand if k in ('audio', 'tactile', 'language')
                 or k.startswith('image/')]
    return tuple(dict.fromkeys(k for k in keys if k not in m.required_modalities))


class PresenceAttribution:
    """Per-modality weights by switching each modality off (one batch when the graph allows)."""

    def __init__(self, runtime: PolicyRuntime, keys: tuple[str, ...] | None = None) -> None:
        self.runtime = runtime
        self.keys = attribution_keys(runtime) if keys is None else tuple(keys)
        m = runtime.manifest
        self._std = np.maximum(np.asarray(m.action_std, np.float64), 1e-6)
        self._batched = all(spec.shape and spec.shape[0] in (-1, None) for spec in m.inputs)

    def compute(self, frame: Frame) -> ModalityWeights:
        """
        Return the weights for ``frame`` (its ``command`` is the language, as in PolicyLoop).

        Raises the runtime's :class:`~vla_ros.errors.InferenceError` like :meth:`infer`.
        """
        t0 = time.monotonic()
        frames = [frame] + [mask_frame(frame, [k]) for k in self.keys]
        present = np.asarray([bool(frame.present.get(k, False))
                              or (k == 'language' and bool(frame.command)) for k in self.keys])
        rt, m = self.runtime, self.runtime.manifest
        # the frames carry the language: the runtime's own command must not refill a masked one
        feeds = [rt.build_inputs(f, use_set_command=False) for f in frames]
        if self._batched:
            outs = rt.run_raw({k: np.concatenate([f[k] for f in feeds]) for k in feeds[0]})
            raw = [outs[m.action_output][i] for i in range(len(frames))]
            gate = outs[m.gate_output][0].copy() if m.gate_output else None
        else:
            runs = [rt.run_raw(f) for f in feeds]
            raw = [r[m.action_output][0] for r in runs]
            gate = runs[0][m.gate_output][0].copy() if m.gate_output else None
        chunks = [to_chunk(r, m, f) for r, f in zip(raw, frames)]
        base = chunks[0]
        deltas = np.asarray([float(np.mean(np.abs(base - c) / self._std)) for c in chunks[1:]])
        deltas[~present] = 0.0
        total = float(deltas.sum())
        weights = deltas / total if total > 0.0 else np.zeros_like(deltas)
        return ModalityWeights(stamp_ns=frame.stamp_ns, modalities=self.keys, weights=weights,
                               deltas=deltas, present=present, method=METHOD,
                               compute_ms=(time.monotonic() - t0) * 1e3, gate_weights=gate)


class LiveAttribution:
    """
    :class:`PresenceAttribution` at most ``rate_hz``, and only where it is cheap.

    A policy whose chunks take long (a VLA-scale graph) would stall the chunk stream for
    ``M + 1`` runs: it is skipped while the predicted cost (last run x variants) exceeds
    ``budget`` of the chunk's duration (horizon x dt).
    """

    def __init__(self, runtime: PolicyRuntime, rate_hz: float, *, budget: float = 0.1,
                 lock: threading.Lock | None = None) -> None:
        self.attr = PresenceAttribution(runtime)
        self._lock = lock or threading.Lock()  # the host's runtime lock (one caller at a time)
        self.period_ns = int(1e9 / rate_hz) if rate_hz > 0 else 0
        m = runtime.manifest
        self.max_ms = budget * m.horizon * m.dt * 1e3
        self._next_ns = 0
        self.skipped_slow = 0
        self.error = ''  # set when a run failed: attribution stays off for this bundle

    def maybe(self, frame: Frame, now_ns: int, last_run_ms: float) -> ModalityWeights | None:
        """Weights for ``frame`` when due and affordable, else None (takes the runtime lock)."""
        if not self.period_ns or not self.attr.keys or self.error or now_ns < self._next_ns:
            return None
        self._next_ns = now_ns + self.period_ns
        if last_run_ms * (len(self.attr.keys) + 1) > self.max_ms:
            self.skipped_slow += 1
            return None
        try:
            with self._lock:
                return self.attr.compute(frame)
        except VlaRosError as e:  # e.g. a graph whose batch is fixed after all: never the chunk
            self.error = f'attribution off: {e}'
            return None
