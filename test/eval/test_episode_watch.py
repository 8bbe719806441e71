"""EpisodeWatch: what an episode runner hears, fed plain messages (no ROS)."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
from vla_ros.core.bundle.competence import REFUSAL_PREFIX
from vla_ros.eval.episode_watch import EpisodeWatch
from vla_ros.sim.tasks import TaskState


def _state(t: float) -> SimpleNamespace:
    st = TaskState(seed=7, episode=1, sim_time=t, predicates={}, objects={},
                   tcp_position=[0.0, 0.0, 0.0], gripper_opening=0.0, pad_force={})
    return SimpleNamespace(data=st.to_json())


def _status(state: str, command: str = '', reason: str = '') -> SimpleNamespace:
    return SimpleNamespace(state_name=state, command=command, reason=reason)


def _image(value: int, h: int = 2, w: int = 3) -> SimpleNamespace:
    return SimpleNamespace(data=bytes([value]) * (h * w * 3), height=h, width=w)


def test_states_statuses_and_the_refusal_of_one_episode():
    w = EpisodeWatch()
    assert w.latest() is None and w.status is None and w.state_name() == ''
    w.on_state(_state(0.1))
    w.on_status(_status('running', 'lift the red cube'))
    w.start_episode(record_video=False)   # the last episode's are forgotten, not the status
    assert w.states_since(0) == [] and w.status_count() == 0 and w.state_name() == 'running'
    w.on_state(_state(0.5))
    w.on_state(_state(0.6))
    assert [s.sim_time for s in w.states_since(1)] == [0.6] and w.latest().sim_time == 0.6
    assert w.refusal() == ''
    w.on_status(_status('idle', reason=f'{REFUSAL_PREFIX}: it names no colour I know'))
    assert w.refusal().startswith(REFUSAL_PREFIX)
    assert w.stopped_status(0).state_name == 'idle' and w.stopped_status(1) is None
    w.forget_status()
    assert w.status is None and w.status_count() == 1


def test_video_frames_side_by_side_only_while_wanted():
    w = EpisodeWatch()
    w.on_image('front', _image(1))
    w.start_episode(record_video=True)
    w.on_image('front', _image(1))      # no wrist image yet: the front alone
    w.on_image('wrist', _image(2))
    w.on_image('front', _image(3))      # front | wrist
    w.stop_video()
    w.on_image('front', _image(4))
    hist, frames = w.take_episode()
    assert hist == [] and len(frames) == 1 and frames[0].shape == (2, 6, 3)
    assert np.all(frames[0][:, :3] == 3) and np.all(frames[0][:, 3:] == 2)
    assert w.take_episode()[1] == []    # taken
