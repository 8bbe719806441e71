"""
Bench eval's language fields: a held-out failure counts against the words only if they can.

That is when the policy ran another phrasing than a training one of the asked task.
"""

from __future__ import annotations

import pathlib
import re
import sys

from vla_ros.eval.episode_result import EpisodeResult

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1] / 'bench'))
import bench_eval  # noqa: E402, I100


def _ep(command: str, success: bool, reason: str = '', ran: str | None = None) -> EpisodeResult:
    return EpisodeResult(task='pick:red', kind='pick', colour='red', command=command, seed=1,
                         success=success, reason=reason or ('lifted' if success else 'timeout'),
                         duration_s=5.0, wall_s=5.0, latency_ms=10.0, e2e_ms=20.0,
                         control_rate_hz=50.0, frame_rate_hz=10.0, chunks=3,
                         policy_command=command if ran is None else ran)


def _fields(line: str) -> dict[str, float]:
    return {k: float(v) for k, v in re.findall(r'(\w+)=([0-9.]+)', line)}


def test_failure_after_the_right_training_phrasing_is_a_flip_not_a_wrong_task():
    train = [_ep('pick up the red cube', True)] * 4
    words = [
        _ep('please raise the red cube', False, ran='pick up the red cube'),   # world: a flip
        _ep('please raise the red cube', False, ran='push the red cube left'),  # another task
        _ep('please raise the red cube', False, ran='please raise the red cube'),  # raw words
        _ep('please raise the red cube', False, reason='refused: no task of mine', ran=''),
    ]
    multi = [_ep('would you kindly hoist the crimson box', True, ran='pick up the red cube')] * 4
    f = _fields(bench_eval.language_metrics(train, words, multi))
    assert f['wrong_task'] == 2                       # another task's phrasing + raw words
    assert f['wrong_task_rate'] == round(2 / 8, 3)
    assert f['flip_rate'] == round(1 / 8, 3)
    assert f['refused_rate'] == round(1 / 8, 3)
    assert f['misidentified'] == 1
    assert f['multi_word_ratio'] == 1.0 and f['lang_ratio'] == 0.0
