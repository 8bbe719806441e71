"""
What a bundle asks of the robot config (ROS-free): the checks and fitting of ``build_policy``.

:func:`check_bundle` lists what does not fit (adapter, controller joints, cameras, proprio
joints); :func:`fit_sync` (:func:`fit_tactile`, then :func:`fit_history`) sets the synchronizer
up for the bundle's tactile input and history window.
"""

from __future__ import annotations

from collections.abc import Sequence
import dataclasses

import numpy as np
from vla_ros.core.bundle.contract import Manifest
from vla_ros.core.control.adapters import ActionMapping, AdapterKind, TrajectoryMode
from vla_ros.core.control.config import PolicyConfig
from vla_ros.core.sync.config import SyncConfig
from vla_ros.errors import ConfigError


def fit_tactile(sync_config: SyncConfig, manifest: Manifest) -> SyncConfig:
    """
    Return the sync config with ``tactile_size`` set to the bundle's tactile input size.

    Only when no layout is configured: tactile readings the policy cannot use are then rejected at
    ingest (counted) instead of faulting the runtime.
    """
    spec = next((s for s in manifest.inputs if s.kind == 'tactile'), None)
    if spec is None or sync_config.tactile_layout is not None or sync_config.tactile_size:
        return sync_config
    return dataclasses.replace(sync_config, tactile_size=int(np.prod(spec.shape[1:])))


def fit_history(config: SyncConfig, manifest: Manifest) -> SyncConfig:
    """
    Return ``config`` set up for a bundle's ``history`` section (unchanged without one).

    The buffers are lengthened when the history span does not fit in ``buffer_s``.
    """
    hist = manifest.history
    if hist is None:
        return config
    need = hist.span_s + config.image_slop_s + 0.5
    return dataclasses.replace(config, history_frames=hist.frames,
                               history_spacing_s=hist.spacing_s,
                               buffer_s=max(config.buffer_s, need))


def fit_sync(sync_config: SyncConfig, manifest: Manifest) -> SyncConfig:
    """Return the sync config fitted to the bundle: tactile size, then the history window."""
    return fit_history(fit_tactile(sync_config, manifest), manifest)


def check_bundle(manifest: Manifest, config: PolicyConfig, *, cameras: Sequence[str] = (),
                 joint_names: Sequence[str] = ()) -> list[str]:
    """
    Problems between a bundle manifest and the robot config ([] = compatible).

    Checks: adapter vs action kind, every controller joint (and gripper) produced by the
    bundle, the bundle's cameras configured in sync, proprio joints in ``joint_names``.
    """
    problems: list[str] = []
    try:
        config.adapter.control_mode(manifest.action_kind)
    except ConfigError as e:
        problems.append(str(e))
    try:
        ActionMapping(manifest.action_names, config.adapter)
    except ConfigError as e:
        problems.append(str(e))
    if cameras:
        missing = [c for c in manifest.cameras if c not in cameras]
        if missing:
            problems.append(f'bundle cameras {missing} not configured (sync cameras '
                            f'{list(cameras)})')
    if joint_names:
        missing = [j for j in manifest.joint_names if j not in joint_names]
        if missing:
            problems.append(f'bundle proprio joints {missing} not in sync joint_names '
                            f'{list(joint_names)}')
    if (config.adapter.kind is AdapterKind.JOINT_TRAJECTORY and
            config.adapter.trajectory_mode is TrajectoryMode.CHUNK and manifest.horizon < 2):
        problems.append('trajectory_mode chunk needs a bundle horizon >= 2')
    return problems
