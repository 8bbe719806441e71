"""
PolicyLoop with ``command_tasks``: a command runs as its task's canonical phrasing or is refused.

Real ONNX bundle (tiny, random weights), real WordNet files, the sim's task table; no ROS.
"""

from __future__ import annotations

import pytest
from vla_ros import constants as C
from vla_ros.core.control.adapters import AdapterConfig
from vla_ros.core.control.chunk_source import LocalChunkSource
from vla_ros.core.control.config import CommandAction, PolicyConfig
from vla_ros.core.control.loop import PolicyLoop
from vla_ros.core.language import IntentIdentifier, WordNet
from vla_ros.core.runtime.policy_runtime import PolicyRuntime
from vla_ros.sim.task_suite import task_table


@pytest.fixture(scope='module')
def parts(tmp_path_factory):
    from helpers.bundles import make_random_bundle
    bundle = make_random_bundle(tmp_path_factory.mktemp('intent') / 'b')
    return bundle, IntentIdentifier(task_table(), None, lexicon=WordNet(), lexical_weight=1.0)


def make_loop(parts, instruction: str) -> PolicyLoop:
    bundle, intent = parts
    config = PolicyConfig(bundle=str(bundle), control_rate_hz=50.0, max_command_rate_hz=0.0,
                          command_instruction=instruction,
                          adapter=AdapterConfig(joints=C.DEFAULT_ARM_JOINTS))
    loop = PolicyLoop(LocalChunkSource(PolicyRuntime.from_bundle(bundle)), config,
                      clock=lambda: 0, intent=intent)
    loop.activate()
    return loop


def test_an_identified_command_runs_as_the_canonical_training_phrasing(parts):
    loop = make_loop(parts, 'canonical')
    out = loop.on_command('the scarlet brick, would you kindly hoist it up', 0)
    assert (out.action, out.detail) == (CommandAction.RUN, 'pick up the red cube')
    assert loop.command == 'pick up the red cube'
    assert loop.source.runtime._command == 'pick up the red cube'   # what the graph sees


def test_raw_instruction_keeps_the_text_but_still_refuses(parts):
    loop = make_loop(parts, 'raw')
    text = 'please shove the navy box to the left'
    assert loop.on_command(text, 0).detail == text and loop.command == text
    out = loop.on_command('push the navy box', 0)   # which way?
    assert out.action is CommandAction.REJECT and 'push_left' in out.detail
    assert loop.command == '' and loop.reject_reason == out.detail


def test_stop_is_never_identified(parts):
    loop = make_loop(parts, 'canonical')
    loop.on_command('lift the red cube', 0)
    assert loop.on_command('stop', 0).action is CommandAction.STOP
