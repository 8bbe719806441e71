"""
The onnxruntime policy runtime (ROS- and torch-free).

``PolicyRuntime.from_bundle(path)`` verifies the bundle, opens one session per graph with the
configured providers, and turns a synchronized :class:`~vla_ros.core.frame.Frame` into a
typed action chunk in physical units (``PolicyOutput``), checking every input before
``run()`` and every output after it. Inputs are built by
:class:`~vla_ros.core.runtime.preprocess.InputBuilder`, the chunk by
:func:`~vla_ros.core.runtime.postprocess.to_chunk`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
import logging
from pathlib import Path
import time
from typing import Any

import numpy as np
import onnxruntime as ort
from vla_ros.core.bundle.competence import (CommandNotUnderstood, CompetenceCheck, CompetenceSpec,
                                            Verdict)
from vla_ros.core.bundle.contract import Bundle, Manifest, TensorSpec
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.features.tokenizer import TextTokenizer
from vla_ros.core.frame import Frame
from vla_ros.core.runtime.postprocess import to_chunk
from vla_ros.core.runtime.prefix import ActionPrefix
from vla_ros.core.runtime.preprocess import InputBuilder, NP_DTYPES
from vla_ros.core.runtime.session import open_session, SessionSettings
from vla_ros.core.runtime.text_encoder import DEFAULT_CACHE_SIZE, TextEncoder
from vla_ros.errors import InferenceError, InputMismatchError, UnsupportedProviderError

LOG = logging.getLogger('vla_ros.runtime')

PROVIDER_ALIASES = {
    'tensorrt': 'TensorrtExecutionProvider', 'trt': 'TensorrtExecutionProvider',
    'cuda': 'CUDAExecutionProvider', 'openvino': 'OpenVINOExecutionProvider',
    'cpu': 'CPUExecutionProvider',
}
_NP_DTYPES = NP_DTYPES


@dataclass(frozen=True)
class PolicyOutput:
    """
    One action chunk.

    :ivar actions: H x A float64 in physical units (``units``), step ``dt`` [s] apart, the first
        one for ``frame_stamp_ns``.
    :ivar gate_weights: [E] mixture-of-experts gate weights (MoE bundles), else None.
    :ivar timings_ms: preprocess, run, postprocess, total [ms].
    """

    actions: np.ndarray
    action_names: tuple[str, ...]
    units: tuple[str, ...]
    kind: str
    dt: float
    frame_stamp_ns: int
    timings_ms: dict[str, float]
    gate_weights: np.ndarray | None = None


def resolve_providers(requested: Sequence[str | tuple[str, dict[str, Any]]]) -> list[Any]:
    """
    Map aliases to onnxruntime provider names; drop unavailable ones (logged), fall back to CPU.

    Raises UnsupportedProviderError for names onnxruntime does not know at all.
    """
    known, available = set(ort.get_all_providers()), set(ort.get_available_providers())
    chosen: list[Any] = []
    for item in requested:
        name, opts = (item, None) if isinstance(item, str) else (item[0], item[1])
        full = PROVIDER_ALIASES.get(name.lower(), name)
        if full not in known:
            raise UnsupportedProviderError(f'unknown execution provider {name!r}; onnxruntime '
                                           f'knows {sorted(known)}')
        if full not in available:
            LOG.warning('execution provider %s is not available in this onnxruntime build '
                        '(available: %s); skipping it', full, sorted(available))
            continue
        chosen.append((full, opts) if opts else full)
    if not any((c if isinstance(c, str) else c[0]) == 'CPUExecutionProvider' for c in chosen):
        chosen.append('CPUExecutionProvider')  # always the last-resort fallback
    return chosen


class PolicyRuntime:
    """Runs a verified policy bundle on Frames. Thread-compatible (one caller at a time)."""

    def __init__(self, bundle: Bundle, *,
                 providers: Sequence[str | tuple[str, dict[str, Any]]] = ('CPUExecutionProvider',),
                 intra_op_threads: int = 1, graph_optimization: str = 'all',
                 text_cache_size: int = DEFAULT_CACHE_SIZE, session: SessionSettings | None = None,
                 text_encoder_resident: bool = False) -> None:
        # ``session`` (all SessionOptions) wins over intra_op_threads / graph_optimization
        settings = self.session_settings = session or SessionSettings(
            intra_op_threads=intra_op_threads, graph_optimization=graph_optimization)
        self.bundle = bundle
        m = self.manifest = bundle.manifest
        self.providers = resolve_providers(providers)
        self._session = open_session(bundle.file(m.policy_file), self.providers,
                                     settings.options())
        self.active_providers = tuple(self._session.get_providers())
        LOG.info('policy %s: requested providers %s -> using %s (%s)', m.model_id,
                 list(providers), list(self.active_providers), settings)
        # The text encoder has its own lock: a new command is embedded while the policy
        # graph runs on another thread (onnxruntime sessions are safe to run concurrently).
        # It is opened per new command unless text_encoder_resident (text_encoder.py).
        self.text_encoder, self.competence = open_language(
            bundle, self.providers, resident=text_encoder_resident, cache_size=text_cache_size)
        self._command = ''
        self._inputs = InputBuilder(m, bundle.path, embed_text=self.embed_text)
        self._output_names = [o.name for o in m.outputs]

    @classmethod
    def from_bundle(cls, path: str | Path, *,
                    providers: Sequence[str | tuple[str, dict[str, Any]]] = (
                        'CPUExecutionProvider',),
                    intra_op_threads: int = 1, graph_optimization: str = 'all'
                    ) -> PolicyRuntime:
        """Load, verify (hashes, manifest vs ONNX) and open a bundle."""
        return cls(load_bundle(path), providers=providers, intra_op_threads=intra_op_threads,
                   graph_optimization=graph_optimization)

    def close(self) -> None:
        """Nothing to stop here (the sessions go with this object); as RuntimeProcess.close."""

    # -- language -------------------------------------------------------------------------
    def set_command(self, text: str) -> None:
        """
        Set the current command; its embedding is computed now and cached.

        Raises :class:`CommandNotUnderstood` (the command stays unset) when the bundle's
        competence check refuses it.
        """
        if text and self.text_encoder is not None:
            verdict = self.judge_command(text)
            if verdict is not None and not verdict.understood:
                raise CommandNotUnderstood(verdict.reason)
        self._command = text

    def judge_command(self, text: str) -> Verdict | None:
        """Return the competence verdict on ``text`` (None: the bundle has no check)."""
        emb = self.embed_text(text)
        return None if self.competence is None else self.competence.judge(text, emb)

    def embed_text(self, text: str) -> np.ndarray:
        """
        Return the [D] float32 embedding of a command (cached per text).

        Safe to call while :meth:`infer` runs on another thread (own lock).
        """
        if self.text_encoder is None:
            raise InferenceError('this bundle has no text encoder')
        return self.text_encoder.embed(text)

    # -- inputs ---------------------------------------------------------------------------
    def build_inputs(self, frame: Frame, *, use_set_command: bool = True,
                     prefix: ActionPrefix | None = None) -> dict[str, np.ndarray]:
        """
        Model inputs (batch 1) for a frame, checked against the manifest.

        The language is ``frame.command``, else the :meth:`set_command` one unless
        ``use_set_command`` is False (then a frame without a command has no language).
        ``prefix``: the committed actions for an ``action_prefix`` input (None: d = 0; ignored
        by a bundle without one).
        """
        feeds = self._inputs.build(frame, self._command if use_set_command else '', prefix)
        for spec in self.manifest.inputs:
            _check_input(spec, feeds[spec.name])
        return feeds

    # -- inference ------------------------------------------------------------------------
    def infer(self, frame: Frame, prefix: ActionPrefix | None = None) -> PolicyOutput:
        """
        Run the policy on one frame. Raises InferenceError (incl. InputMismatchError).

        ``prefix``: the actions committed for the chunk's first steps (bundles with an
        ``action_prefix`` input; the chunk still starts at the frame stamp, prefix included).
        """
        t0 = time.monotonic()
        feeds = self.build_inputs(frame, prefix=prefix)
        t1 = time.monotonic()
        outs = self.run_raw(feeds)
        t2 = time.monotonic()
        m = self.manifest
        actions = to_chunk(outs[m.action_output][0], m, frame)
        gate = outs[m.gate_output][0].copy() if m.gate_output else None
        t3 = time.monotonic()
        timings = {'preprocess': (t1 - t0) * 1e3, 'run': (t2 - t1) * 1e3,
                   'postprocess': (t3 - t2) * 1e3, 'total': (t3 - t0) * 1e3}
        return PolicyOutput(actions=actions, action_names=m.action_names, units=m.action_units,
                            kind=m.action_kind, dt=m.dt, frame_stamp_ns=frame.stamp_ns,
                            timings_ms=timings, gate_weights=gate)

    def infer_batch(self, frames: Sequence[Frame],
                    prefixes: Sequence[ActionPrefix | None] | None = None
                    ) -> list[PolicyOutput]:
        """
        Run the policy once on N frames (the graph's dynamic batch axis), one output each.

        Every frame's inputs are built and checked as in :meth:`infer`; an unusable frame
        raises before anything runs. The timings are those of the whole batch. ``prefixes``:
        one per frame (None: d = 0 for every frame), as :meth:`infer` takes them.
        """
        prefixes = [None] * len(frames) if prefixes is None else list(prefixes)
        if len(prefixes) != len(frames):
            raise InferenceError(f'{len(frames)} frames but {len(prefixes)} prefixes')
        t0 = time.monotonic()
        built = [self.build_inputs(f, prefix=p) for f, p in zip(frames, prefixes)]
        feeds = {k: np.concatenate([b[k] for b in built]) for k in built[0]} if built else {}
        t1 = time.monotonic()
        outs = self.run_raw(feeds) if built else {}
        t2 = time.monotonic()
        m, res = self.manifest, []
        for i, frame in enumerate(frames):
            gate = outs[m.gate_output][i].copy() if m.gate_output else None
            res.append((to_chunk(outs[m.action_output][i], m, frame), gate))
        t3 = time.monotonic()
        timings = {'preprocess': (t1 - t0) * 1e3, 'run': (t2 - t1) * 1e3,
                   'postprocess': (t3 - t2) * 1e3, 'total': (t3 - t0) * 1e3,
                   'batch': float(len(frames))}
        return [PolicyOutput(actions=a, action_names=m.action_names, units=m.action_units,
                             kind=m.action_kind, dt=m.dt, frame_stamp_ns=f.stamp_ns,
                             timings_ms=timings, gate_weights=g)
                for f, (a, g) in zip(frames, res)]

    def run_raw(self, feeds: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
        """Run the policy graph on prepared inputs (any batch); returns every output."""
        try:
            values = self._session.run(self._output_names, feeds)
        except Exception as e:  # noqa: BLE001 -- ORT raises untyped errors
            raise InferenceError(f'onnxruntime run failed: {e}') from e
        return dict(zip(self._output_names, values))


def open_language(bundle: Bundle, providers: Sequence[Any], *, resident: bool = False,
                  cache_size: int = DEFAULT_CACHE_SIZE
                  ) -> tuple[TextEncoder | None, CompetenceCheck | None]:
    """
    Open a bundle's text encoder and its competence check (None, None without one).

    A broken encoder graph fails here (one session for the competence bank).
    """
    m = bundle.manifest
    if not m.text_encoder:
        return None, None
    te = m.text_encoder
    tok = te.get('tokenizer') or {}
    tokenizer = TextTokenizer(tok.get('kind', 'bytes'), max_length=int(tok.get('max_length', 64)),
                              file=bundle.file(tok['file']) if tok.get('file') else None)
    encoder = TextEncoder(bundle.file(te['file']), tokenizer, te['input_names'],
                          te['output_name'], providers, resident=resident,
                          cache_size=cache_size)
    competence = None
    with encoder.hold():
        if te.get('competence'):
            spec = CompetenceSpec.from_manifest(te['competence'])
            competence = CompetenceCheck(spec, encoder.encode)
    return encoder, competence


def _check_input(spec: TensorSpec, arr: np.ndarray) -> None:
    want = _NP_DTYPES.get(spec.dtype)
    if want is not None and arr.dtype != want:
        raise InputMismatchError(f'input {spec.name!r}: dtype {arr.dtype}, manifest says '
                                 f'{spec.dtype}')
    if arr.ndim != len(spec.shape) or any(w not in (-1, g)
                                          for g, w in zip(arr.shape, spec.shape)):
        raise InputMismatchError(f'input {spec.name!r}: shape {list(arr.shape)}, manifest says '
                                 f'{list(spec.shape)}')
    if arr.dtype.kind == 'f' and not np.all(np.isfinite(arr)):
        raise InputMismatchError(f'input {spec.name!r} contains NaN or inf')


__all__ = ['Manifest', 'open_language', 'PolicyOutput', 'PolicyRuntime',
           'resolve_providers']
