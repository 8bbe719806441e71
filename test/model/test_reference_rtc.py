"""
RTC on the pi0-shaped flow-matching reference graph, and the guidance math it shares.

The reference graph exported twice from the same seed -- plain and with LeRobot's RTC guidance
(:mod:`vla_ros.rtc_guidance`) -- made into bundles as a person would, run by the real
onnxruntime: the guided bundle follows a committed prefix in its first d actions and, without
one, is the plain bundle.
"""

from __future__ import annotations

from helpers.runtime_fixtures import full_frame
import numpy as np
import pytest
from vla_ros.errors import PrefixSpecError
from vla_ros.rtc_guidance import guidance_weight, prefix_weights, RTCSettings, Schedule

D, H = 4, 50


def _weights(d: int, horizon: int, t: int, schedule: Schedule) -> list[float]:
    w = prefix_weights(np.array([[float(d)]]), np.arange(t, dtype=float)[None], t,
                       RTCSettings(horizon, 10.0, schedule))
    return np.round(w[0], 6).tolist()


def test_prefix_weights_follow_lerobots_schedules():
    # LeRobot's get_prefix_weights(3, 6, 8) per schedule (checked against lerobot 0.4.4 for
    # every d <= T, E in 1..60, T in 5 / 10 / 50: 1820 cases, max |diff| 0)
    assert _weights(3, 6, 8, Schedule.LINEAR) == [1, 1, 1, 0.75, 0.5, 0.25, 0, 0]
    assert _weights(3, 6, 8, Schedule.ZEROS) == [1, 1, 1, 0, 0, 0, 0, 0]
    assert _weights(3, 6, 8, Schedule.ONES) == [1, 1, 1, 1, 1, 1, 0, 0]
    exp = [1, 1, 1] + [round(v * np.expm1(v) / (np.e - 1), 6) for v in (0.75, 0.5, 0.25)]
    assert _weights(3, 6, 8, Schedule.EXP) == exp + [0, 0]
    assert _weights(9, 6, 8, Schedule.LINEAR) == [1] * 6 + [0, 0]   # d clipped to E
    assert _weights(0, 6, 8, Schedule.LINEAR) == [0] * 8            # no prefix: no guidance
    assert guidance_weight(1.0, 10.0) == 10.0                       # tau = 0: the clamp
    assert guidance_weight(0.5, 10.0) == pytest.approx(2.0)
    with pytest.raises(PrefixSpecError, match='max_guidance_weight'):
        RTCSettings(10, 0.0)


@pytest.fixture(scope='module')
def runtimes(tmp_path_factory):
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime
    from vla_ros.model.reference_bundles import make_pi0_bundle

    tmp = tmp_path_factory.mktemp('pi0_rtc')
    out = {}
    for name, rtc in (('plain', None), ('rtc', RTCSettings(execution_horizon=10))):
        rt = PolicyRuntime.from_bundle(make_pi0_bundle(tmp / name, rtc=rtc))
        rt.set_command('pick up the red cube')
        out[name] = rt
    return out


def test_the_guided_flow_follows_the_prefix_and_is_plain_without_one(runtimes):
    from vla_ros.core.runtime.prefix import ActionPrefix

    plain, rtc = runtimes['plain'], runtimes['rtc']
    assert rtc.manifest.input('action_prefix').preprocessing['tail'] == 'planned'
    frame = full_frame(0)
    base = plain.infer(frame).actions
    np.testing.assert_allclose(rtc.infer(frame).actions, base, atol=1e-5)   # d = 0
    std = np.asarray(rtc.manifest.action_std)
    plan = base + 2.0 * std                                 # a plan two std away
    guided = rtc.infer(frame, ActionPrefix(plan[:D], D, plan[D:])).actions
    before = np.abs(base[:D] - plan[:D]) / std
    after = np.abs(guided[:D] - plan[:D]) / std
    assert after.max() < 0.25 * before.min(), (before.min(), after.max())
    moved = np.abs(guided - base) / std
    assert moved[10:].max() < 0.1 * moved[:D].min()         # past E = 10: only attention's echo


def test_rtc_removes_the_jump_where_the_new_chunk_takes_over(runtimes):
    import dataclasses

    from vla_ros.core.runtime.prefix import ActionPrefix

    rt = runtimes['rtc']
    std = np.asarray(rt.manifest.action_std)
    shift = 6                                               # steps the old chunk ran meanwhile
    plain, guided = [], []
    for seed in range(4):
        f1 = full_frame(seed)
        f2 = dataclasses.replace(f1, stamp_ns=f1.stamp_ns + shift * 20_000_000,
                                 images=full_frame(seed + 100).images)   # new image + noise
        old = rt.infer(f1).actions[shift:]                  # what the robot would go on with
        new = rt.infer(f2).actions
        rtc = rt.infer(f2, ActionPrefix(old[:D], D, old[D:])).actions
        plain.append(np.max(np.abs(new[D] - old[D]) / std))   # at the first new action
        guided.append(np.max(np.abs(rtc[D] - old[D]) / std))
    assert max(guided) < 0.1 * min(plain), (plain, guided)
