"""
The ``action_prefix`` / ``prefix_mask`` inputs: contract checks and how the runtime fills them.

Real onnxruntime on tiny random-weights bundles (one delay-aware, one without the input).
"""

from __future__ import annotations

from helpers.runtime_fixtures import full_frame
import numpy as np
import pytest
from vla_ros.core.bundle.manifest import parse_manifest
from vla_ros.core.bundle.spec_fields import input_specs
from vla_ros.core.bundle.specs import ActionReference
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.core.runtime.prefix import ActionPrefix, prefix_feed
from vla_ros.errors import FormatVersionError, InputMismatchError, PrefixSpecError
import yaml

H, MAX_DELAY = 10, 6


@pytest.fixture(scope='module')
def bundles(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    tmp = tmp_path_factory.mktemp('prefix')
    return {'aware': make_random_bundle(tmp / 'aware', horizon=H, dt=0.1, max_delay=MAX_DELAY),
            'plain': make_random_bundle(tmp / 'plain', horizon=H, dt=0.1)}


@pytest.fixture(scope='module')
def runtime(bundles):
    rt = PolicyRuntime.from_bundle(bundles['aware'])
    rt.set_command('pick up the red cube')
    return rt


def committed(d: int, seed: int = 1) -> ActionPrefix:
    rng = np.random.default_rng(seed)
    return ActionPrefix(rng.uniform(-0.5, 0.5, (d, 7)), d)


def test_the_runtime_normalizes_and_pads_the_prefix(runtime):
    m = runtime.manifest
    p = committed(3)
    feeds = runtime.build_inputs(full_frame(0), prefix=p)
    want = (p.actions - np.asarray(m.action_mean)) / np.asarray(m.action_std)
    np.testing.assert_allclose(feeds['action_prefix'][0, :3], want, rtol=1e-6, atol=1e-6)
    assert not feeds['action_prefix'][0, 3:].any()               # zero-padded to H
    np.testing.assert_array_equal(feeds['prefix_mask'][0], [1] * 3 + [0] * (H - 3))
    assert feeds['action_prefix'].shape == (1, H, 7) and feeds['action_prefix'].dtype == np.float32
    none = runtime.build_inputs(full_frame(0))                   # no prefix: d = 0
    assert not none['action_prefix'].any() and not none['prefix_mask'].any()


def test_a_prefix_longer_than_max_delay_is_clipped(runtime):
    feeds = runtime.build_inputs(full_frame(0), prefix=committed(H))
    assert feeds['prefix_mask'][0].sum() == MAX_DELAY
    assert not feeds['action_prefix'][0, MAX_DELAY:].any()


def test_the_chunk_starts_with_the_prefix_and_depends_on_it(runtime):
    frame = full_frame(0)
    a, b = runtime.infer(frame, committed(4, seed=1)), runtime.infer(frame, committed(4, seed=2))
    # aligned: the chunk starts at the frame stamp, its first d steps ARE the committed ones
    np.testing.assert_allclose(a.actions[:4], committed(4, seed=1).actions, atol=1e-5)
    assert np.abs(a.actions[4:] - b.actions[4:]).max() > 1e-4   # the rest is conditioned
    zero = runtime.infer(frame)
    np.testing.assert_allclose(zero.actions, runtime.infer(frame, ActionPrefix(
        np.zeros((0, 7)), 0)).actions)


def test_a_bad_prefix_is_refused_clearly(runtime):
    with pytest.raises(InputMismatchError, match=r'action prefix shape \[2, 5\]'):
        runtime.infer(full_frame(0), ActionPrefix(np.zeros((2, 5)), 2))
    bad = committed(2).actions.copy()
    bad[1, 0] = np.nan
    with pytest.raises(InputMismatchError, match='NaN'):
        runtime.infer(full_frame(0), ActionPrefix(bad, 2))


def test_a_bundle_without_the_input_is_unchanged(bundles):
    rt = PolicyRuntime.from_bundle(bundles['plain'])
    rt.set_command('pick up the red cube')
    frame = full_frame(0)
    feeds = rt.build_inputs(frame, prefix=committed(3))
    assert 'action_prefix' not in feeds and 'prefix_mask' not in feeds
    np.testing.assert_array_equal(rt.infer(frame).actions, rt.infer(frame, committed(3)).actions)


def test_delta_from_state_and_slice_are_inverted(bundles):
    raw = yaml.safe_load((bundles['aware'] / 'bundle.yaml').read_text())
    raw['action']['reference'] = 'delta_from_state'
    m = parse_manifest(raw)
    assert m.action_post.reference is ActionReference.DELTA_FROM_STATE
    frame = full_frame(0)
    p = committed(2)
    value, mask = prefix_feed(input_specs(m)['action_prefix'], m, frame, p)
    want = (p.actions - frame.joint_positions - np.asarray(m.action_mean)) \
        / np.asarray(m.action_std)
    np.testing.assert_allclose(value[:2], want)
    assert mask.tolist() == [1, 1] + [0] * (H - 2)


@pytest.mark.parametrize('edit, match', [
    (lambda i: i['preprocessing'].update(max_delay=H), 'must be less than the horizon'),
    (lambda i: i.update(shape=[-1, H, 5]), r'!= \[batch, horizon=10, width=7\]'),
    (lambda i: i['preprocessing'].update(max_delay=-1), 'expected an integer >= 0'),
    (lambda i: i['preprocessing'].update(tail='soon'), r"tail: 'soon' is not one of"),
])
def test_bad_prefix_specs_are_refused(bundles, edit, match):
    raw = yaml.safe_load((bundles['aware'] / 'bundle.yaml').read_text())
    edit(next(i for i in raw['inputs'] if i['name'] == 'action_prefix'))
    with pytest.raises(PrefixSpecError, match=match):
        parse_manifest(raw)


def test_a_mask_must_name_an_action_prefix(bundles):
    raw = yaml.safe_load((bundles['aware'] / 'bundle.yaml').read_text())
    mask = next(i for i in raw['inputs'] if i['name'] == 'prefix_mask')
    mask['preprocessing']['prefix'] = 'proprio'
    with pytest.raises(PrefixSpecError, match="'proprio' is not an action_prefix input"):
        parse_manifest(raw)
    v1 = dict(raw, format_version=1)
    mask['preprocessing']['prefix'] = 'action_prefix'
    with pytest.raises(FormatVersionError, match='format_version: 2'):
        parse_manifest(v1)


def test_prefix_inputs_are_not_modalities(runtime):
    m = runtime.manifest
    assert not {'action_prefix', 'prefix_mask', ''} & set(m.modalities)
    assert m.input('action_prefix').preprocessing['max_delay'] == MAX_DELAY


def test_a_planned_tail_fills_the_rows_after_d_and_holds_the_last(bundles):
    from vla_ros.core.bundle.contract import Manifest
    from vla_ros.core.control.latency import LeadEstimator
    from vla_ros.core.control.prefix import PrefixPlanner
    from vla_ros.core.control.scheduler import ChunkScheduler, SchedulerConfig

    raw = yaml.safe_load((bundles['aware'] / 'bundle.yaml').read_text())
    pre = next(i for i in raw['inputs'] if i['name'] == 'action_prefix')['preprocessing']
    pre['tail'] = 'planned'
    m: Manifest = parse_manifest(raw)
    rng = np.random.default_rng(3)
    acts, tail = rng.uniform(-0.5, 0.5, (2, 7)), rng.uniform(-0.5, 0.5, (4, 7))
    value, mask = prefix_feed(input_specs(m)['action_prefix'], m, full_frame(0),
                              ActionPrefix(acts, 2, tail))
    norm = (np.concatenate([acts, tail, np.repeat(tail[-1:], H - 6, 0)])
            - np.asarray(m.action_mean)) / np.asarray(m.action_std)
    np.testing.assert_allclose(value, norm)                  # rows >= d: the plan, then held
    assert mask.tolist() == [1, 1] + [0] * (H - 2)           # only d rows are committed
    zero, _ = prefix_feed(input_specs(parse_manifest(yaml.safe_load(
        (bundles['aware'] / 'bundle.yaml').read_text())))['action_prefix'], m, full_frame(0),
        ActionPrefix(acts, 2, tail))
    assert not zero[2:].any()                                # tail: zero (default) ignores it
    # the planner hands over the rest of the scheduler's plan as the tail
    sched = ChunkScheduler(SchedulerConfig(smoothing='none'))
    chunk = rng.uniform(-0.5, 0.5, (H, 7))
    sched.add_chunk(chunk, 1_000_000_000, 0.1)              # full_frame(s): stamp 1 s + s
    lead = LeadEstimator()
    lead.add(0, 250_000_000)                                 # d = ceil(0.25 s / 0.1 s) = 3
    p = PrefixPlanner(m, sched, lead).plan(full_frame(200_000_000))
    np.testing.assert_array_equal(p.actions, chunk[2:5])
    np.testing.assert_array_equal(p.tail, chunk[5:])
