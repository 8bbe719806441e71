"""
Read a ROS 2 params file the way a node would (without a node).

The sections that apply to a node name (``/**``, ``/**/name``, ``name``, ``/name``), nested keys
flattened to dotted parameter names. Tools (offline rollout, eval, training) use it to run the
same configuration as the nodes: ``config/sim.yaml`` stays the one source.
"""

from __future__ import annotations

from collections.abc import Mapping
import os

from vla_ros.core.control.config import PolicyConfig
from vla_ros.core.sync.config import SyncConfig
from vla_ros.errors import ConfigError
import yaml


def flatten(d: Mapping, prefix: str = '') -> dict[str, object]:
    """Nested ``ros__parameters`` mapping -> dotted names (``controller.kind``) -> values."""
    out: dict[str, object] = {}
    for k, v in d.items():
        if isinstance(v, Mapping):
            out.update(flatten(v, f'{prefix}{k}.'))
        else:
            out[f'{prefix}{k}'] = v
    return out


def node_parameters(path: str | os.PathLike, node: str) -> dict[str, object]:
    """Parameters the file gives node ``node`` (later, more specific sections win)."""
    try:
        with open(path) as f:
            doc = yaml.safe_load(f) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f'cannot read params file {path}: {e}') from e
    out: dict[str, object] = {}
    for key in ('/**', f'/**/{node}', node, f'/{node}'):
        section = doc.get(key)
        if isinstance(section, Mapping):
            out.update(flatten(section.get('ros__parameters') or {}))
    return out


def _merge(table: Mapping, given: Mapping[str, object], what: str) -> dict[str, object]:
    unknown = sorted(set(given) - set(table) - {'use_sim_time'})
    if unknown:
        raise ConfigError(f'{what}: unknown parameters {unknown}')
    values = {name: s.default for name, s in table.items()}
    for name, value in given.items():
        if name in table:
            spec_type = table[name].type.name
            values[name] = float(value) if spec_type == 'DOUBLE' else (
                [float(v) for v in value] if spec_type == 'DOUBLE_ARRAY' else value)
    return values


def policy_config_from_file(path: str | os.PathLike, *, node: str = 'vla_policy',
                            overrides: Mapping[str, object] | None = None
                            ) -> tuple[PolicyConfig, SyncConfig]:
    """
    Return (PolicyConfig, SyncConfig) of ``node`` in a params file, plus ``overrides``.

    ``overrides`` have dotted names; everything is validated exactly as the node validates it.
    """
    from vla_ros.nodes.policy_params import POLICY_PARAMETERS, config_from_policy_values
    from vla_ros.nodes.sync_params import SYNC_PARAMETERS, config_from_values

    given = {**node_parameters(path, node), **(overrides or {})}
    table = {**POLICY_PARAMETERS, **SYNC_PARAMETERS}
    values = _merge(table, given, f'{path} [{node}]')
    return (config_from_policy_values({k: values[k] for k in POLICY_PARAMETERS}),
            config_from_values({k: values[k] for k in SYNC_PARAMETERS}))


def sim_parameters_from_file(path: str | os.PathLike, *, node: str = 'mujoco_sim',
                             overrides: Mapping[str, object] | None = None
                             ) -> dict[str, object]:
    """
    Return every ``mujoco_sim`` parameter: declared defaults, the file's values, overrides.

    Unknown names are a ConfigError, as for the policy.
    """
    from vla_ros.nodes.sim_params import SIM_PARAMETERS

    given = {**node_parameters(path, node), **(overrides or {})}
    return _merge(SIM_PARAMETERS, given, f'{path} [{node}]')
