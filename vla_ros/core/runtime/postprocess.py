"""
Action output -> chunk in physical units (ROS- and torch-free).

:func:`to_chunk` takes the graph's action output ``[horizon, width]``, keeps the ``slice``
columns of a padded output, un-normalizes (``a * std + mean``) and, for ``reference:
delta_from_state``, adds the state at the frame's stamp to the ``delta_joints`` columns, so
that everything downstream -- the scheduler, the ``~/action_chunk`` preview and the safety
filter -- sees absolute targets.
"""

from __future__ import annotations

import numpy as np
from vla_ros.core.bundle.contract import Manifest
from vla_ros.core.bundle.specs import ActionPost, ActionReference
from vla_ros.core.frame import Frame
from vla_ros.errors import InferenceError, InputMismatchError


def to_chunk(raw: np.ndarray, m: Manifest, frame: Frame) -> np.ndarray:
    """
    Return the ``[horizon, len(action_names)]`` float64 chunk for one frame.

    Raises InferenceError for a wrong shape or non-finite values, InputMismatchError when a
    delta chunk has no state to add to.
    """
    post = m.action_post or ActionPost(len(m.action_names), 0, len(m.action_names))
    norm = np.asarray(raw, np.float64)
    if norm.shape != (m.horizon, post.width):
        raise InferenceError(f'policy output {m.action_output!r} has shape '
                             f'{list(norm.shape)}, manifest says [{m.horizon}, {post.width}]')
    norm = norm[:, post.start:post.stop]
    if not np.all(np.isfinite(norm)):
        raise InferenceError(f'policy {m.model_id} produced non-finite actions '
                             f'({int(np.sum(~np.isfinite(norm)))} values)')
    actions = norm * np.asarray(m.action_std) + np.asarray(m.action_mean)
    if post.reference is ActionReference.DELTA_FROM_STATE:
        actions += state_offset(m.action_names, post.delta_joints, frame)[None, :]
    return actions


def state_offset(names: tuple[str, ...], delta: tuple[str, ...], frame: Frame) -> np.ndarray:
    """Return ``[A]``: the joint position for each ``delta`` action, 0 for the others."""
    if frame.joint_positions is None or not frame.present.get('joints', False):
        raise InputMismatchError(f'delta_from_state actions need the joint state at the '
                                 f'frame stamp {frame.stamp_ns} ns; the frame has none')
    pos = dict(zip(frame.joint_names, np.asarray(frame.joint_positions, np.float64)))
    absent = [n for n in delta if n not in pos]
    if absent:
        raise InputMismatchError(f'delta_from_state joints {absent} are not in the frame '
                                 f'(has {list(frame.joint_names)})')
    return np.array([pos[n] if n in delta else 0.0 for n in names])
