"""ChunkScheduler: one action per tick, time-indexed skipping, thresholds, smoothing, sync."""

import numpy as np
import pytest
from vla_ros.core.control.latency import LeadEstimator
from vla_ros.core.control.scheduler import (ChunkScheduler, SchedulerConfig, SchedulerMode,
                                            Smoothing)
from vla_ros.errors import ConfigError

DT = 0.02
DT_NS = 20_000_000


def ramp(h=10, a=2, offset=0.0):
    return offset + np.arange(h, dtype=float)[:, None] * np.ones((1, a))


def sched(**kw):
    return ChunkScheduler(SchedulerConfig(**kw))


def test_one_action_per_tick_in_order():
    s = sched(smoothing='none')
    s.add_chunk(ramp(), start_ns=0, dt_s=DT)
    got = [s.next_action(k * DT_NS).values[0] for k in range(10)]
    assert got == list(range(10))
    assert s.next_action(10 * DT_NS) is None  # chunk used up -> hold


def test_actions_whose_time_passed_are_skipped():
    s = sched(smoothing='none')
    # the chunk was computed from a frame 3 ticks ago (inference latency)
    s.add_chunk(ramp(), start_ns=0, dt_s=DT)
    a = s.next_action(3 * DT_NS + 1_000_000)
    assert a.index == 3 and a.values[0] == 3.0
    assert s.skipped == 3
    assert s.next_action(4 * DT_NS).index == 4


def test_jitter_does_not_repeat_or_skip_actions():
    s = sched(smoothing='none')
    s.add_chunk(ramp(20), start_ns=0, dt_s=DT)
    rng = np.random.default_rng(0)
    idx = [s.next_action(int(k * DT_NS + rng.uniform(-0.45, 0.45) * DT_NS)).index
           for k in range(15)]
    assert idx == list(range(15))


def test_needs_inference_below_threshold():
    s = sched(smoothing='none', inference_threshold=4)
    assert s.needs_inference(0)  # no chunk
    s.add_chunk(ramp(10), start_ns=0, dt_s=DT)
    assert not s.needs_inference(0)
    for k in range(6):
        s.next_action(k * DT_NS)
    assert s.remaining(6 * DT_NS) == 4 and not s.needs_inference(6 * DT_NS)
    s.next_action(6 * DT_NS)
    assert s.needs_inference(7 * DT_NS)


def test_new_chunk_replaces_old_without_smoothing():
    s = sched(smoothing='none')
    s.add_chunk(ramp(), start_ns=0, dt_s=DT)
    s.next_action(0)
    s.next_action(DT_NS)
    s.add_chunk(ramp(offset=100.0), start_ns=DT_NS, dt_s=DT)
    a = s.next_action(2 * DT_NS)
    assert a.values[0] == 101.0 and a.index == 1


def test_blend_moves_linearly_to_new_chunk():
    s = sched(smoothing='blend', blend_steps=4)
    s.add_chunk(np.zeros((20, 1)), start_ns=0, dt_s=DT)
    s.next_action(0)
    s.add_chunk(np.ones((20, 1)), start_ns=DT_NS, dt_s=DT)
    vals = [s.next_action(k * DT_NS).values[0] for k in range(1, 7)]
    assert vals == pytest.approx([0.25, 0.5, 0.75, 1.0, 1.0, 1.0])


def test_temporal_ensemble_weights_old_chunks_more():
    s = sched(smoothing='temporal_ensemble', ensemble_coeff=0.5)
    s.add_chunk(np.zeros((20, 1)), start_ns=0, dt_s=DT)
    s.next_action(0)
    s.add_chunk(np.ones((20, 1)), start_ns=DT_NS, dt_s=DT)
    v = s.next_action(DT_NS).values[0]
    w0, w1 = 1.0, np.exp(-0.5)
    assert v == pytest.approx(w1 / (w0 + w1))


def test_temporal_ensemble_with_negative_m_weights_new_chunks_more():
    s = sched(smoothing='temporal_ensemble', ensemble_coeff=-1.0)
    s.add_chunk(np.zeros((20, 1)), start_ns=0, dt_s=DT)
    s.next_action(0)
    s.add_chunk(np.ones((20, 1)), start_ns=DT_NS, dt_s=DT)
    v = s.next_action(DT_NS).values[0]
    assert v == pytest.approx(np.e / (1.0 + np.e)) and v > 0.5


