"""
Read a ROS 2 params file the way a node would (without a node, without rclpy).

The sections that apply to a node name (``/**``, ``/**/name``, ``name``, ``/name``), nested keys
flattened to dotted parameter names, checked against the node's parameter table (type, range,
choices) and completed with the defaults. Tools (offline rollout, eval, training) use it to run
the same configuration as the nodes: ``config/sim.yaml`` stays the one source. The configs
built from these values: :func:`vla_ros.core.control.from_params.policy_config_from_file`.
"""

from __future__ import annotations

from collections.abc import Mapping
import os

from vla_ros.errors import ConfigError
from vla_ros.params import node_table, Table
import yaml

# Parameters every rclpy node has; a params file may set them for any node.
BUILTIN_PARAMETERS = ('use_sim_time',)


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


def merge_values(table: Table, given: Mapping[str, object], what: str) -> dict[str, object]:
    """
    Every parameter of ``table``: its default, or the checked value ``given`` has for it.

    Unknown names are a ConfigError naming ``what``; so is a value of the wrong type or out of
    range (the message quotes it).
    """
    unknown = sorted(set(given) - set(table) - set(BUILTIN_PARAMETERS))
    if unknown:
        raise ConfigError(f'{what}: unknown parameters {unknown}')
    values = {name: s.value for name, s in table.items()}
    for name, value in given.items():
        if name in table:
            try:
                values[name] = table[name].check(value)
            except ConfigError as e:
                raise ConfigError(f'{what}: {e}') from e
    return values


def node_values(path: str | os.PathLike, node: str, *,
                overrides: Mapping[str, object] | None = None,
                section: str | None = None) -> dict[str, object]:
    """
    Every parameter of node ``node``: declared defaults, the file's values, then overrides.

    ``section`` reads another node name's section of the file (default: ``node``).
    """
    name = section or node
    given = {**node_parameters(path, name), **(overrides or {})}
    return merge_values(node_table(node), given, f'{path} [{name}]')


def sim_parameters_from_file(path: str | os.PathLike, *, node: str = 'mujoco_sim',
                             overrides: Mapping[str, object] | None = None
                             ) -> dict[str, object]:
    """
    Return every ``mujoco_sim`` parameter: declared defaults, the file's values, overrides.

    Unknown names are a ConfigError, as for the policy.
    """
    return node_values(path, 'mujoco_sim', overrides=overrides, section=node)
