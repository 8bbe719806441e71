"""onnxruntime session settings: validation, the options they build, the lean text encoder."""

from __future__ import annotations

import pathlib

import numpy as np
import onnxruntime as ort
import pytest
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.core.runtime.session import (GraphOptimization, open_session, SessionSettings,
                                          text_session_options)
from vla_ros.errors import BundleError, ConfigError

DEFAULT_BUNDLE = pathlib.Path(__file__).resolve().parents[3] / 'models' / 'default'
COMMANDS = ('pick up the red cube', 'push the blue brick', 'could you lift the scarlet cube',
            'make me a sandwich', 'touch the green block', 'pick up the red and blue cube')


def test_settings_build_the_session_options():
    opts = SessionSettings(intra_op_threads=3, inter_op_threads=2, graph_optimization='basic',
                           cpu_mem_arena=False, parallel_execution=True,
                           thread_affinities='1;1').options()
    assert (opts.intra_op_num_threads, opts.inter_op_num_threads) == (3, 2)
    assert opts.graph_optimization_level == ort.GraphOptimizationLevel.ORT_ENABLE_BASIC
    assert not opts.enable_cpu_mem_arena
    assert opts.execution_mode == ort.ExecutionMode.ORT_PARALLEL
    assert opts.get_session_config_entry('session.intra_op.allow_spinning') == '0'
    assert opts.get_session_config_entry('session.intra_op_thread_affinities') == '1;1'
    default = SessionSettings()
    assert default.graph_optimization is GraphOptimization.ALL
    assert default.options().enable_cpu_mem_arena


@pytest.mark.parametrize('kw, match', [
    ({'graph_optimization': 'max'}, "graph_optimization must be one of .* got 'max'"),
    ({'intra_op_threads': -1}, 'intra_op_threads must be >= 0, got -1'),
    ({'thread_affinities': '1'}, "thread_affinities '1' needs intra_op_threads >= 2"),
])
def test_bad_settings_raise_config_errors(kw, match):
    with pytest.raises(ConfigError, match=match):
        SessionSettings(**kw)


def test_a_broken_graph_is_a_bundle_error(tmp_path):
    bad = tmp_path / 'policy.onnx'
    bad.write_bytes(b'not an onnx graph')
    with pytest.raises(BundleError, match='could not create a session for policy.onnx'):
        open_session(bad, ['CPUExecutionProvider'], SessionSettings().options())


def test_lean_text_encoder_keeps_embeddings_and_verdicts_of_the_default_bundle():
    """Folding off and no arena: the same embeddings (fp32 rounding) and the same verdicts."""
    rt = PolicyRuntime.from_bundle(DEFAULT_BUNDLE)
    enc = rt.text_encoder
    lean = [(enc.encode(c), rt.competence.judge(c, enc.encode(c))) for c in COMMANDS]
    opts, disabled = text_session_options()
    assert not opts.enable_cpu_mem_arena and disabled == ('ConstantFolding',)
    full = SessionSettings().options()  # what the text encoder used before
    enc.use_session(open_session(enc.path, rt.providers, full))
    for (emb, verdict), c in zip(lean, COMMANDS):
        ref = enc.encode(c)
        ref_verdict = rt.competence.judge(c, ref)
        assert np.max(np.abs(emb - ref)) < 1e-5, c
        assert (verdict.understood, verdict.nearest) == (ref_verdict.understood,
                                                         ref_verdict.nearest), c
        assert verdict.similarity == pytest.approx(ref_verdict.similarity, abs=1e-5)
    assert any(not v.understood for _, v in lean) and any(v.understood for _, v in lean)


def test_text_encoder_is_opened_per_new_command_and_closed_unless_resident():
    """On demand: one session for the competence bank, one per cache miss, none kept open."""
    rt = PolicyRuntime.from_bundle(DEFAULT_BUNDLE)
    enc = rt.text_encoder
    assert not enc.loaded and enc.opened == 1  # the competence bank
    a = rt.embed_text('pick up the red cube')
    assert enc.opened == 2 and not enc.loaded
    assert rt.embed_text('pick up the red cube') is a and enc.opened == 2  # cached
    resident = PolicyRuntime.from_bundle(DEFAULT_BUNDLE)
    resident.text_encoder.resident = True
    b = resident.embed_text('pick up the red cube')
    assert resident.text_encoder.loaded and np.array_equal(a, b)
    resident.embed_text('push the blue brick')
    assert resident.text_encoder.opened == 2  # the first miss opened it; it stays open
