"""
onnxruntime session settings of the policy runtime (ROS-free).

:class:`SessionSettings` is the validated set of ``SessionOptions`` the runtime uses for the
policy graph; :func:`text_session_options` gives the lean options of the text encoder (run once
per new command, never on the control path). docs/policy.md ("Inference threads and memory")
has the measurements behind the defaults.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import ctypes
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import onnxruntime as ort
from vla_ros.errors import BundleError, ConfigError
from vla_ros.params.policy import POLICY_PARAMETERS

_P = POLICY_PARAMETERS  # vla_policy's defaults (vla_inference states its own where they differ)
# SessionSettings field -> its parameter (of vla_policy; vla_inference has a subset)
SESSION_PARAMETERS = {
    'intra_op_threads': 'intra_op_threads', 'inter_op_threads': 'onnxruntime.inter_op_threads',
    'graph_optimization': 'onnxruntime.graph_optimization',
    'allow_spinning': 'onnxruntime.allow_spinning', 'cpu_mem_arena': 'onnxruntime.cpu_mem_arena',
    'parallel_execution': 'onnxruntime.parallel_execution',
    'thread_affinities': 'onnxruntime.thread_affinities'}


class GraphOptimization(str, Enum):
    """onnxruntime graph optimisation level."""

    DISABLE = 'disable'
    BASIC = 'basic'
    EXTENDED = 'extended'
    ALL = 'all'


_LEVELS = {
    GraphOptimization.DISABLE: ort.GraphOptimizationLevel.ORT_DISABLE_ALL,
    GraphOptimization.BASIC: ort.GraphOptimizationLevel.ORT_ENABLE_BASIC,
    GraphOptimization.EXTENDED: ort.GraphOptimizationLevel.ORT_ENABLE_EXTENDED,
    GraphOptimization.ALL: ort.GraphOptimizationLevel.ORT_ENABLE_ALL,
}


@dataclass(frozen=True)
class SessionSettings:
    """
    SessionOptions of the policy graph.

    :ivar intra_op_threads: threads of one operator (0 = onnxruntime's choice, one per core).
        The caller's thread is one of them, so 1 = no thread pool at all.
    :ivar inter_op_threads: threads running independent operators (only with
        ``parallel_execution``).
    :ivar graph_optimization: :class:`GraphOptimization` level.
    :ivar allow_spinning: intra-op pool threads spin-wait for work between operators
        (onnxruntime's default). Off: they sleep, and leave the CPU to the control thread.
    :ivar cpu_mem_arena: keep freed tensors in onnxruntime's arena for the next run (faster
        repeated runs; the arena keeps its peak size for the life of the session).
    :ivar parallel_execution: ORT_PARALLEL execution mode (else sequential).
    :ivar thread_affinities: ``session.intra_op_thread_affinities`` ('' = not pinned): the
        logical processors of each pool thread, e.g. ``'1;2'`` for 3 intra-op threads.
    """

    intra_op_threads: int = _P['intra_op_threads'].default
    inter_op_threads: int = _P['onnxruntime.inter_op_threads'].default
    graph_optimization: GraphOptimization = GraphOptimization(
        _P['onnxruntime.graph_optimization'].default)
    allow_spinning: bool = _P['onnxruntime.allow_spinning'].default
    cpu_mem_arena: bool = _P['onnxruntime.cpu_mem_arena'].default
    parallel_execution: bool = _P['onnxruntime.parallel_execution'].default
    thread_affinities: str = _P['onnxruntime.thread_affinities'].default

    def __post_init__(self) -> None:
        try:
            object.__setattr__(self, 'graph_optimization',
                               GraphOptimization(self.graph_optimization))
        except ValueError as e:
            raise ConfigError(f'graph_optimization must be one of '
                              f'{[g.value for g in GraphOptimization]}, got '
                              f'{self.graph_optimization!r}') from e
        for name in ('intra_op_threads', 'inter_op_threads'):
            if int(getattr(self, name)) < 0:
                raise ConfigError(f'{name} must be >= 0, got {getattr(self, name)!r}')
        for name, param in SESSION_PARAMETERS.items():  # the rest of the range: the spec
            _P[param].check(getattr(self, name), label=name)
        if self.thread_affinities and self.intra_op_threads < 2:
            raise ConfigError(f'thread_affinities {self.thread_affinities!r} needs '
                              f'intra_op_threads >= 2 (got {self.intra_op_threads}): the '
                              'calling thread is never pinned by onnxruntime')

    @classmethod
    def from_values(cls, values: Mapping[str, object]) -> SessionSettings:
        """Build the settings from parameter values (those of :data:`SESSION_PARAMETERS`)."""
        return cls(**{f: values[p] for f, p in SESSION_PARAMETERS.items() if p in values})

    def options(self) -> ort.SessionOptions:
        """Build the onnxruntime SessionOptions."""
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = int(self.intra_op_threads)
        opts.inter_op_num_threads = int(self.inter_op_threads)
        opts.graph_optimization_level = _LEVELS[self.graph_optimization]
        opts.enable_cpu_mem_arena = bool(self.cpu_mem_arena)
        opts.execution_mode = (ort.ExecutionMode.ORT_PARALLEL if self.parallel_execution
                               else ort.ExecutionMode.ORT_SEQUENTIAL)
        opts.add_session_config_entry('session.intra_op.allow_spinning',
                                      '1' if self.allow_spinning else '0')
        opts.add_session_config_entry('session.inter_op.allow_spinning',
                                      '1' if self.allow_spinning else '0')
        if self.thread_affinities:
            opts.add_session_config_entry('session.intra_op_thread_affinities',
                                          self.thread_affinities)
        return opts


def text_session_options() -> tuple[ort.SessionOptions, tuple[str, ...]]:
    """
    Lean options of the text encoder: (SessionOptions, optimizers to disable).

    The text encoder runs once per new command (its result is cached), so memory matters more
    than speed: basic optimisation without ``ConstantFolding`` keeps fp16 weights as they are in
    the file (folding their fp16 -> fp32 casts doubles them), and without the memory arena the
    per-run fp32 copies are freed after each command. One intra-op thread, no spinning.
    """
    opts = SessionSettings(graph_optimization=GraphOptimization.BASIC,
                           cpu_mem_arena=False).options()
    opts.enable_mem_pattern = False
    return opts, ('ConstantFolding',)


def release_free_memory() -> bool:
    """
    Return the C heap's free pages to the OS (glibc ``malloc_trim(0)``); False elsewhere.

    Closing a session or loading a bundle frees tens of MB that glibc would otherwise keep in
    the heap, where it counts as the process's RSS.
    """
    try:
        return bool(ctypes.CDLL('libc.so.6').malloc_trim(0))
    except (OSError, AttributeError):
        return False


def open_session(path: Path, providers: Sequence[Any], opts: ort.SessionOptions, *,
                 disabled_optimizers: Sequence[str] = ()) -> ort.InferenceSession:
    """Create a session; onnxruntime's untyped errors become :class:`BundleError`."""
    try:
        return ort.InferenceSession(str(path), sess_options=opts, providers=list(providers),
                                    disabled_optimizers=list(disabled_optimizers) or None)
    except Exception as e:  # noqa: BLE001 -- ORT raises its own untyped errors
        raise BundleError(f'onnxruntime could not create a session for {path.name}: {e}') from e