def test_temporal_ensemble_single_chunk_is_identity():
    s = sched(smoothing='temporal_ensemble')
    s.add_chunk(ramp(), start_ns=0, dt_s=DT)
    assert s.next_action(2 * DT_NS).values[0] == 2.0


def test_reset_forgets_chunks():
    s = sched()
    s.add_chunk(ramp(), start_ns=0, dt_s=DT)
    s.reset()
    assert s.next_action(0) is None and s.needs_inference(0) and not s.has_chunk


def test_sync_mode_never_skips_and_asks_when_used_up():
    s = sched(mode='sync', smoothing='none')
    s.add_chunk(ramp(3), start_ns=0, dt_s=DT, now_ns=10 * DT_NS)
    assert not s.needs_inference(10 * DT_NS)
    got = [s.next_action(10 * DT_NS + k * 5 * DT_NS).values[0] for k in range(3)]
    assert got == [0, 1, 2]
    assert s.needs_inference(30 * DT_NS)
    assert s.config.mode is SchedulerMode.SYNC


def test_bad_chunks_and_config_are_rejected():
    s = sched()
    with pytest.raises(ValueError, match='shape'):
        s.add_chunk(np.zeros(3), start_ns=0, dt_s=DT)
    with pytest.raises(ValueError, match='dt'):
        s.add_chunk(np.zeros((3, 1)), start_ns=0, dt_s=0)
    s.add_chunk(np.zeros((3, 2)), start_ns=0, dt_s=DT)
    with pytest.raises(ValueError, match='width'):
        s.add_chunk(np.zeros((3, 3)), start_ns=0, dt_s=DT)
    with pytest.raises(ConfigError, match="'bogus'"):
        SchedulerConfig(smoothing='bogus')
    with pytest.raises(ConfigError, match='-1'):
        SchedulerConfig(inference_threshold=-1)
    assert SchedulerConfig(smoothing='blend').smoothing is Smoothing.BLEND


def test_min_execution_steps_defers_the_next_request():
    # a chunk that lands late, below the threshold already (slow policy): not re-requested at
    # once, only after it has served min_execution_steps actions
    s = sched(smoothing='none', inference_threshold=8, min_execution_steps=2)
    s.add_chunk(ramp(10), start_ns=0, dt_s=DT)
    now = 4 * DT_NS  # 6 left < 8, none served
    assert not s.needs_inference(now)
    s.next_action(now)
    assert not s.needs_inference(now + DT_NS // 2)  # one served
    s.next_action(5 * DT_NS)
    assert s.needs_inference(5 * DT_NS + DT_NS // 2)  # two served
    off = sched(smoothing='none', inference_threshold=8, min_execution_steps=0)
    off.add_chunk(ramp(10), start_ns=0, dt_s=DT)
    assert off.needs_inference(now)


def test_min_execution_steps_yields_when_the_rest_would_not_last_the_latency():
    s = sched(smoothing='none', inference_threshold=8, min_execution_steps=5)
    s.add_chunk(ramp(10), start_ns=0, dt_s=DT)
    now = 4 * DT_NS  # 6 actions left = 120 ms
    assert not s.needs_inference(now, lead_ns=100_000_000)
    assert s.needs_inference(now, lead_ns=120_000_000)
    assert not s.needs_inference(0, lead_ns=10**9)  # above the threshold: never
    assert sched().needs_inference(0)  # without a chunk: always
    with pytest.raises(ConfigError, match='min_execution_steps'):
        SchedulerConfig(min_execution_steps=-1)


def test_lead_estimator_is_the_median_and_ignores_clock_jumps():
    est = LeadEstimator(window=3)
    assert est.lead_ns == 0
    for lead in (100, 300, 200, 10_000):  # the window keeps the last 3
        est.add(1_000, 1_000 + lead)
    assert est.lead_ns == 300
    est.add(5_000, 4_000)  # negative: a clock jump
    est.add(0, 10_000_000_000)  # absurd
    assert est.lead_ns == 300
    est.reset()
    assert est.lead_ns == 0
    with pytest.raises(ConfigError):
        LeadEstimator(window=0)
