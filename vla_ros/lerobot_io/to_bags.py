"""
Staged LeRobot episodes -> MCAP bags (robot side).

So LeRobot datasets replay through our sync core and nodes and train with ``vla-ros train``.

One bag per episode, frame i at ``t0 + i / fps``: each camera on ``/camera/<cam>/image_raw``,
the state on ``/joint_states`` (its names), the audio of the frame period as one AudioChunk,
the taxels on ``/tactile/array`` (layout from the taxel names or our sidecar), the task on
``/vla/command`` when it changes. Actions: with our arm + gripper names, the arm target as a
JointTrajectory and the gripper as forward commands (what ``vla-ros record`` writes; the
gripper max effort too when the names end with ``gripper_max_effort``); any
other robot's actions go to ``/lerobot/action`` (Float64MultiArray, the action names in the
bag's metadata via the sidecar file ``lerobot_action_names.txt``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from vla_ros import constants as C
from vla_ros.data import bagio
from vla_ros.lerobot_io.staging import IMAGE_PREFIX, read_episode, StagingMeta

NS = 1_000_000_000
T0_NS = NS  # first frame at 1 s (stamp 0 reads as "unset" to some drivers)
ACTION_TOPIC = '/lerobot/action'


def _topics(meta: StagingMeta) -> dict[str, str]:
    t = dict(bagio.DEFAULT_TOPICS)
    for c in meta.cameras:
        t[bagio.bag_topic(C.camera_topic(c))] = 'sensor_msgs/msg/Image'
    t[ACTION_TOPIC] = 'std_msgs/msg/Float64MultiArray'
    return t


def write_episode_bag(meta: StagingMeta, ep: dict[str, np.ndarray], bag: Path) -> int:
    """Write one staged episode as a bag; returns the number of messages."""
    n = len(ep['action'])
    step = NS / meta.fps
    names = list(meta.action_names)
    effort = names[-1:] == [C.GRIPPER_EFFORT_ACTION]
    ours = names[:len(names) - effort] == [*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT]
    arm_idx = list(range(6))
    task = ''
    pads = [(str(p), int(r), int(c)) for p, r, c in meta.tactile_pads]
    with bagio.BagWriter(bag, _topics(meta)) as w:
        for i in range(n):
            t = T0_NS + int(round(i * step))
            if str(ep['task'][i]) != task:
                task = str(ep['task'][i])
                w.write(C.COMMAND_TOPIC, t, bagio.string_msg(task))
            q = ep['state'][i].astype(np.float64)
            v = (ep['velocity'][i] if 'velocity' in ep else np.zeros_like(q)).astype(np.float64)
            w.write(C.JOINT_STATES_TOPIC, t, bagio.joint_state_msg(t, meta.joint_names, q, v))
            if meta.audio_samples and 'audio' in ep:
                first = t - int(round(meta.audio_samples / meta.audio_rate * NS))
                w.write(C.AUDIO_TOPIC, t, bagio.audio_msg(first, ep['audio'][i],
                                                          meta.audio_rate))
            if pads and 'tactile' in ep:
                w.write(C.TACTILE_TOPIC, t, bagio.tactile_msg(t, ep['tactile'][i], pads))
            a = ep['action'][i].astype(np.float64)
            if ours:
                w.write(bagio.ARM_TRAJECTORY_TOPIC, t, bagio.trajectory_msg(
                    t, C.DEFAULT_ARM_JOINTS, a[arm_idx], step / NS))
                w.write(bagio.GRIPPER_COMMANDS_TOPIC, t, bagio.float_array_msg([a[6]]))
                if effort:
                    w.write(bagio.GRIPPER_EFFORT_COMMANDS_TOPIC, t,
                            bagio.float_array_msg([a[7]]))
            else:
                w.write(ACTION_TOPIC, t, bagio.float_array_msg(a))
            # images last: a frame is assembled when its primary image arrives, and the
            # other streams of that instant must be in by then (as a live robot's are)
            for c in meta.cameras:
                w.write(C.camera_topic(c), t, bagio.image_msg(
                    t, ep[IMAGE_PREFIX + c][i], f'{c}_camera_optical_frame'))
        count = w.count
    if not ours:
        (bag / 'lerobot_action_names.txt').write_text('\n'.join(meta.action_names) + '\n')
    return count


def staging_to_bags(staging: Path, out: Path,
                    progress: Callable[[int, Path, int], None] | None = None) -> list[Path]:
    """Write every staged episode to ``out/episode_NNNNNN`` bags; return their paths."""
    meta = StagingMeta.read(staging)
    out.mkdir(parents=True, exist_ok=True)
    bags = []
    for i in range(meta.episodes):
        bag = out / f'episode_{i:06d}'
        write_episode_bag(meta, read_episode(staging, i), bag)
        bags.append(bag)
        if progress:
            progress(i, bag, meta.episodes)
    return bags
