"""
Command competence: the manifest section, the verdicts, and the refusal through runtime + loop.

The verdict tests use a small hand-made embedding (semantic one-hot of the verb + the grounded
colour part) so every similarity is known exactly; the runtime/loop tests use a real exported
bundle with a competence section written into its manifest.
"""

from __future__ import annotations

import numpy as np
import pytest
from vla_ros.core.bundle.competence import (CommandNotUnderstood, CompetenceCheck, CompetenceSpec,
                                            REFUSAL_PREFIX)
from vla_ros.errors import BundleManifestError

VERBS = ('pick', 'push', 'touch', 'lift')
HUES = {'red': 0.0, 'crimson': -6.0, 'green': 122.0, 'jade': 158.0, 'blue': 223.0,
        'purple': 286.0}
TRAINING = ('pick up the red cube', 'pick up the green cube', 'push the blue cube',
            'touch the red cube')


def embed(text: str) -> np.ndarray:
    """Semantic part: one-hot of the verbs (0.1 everywhere for none); colour part: mean hue."""
    words = text.split()
    sem = np.array([1.0 if v in words else 0.0 for v in VERBS]) + 0.1
    hues = [np.deg2rad(HUES[w]) for w in words if w in HUES]
    col = (np.mean([[np.cos(h), np.sin(h), 0.0] for h in hues], axis=0) if hues
           else np.zeros(3))
    if 'white' in words:
        col = np.array([0.0, 0.0, 1.0])
    return np.concatenate([sem, col]).astype(np.float32)


def check(**kw) -> CompetenceCheck:
    spec = CompetenceSpec(TRAINING, kw.pop('min_similarity', 0.9), semantic_dims=4,
                          colour_offset=4, **kw)
    return CompetenceCheck(spec, embed)


def judge(c: CompetenceCheck, text: str):
    return c.judge(text, embed(text))


def test_training_commands_and_neighbouring_hues_are_understood():
    c = check()
    v = judge(c, 'pick up the red cube')
    assert v.understood and v.nearest == 'pick up the red cube' and v.similarity > 0.999
    v = judge(c, 'pick up the crimson cube')        # 6 deg from red
    assert v.understood and v.nearest == 'pick up the red cube'
    v = judge(c, 'pick up the jade cube')           # 36 deg from green: nearest is green
    assert v.understood and v.nearest == 'pick up the green cube'


def test_far_commands_are_refused_with_the_nearest_and_the_similarity():
    c = check()
    v = judge(c, 'lift the red cube')               # a verb no training command has
    assert not v.understood
    assert v.reason == (f'{REFUSAL_PREFIX} (nearest: "{v.nearest}", {v.similarity:.2f})')
    assert v.similarity < 0.9


def test_colour_rules():
    c = check()
    v = judge(c, 'pick up the purple cube')         # 63 deg from blue
    assert not v.understood and 'deg from every colour' in v.reason
    assert v.reason.startswith(REFUSAL_PREFIX)
    assert 'it names no colour' in judge(c, 'pick up the cube').reason
    assert 'more than one colour' in judge(c, 'pick up the red green cube').reason
    assert 'deg from every colour' in judge(c, 'pick up the white cube').reason  # 90 deg
    wide = check(max_colour_angle_deg=70.0)
    assert judge(wide, 'pick up the purple cube').understood


def test_without_a_colour_part_the_check_is_plain_cosine():
    spec = CompetenceSpec(TRAINING, 0.9)
    c = CompetenceCheck(spec, lambda t: embed(t)[:4])
    assert c.judge('pick up the cube', embed('pick up the cube')[:4]).understood
    assert not c.judge('lift it', embed('lift it')[:4]).understood


@pytest.mark.parametrize('raw, what', [
    ({'commands': [], 'min_similarity': 0.5}, 'non-empty list'),
    ({'commands': ['a'], 'min_similarity': 'high'}, 'min_similarity'),
    ({'commands': ['a']}, 'min_similarity'),
    ({'commands': ['a'], 'min_similarity': 2.0}, 'in [-1, 1]'),
    ({'commands': ['a'], 'min_similarity': 0.5, 'max_colour_angle_deg': 0}, '(0, 180]'),
    ({'commands': ['a'], 'min_similarity': 0.5, 'threshold': 1}, 'unknown keys'),
])
def test_bad_manifest_sections_name_the_problem(raw, what):
    with pytest.raises(BundleManifestError, match=re_escape(what)):
        CompetenceSpec.from_manifest(raw)


def re_escape(s: str) -> str:
    import re
    return re.escape(s)


def test_manifest_round_trip_and_colour_offset_must_fit():
    spec = CompetenceSpec(TRAINING, 0.45, 4, 4, 50.0)
    assert CompetenceSpec.from_manifest(spec.to_manifest()) == spec
    with pytest.raises(BundleManifestError, match='does not fit'):
        CompetenceCheck(CompetenceSpec(TRAINING, 0.5, 4, 6), embed)


@pytest.fixture(scope='module')
def strict_bundle(tmp_path_factory):
    """Make a random bundle whose competence accepts its two training commands only."""
    from helpers.bundles import make_random_bundle
    from vla_ros.core.bundle.contract import MANIFEST_NAME
    from vla_ros.core.bundle.manifest import write_manifest
    import yaml
    d = make_random_bundle(tmp_path_factory.mktemp('competence'))
    raw = yaml.safe_load((d / MANIFEST_NAME).read_text())
    raw['text_encoder']['competence'] = {
        'commands': ['pick up the red cube', 'push the blue cube left'],
        'min_similarity': 0.9999}
    raw.pop('files'), raw.pop('format_version')
    write_manifest(d, raw)
    return d


def test_runtime_and_loop_refuse_and_hold(strict_bundle):
    from vla_ros import constants as C
    from vla_ros.core.control.adapters import AdapterConfig
    from vla_ros.core.control.chunk_source import LocalChunkSource
    from vla_ros.core.control.config import CommandAction, PolicyConfig
    from vla_ros.core.control.loop import PolicyLoop
    from vla_ros.core.control.safety import SafetyState
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime
    rt = PolicyRuntime.from_bundle(strict_bundle)
    rt.set_command('pick up the red cube')
    with pytest.raises(CommandNotUnderstood, match=REFUSAL_PREFIX):
        rt.set_command('make me a sandwich')
    cfg = PolicyConfig(bundle=str(strict_bundle), control_rate_hz=50.0,
                       adapter=AdapterConfig(joints=C.DEFAULT_ARM_JOINTS,
                                             gripper_controller='gripper_controller'),
                       max_command_rate_hz=0.0)
    loop = PolicyLoop(LocalChunkSource(rt), cfg, clock=lambda: 10**10)
    loop.activate()
    loop.on_joint_state(C.DEFAULT_ARM_JOINTS + (C.DEFAULT_GRIPPER_JOINT,), np.zeros(7))
    out = loop.on_command('push the blue cube left', 10**10)
    assert out.action is CommandAction.RUN
    out = loop.on_command('make me a sandwich', 10**10)
    assert out.action is CommandAction.REJECT and out.detail.startswith(REFUSAL_PREFIX)
    assert loop.command == '' and loop.reject_reason == out.detail
    tick = loop.tick(10**10)
    # nothing to run: the loop holds (no command is sent before the first measured frame)
    assert tick.state in (SafetyState.IDLE, SafetyState.HOLDING)
    assert tick.command is None or tick.command.hold
