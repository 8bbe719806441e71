"""
The committed action prefix -> the ``action_prefix`` / ``prefix_mask`` inputs (ROS-free).

Real-time chunking (docs/bundle.md, "Action prefix"): while a chunk is computed the robot keeps
executing the previous one, so the first ``d`` steps of the new chunk are already decided. The
control side (:mod:`vla_ros.core.control.prefix`) hands them over as an :class:`ActionPrefix`
in the bundle's physical action space (what :class:`PolicyOutput.actions
<vla_ros.core.runtime.policy_runtime.PolicyOutput>` holds); :func:`prefix_feed` applies the
inverse of the output's post-processing (:func:`~vla_ros.core.runtime.postprocess.to_chunk`):
the state offset of ``delta_from_state`` removed, ``(a - mean) / std``, the ``slice`` columns
of the output width, rows ``>= d`` zero -- or, for a ``tail: planned`` prefix (inference-time
RTC of a flow-matching graph), the rest of the executing plan, its last action held.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from vla_ros.core.bundle.contract import Manifest
from vla_ros.core.bundle.specs import ActionPost, ActionReference, PrefixSpec, PrefixTail
from vla_ros.core.frame import Frame
from vla_ros.core.runtime.postprocess import state_offset
from vla_ros.errors import InputMismatchError


@dataclass(frozen=True)
class ActionPrefix:
    """
    The actions committed for the first steps of the chunk being asked for.

    :ivar actions: [d, A] float64 in the bundle's physical action space and ``action_names``
        order; row ``k`` is due at ``frame stamp + k * dt``. ``d`` = 0: nothing committed.
    :ivar delay_steps: the delay the control side estimated, in steps (>= ``len(actions)``:
        fewer rows when the executing chunk ends before it).
    :ivar tail: [n, A] what the scheduler serves after those rows (rows d, d+1, ...), same
        space; read only by ``tail: planned`` prefixes. None: nothing planned.
    """

    actions: np.ndarray
    delay_steps: int
    tail: np.ndarray | None = None

    @property
    def steps(self) -> int:
        """Return d, the committed steps."""
        return int(self.actions.shape[0])


def prefix_feed(spec: PrefixSpec, m: Manifest, frame: Frame,
                prefix: ActionPrefix | None) -> tuple[np.ndarray, np.ndarray]:
    """
    Return the ``action_prefix`` value ``[H, W]`` and its mask ``[H]`` (1 = committed) for a frame.

    ``prefix`` None (the first chunk, a source that sends none) is d = 0: zeros. Rows beyond
    ``spec.max_delay`` are dropped (the policy never saw longer prefixes) -- with ``tail:
    planned`` they and ``prefix.tail`` fill the rows after d, the last one held to H. Raises
    InputMismatchError for a prefix of the wrong width or with non-finite values.
    """
    h, a = spec.horizon, len(m.action_names)
    value = np.zeros((h, spec.width), np.float64)
    mask = np.zeros(h, np.float64)
    if prefix is None or prefix.steps == 0:
        return value, mask
    acts = np.asarray(prefix.actions, np.float64)
    if acts.ndim != 2 or acts.shape[1] != a:
        raise InputMismatchError(f'action prefix shape {list(acts.shape)}: expected [d, {a}] '
                                 f'({", ".join(m.action_names)})')
    if not np.all(np.isfinite(acts)):
        raise InputMismatchError('action prefix contains NaN or inf')
    d = min(acts.shape[0], spec.max_delay)
    if spec.tail is PrefixTail.PLANNED:
        acts = _with_tail(acts, prefix.tail, h)
    else:
        acts = acts[:d]
    post = m.action_post or ActionPost(a, 0, a)
    if post.reference is ActionReference.DELTA_FROM_STATE:
        acts = acts - state_offset(m.action_names, post.delta_joints, frame)[None, :]
    value[:len(acts), post.start:post.stop] = (acts - np.asarray(m.action_mean)) \
        / np.asarray(m.action_std)
    mask[:d] = 1.0
    return value, mask


def _with_tail(acts: np.ndarray, tail: np.ndarray | None, h: int) -> np.ndarray:
    """Return ``[H, A]``: the committed rows, then the planned tail, the last row held."""
    if tail is not None and len(tail):
        tail = np.asarray(tail, np.float64)
        if tail.shape[1:] != acts.shape[1:] or not np.all(np.isfinite(tail)):
            raise InputMismatchError(f'action prefix tail {list(tail.shape)}: expected '
                                     f'[n, {acts.shape[1]}] finite values')
        acts = np.concatenate([acts, tail])
    acts = acts[:h]
    return np.concatenate([acts, np.repeat(acts[-1:], h - len(acts), axis=0)])
