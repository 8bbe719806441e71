"""
PolicyConfig (and the embedded SyncConfig) from parameter values: a node's or a params file's.

ROS-free: a node reads its values through :mod:`vla_ros.ros.params`, tools (offline rollout,
eval, training) through :mod:`vla_ros.params.files`; both build the configs here, so one
params file configures the node and the tools the same way.
"""

from __future__ import annotations

from collections.abc import Mapping
import os

from vla_ros.core.control.adapters import ADAPTER_PARAMETERS, AdapterConfig
from vla_ros.core.control.config import (FIELD_PARAMETERS, LIMIT_KEYS, parse_joint_limits,
                                         PolicyConfig)
from vla_ros.core.control.scheduler import FIELDS as SCHEDULER_FIELDS, SchedulerConfig
from vla_ros.core.sync.config import sync_config_from_values, SyncConfig
from vla_ros.params import POLICY_PARAMETERS, SYNC_PARAMETERS
from vla_ros.params.files import node_values


def policy_config_from_values(values: Mapping[str, object]) -> PolicyConfig:
    """
    Build a PolicyConfig from values keyed like :data:`~vla_ros.params.POLICY_PARAMETERS`.

    Raises :class:`~vla_ros.errors.ConfigError` quoting bad values.
    """
    g = values.__getitem__
    limits = parse_joint_limits(list(g('limits.joints')), {
        k: list(g(f'limits.{k}')) for k in LIMIT_KEYS})
    scheduler = SchedulerConfig(**{f: g(f'scheduler.{f}') for f in SCHEDULER_FIELDS})
    adapter = AdapterConfig(
        joints=tuple(g('controller.joints')) if g('controller.kind') != 'twist' else (),
        **{f: g(p) for f, p in ADAPTER_PARAMETERS.items()})
    fields = {f: POLICY_PARAMETERS[p].check(g(p)) * scale if scale != 1 else g(p)
              for f, (p, scale) in FIELD_PARAMETERS.items()}
    return PolicyConfig(scheduler=scheduler, adapter=adapter,
                        joint_limits={k: v for k, v in limits.items() if v}, **fields)


def policy_config_from_file(path: str | os.PathLike, *, node: str = 'vla_policy',
                            overrides: Mapping[str, object] | None = None
                            ) -> tuple[PolicyConfig, SyncConfig]:
    """
    Return (PolicyConfig, SyncConfig) of ``node`` in a params file, plus ``overrides``.

    ``overrides`` have dotted names; everything is validated exactly as the node validates it.
    """
    values = node_values(path, 'vla_policy', overrides=overrides, section=node)
    return (policy_config_from_values({k: values[k] for k in POLICY_PARAMETERS}),
            sync_config_from_values({k: values[k] for k in SYNC_PARAMETERS}))
