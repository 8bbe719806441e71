"""Per-modality weights by switching modalities off (core.runtime.attribution), real ORT."""

from __future__ import annotations

from helpers.bundles import make_random_bundle
from helpers.runtime_fixtures import full_frame
import numpy as np
import pytest
from vla_ros.core.runtime.attribution import attribution_keys, LiveAttribution, PresenceAttribution
from vla_ros.core.runtime.masking import mask_frame
from vla_ros.core.runtime.policy_runtime import PolicyRuntime


@pytest.fixture(scope='module', params=['moe', 'early'])
def runtime(request, tmp_path_factory):
    path = make_random_bundle(tmp_path_factory.mktemp(request.param), fusion=request.param)
    return PolicyRuntime.from_bundle(path)


def test_keys_are_the_switchable_presence_entries(runtime):
    keys = attribution_keys(runtime)
    assert 'joints' not in keys and keys
    assert set(keys) <= {'image/front', 'audio', 'tactile', 'language'}


def test_weights_sum_to_one_and_equal_the_unbatched_variants(runtime):
    attr = PresenceAttribution(runtime)
    frame = full_frame(3)
    w = attr.compute(frame)
    assert w.relied_on_any and w.weights.sum() == pytest.approx(1.0)
    assert np.all(w.weights >= 0) and np.all(w.present)
    # the same numbers by hand: one ordinary infer per switched-off frame
    base = runtime.infer(frame).actions
    std = np.asarray(runtime.manifest.action_std)
    want = [np.mean(np.abs(base - runtime.infer(mask_frame(frame, [k])).actions) / std)
            for k in attr.keys]
    assert w.deltas == pytest.approx(want, rel=1e-4, abs=1e-7)
    if runtime.manifest.gate_output:
        assert w.gate_weights is not None and w.gate_weights.sum() == pytest.approx(1.0)


def test_an_absent_modality_weighs_nothing(runtime):
    attr = PresenceAttribution(runtime)
    w = attr.compute(full_frame(4, audio=False))
    i = attr.keys.index('audio')
    assert not w.present[i] and w.weights[i] == 0.0 and w.deltas[i] == 0.0
    assert w.weights.sum() == pytest.approx(1.0)


def test_live_attribution_is_rate_capped_and_skips_slow_policies(runtime):
    live = LiveAttribution(runtime, rate_hz=2.0)
    f = full_frame(5)
    assert live.maybe(f, 1_000_000_000, last_run_ms=1.0) is not None
    assert live.maybe(f, 1_200_000_000, last_run_ms=1.0) is None      # 0.2 s < 0.5 s
    assert live.maybe(f, 1_500_000_000, last_run_ms=1.0) is not None
    m = runtime.manifest
    slow_ms = live.max_ms / (len(live.attr.keys) + 1) * 1.01          # just over budget
    assert live.maybe(f, 3_000_000_000, last_run_ms=slow_ms) is None
    assert live.skipped_slow == 1 and live.max_ms == pytest.approx(0.1 * m.horizon * m.dt * 1e3)
    assert LiveAttribution(runtime, rate_hz=0.0).maybe(f, 9_000_000_000, 1.0) is None


def test_language_is_switched_off_even_when_the_runtime_holds_the_command(runtime):
    runtime.set_command('pick up the red cube')   # as PolicyLoop does on a command
    try:
        attr = PresenceAttribution(runtime)
        w = attr.compute(full_frame(6))
        i = attr.keys.index('language')
        assert w.present[i] and w.deltas[i] > 0.0, w
    finally:
        runtime.set_command('')
