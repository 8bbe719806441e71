"""
The simulated robot's one configuration: ``config/sim.yaml`` plus explicit overrides.

Every tool that starts or mimics the sim nodes (demo, eval, ``record --expert``) and training
(its sync config) reads the same file the launch file passes. What a tool changes for its own
purpose is an override: validated against the node's declared parameters, printed
(:meth:`NodeParams.describe`), and passed to the node as a second params file (a
node-specific entry in a params file beats a ``-p`` wildcard, so ``-p`` cannot override it).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
import os
from pathlib import Path

from vla_ros.core.control.from_params import policy_config_from_file
from vla_ros.errors import ConfigError
from vla_ros.harness.locate import config_file
from vla_ros.harness.procs import ros_args
from vla_ros.params.files import node_parameters, sim_parameters_from_file
import yaml

SIM_NODE = 'mujoco_sim'
POLICY_NODE = 'vla_policy'


def _nested(flat: Mapping[str, object]) -> dict:
    """Dotted names -> the nested mapping a params file holds."""
    out: dict = {}
    for name, value in flat.items():
        *groups, leaf = name.split('.')
        d = out
        for g in groups:
            d = d.setdefault(g, {})
        d[leaf] = list(value) if isinstance(value, tuple) else value
    return out


def _literal(value: object) -> str:
    if isinstance(value, float):
        return f'{value:g}'
    if isinstance(value, (list, tuple)):
        return '[' + ','.join(_literal(v) for v in value) + ']'
    return str(value).lower() if isinstance(value, bool) else str(value)


@dataclass(frozen=True)
class NodeParams:
    """
    One node's parameters: ``params_file`` (its section for ``node``) + ``overrides``.

    :ivar node: node name (the params-file section).
    :ivar params_file: e.g. ``config/sim.yaml``.
    :ivar overrides: dotted parameter names -> values that replace the file's.
    """

    node: str
    params_file: Path
    overrides: Mapping[str, object] = field(default_factory=dict)

    def values(self) -> dict[str, object]:
        """Return the file's parameters for this node, with the overrides applied."""
        return {**node_parameters(self.params_file, self.node), **self.overrides}

    def describe(self) -> str:
        """One line: ``mujoco_sim: config/sim.yaml + image_width=96 ...``."""
        extra = ' '.join(f'{k}={_literal(v)}' for k, v in self.overrides.items())
        return f'{self.node}: {self.params_file}' + (f' + {extra}' if extra else
                                                     ' (no overrides)')

    def write_overrides(self, directory: str | os.PathLike) -> Path:
        """Write the overrides as a params file ``<directory>/<node>.overrides.yaml``."""
        path = Path(directory) / f'{self.node}.overrides.yaml'
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(yaml.safe_dump(
            {f'/**/{self.node}': {'ros__parameters': _nested(self.overrides)}},  # any namespace
            sort_keys=False))
        return path

    def ros_args(self, directory: str | os.PathLike, namespace: str = '') -> list[str]:
        """
        ``--ros-args --params-file <file> [--params-file <overrides>]`` for the node.

        ``namespace``: the node's (``-r __ns:=``, what launch's ``namespace=`` passes).
        """
        files = [self.params_file]
        if self.overrides:
            files.append(self.write_overrides(directory))
        ns = namespace.strip().strip('/')
        return ros_args(params_files=files) + (['-r', f'__ns:=/{ns}'] if ns else [])


def sim_node_params(overrides: Mapping[str, object] | None = None, *,
                    params_file: str | os.PathLike | None = None) -> NodeParams:
    """``mujoco_sim`` from ``config/sim.yaml`` (or ``params_file``) + validated overrides."""
    path = Path(params_file) if params_file else config_file()
    params = NodeParams(SIM_NODE, path, dict(overrides or {}))
    sim_parameters_from_file(path, node=SIM_NODE, overrides=params.overrides)  # validate
    return params


def policy_node_params(overrides: Mapping[str, object] | None = None, *,
                       params_file: str | os.PathLike | None = None) -> NodeParams:
    """
    ``vla_policy`` from ``config/sim.yaml`` (or ``params_file``) + overrides.

    The overrides are validated as the node validates them (``bundle`` is usually one of the
    overrides).
    """
    path = Path(params_file) if params_file else config_file()
    params = NodeParams(POLICY_NODE, path, dict(overrides or {}))
    policy_config_from_file(path, node=POLICY_NODE, overrides=params.overrides)  # validate
    return params


def sim_values(params: NodeParams) -> dict[str, object]:
    """Every ``mujoco_sim`` parameter of ``params`` (declared defaults filled in)."""
    return sim_parameters_from_file(params.params_file, node=params.node,
                                    overrides=params.overrides)


# The mujoco_sim parameters that shape what a policy sees or must handle (cube_physics, the
# world's hidden cube properties): demonstrations record them (RECORDED_WITH in the data
# directory -> ``provenance.recorded_with`` of the trained bundle) and closed-loop runs of that
# bundle override config/sim.yaml with them.
SENSOR_PARAMETERS = ('cameras', 'image_width', 'image_height', 'camera_rate_hz',
                     'audio_chunk_rate_hz', 'tactile_rate_hz', 'joint_rate_hz', 'cube_physics')
RECORDED_WITH = 'recorded_with.yaml'


def sensor_values(params: NodeParams) -> dict[str, object]:
    """Return the :data:`SENSOR_PARAMETERS` of ``params`` (declared defaults filled in)."""
    values = sim_values(params)
    return {k: values[k] for k in SENSOR_PARAMETERS}


def write_recorded_with(data_dir: str | os.PathLike, params: NodeParams) -> Path:
    """``<data_dir>/recorded_with.yaml``: the sensor parameters of a recording."""
    path = Path(data_dir) / RECORDED_WITH
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump({'mujoco_sim': sensor_values(params)}, sort_keys=False))
    return path


def read_recorded_with(data_dirs: Sequence[str | os.PathLike]) -> dict[str, object]:
    """
    Return the sensor parameters every data directory was recorded with ({} when none says).

    Raises ConfigError when two directories disagree (one policy, one camera setup).
    """
    found: dict[str, dict] = {}
    for d in data_dirs:
        path = Path(d) / RECORDED_WITH
        if path.is_file():
            found[str(d)] = (yaml.safe_load(path.read_text()) or {}).get('mujoco_sim') or {}
    distinct = {yaml.safe_dump(v, sort_keys=True) for v in found.values()}
    if len(distinct) > 1:
        raise ConfigError(f'data recorded with different sensor parameters: {found}')
    return next(iter(found.values()), {})


def recorded_overrides(provenance: Mapping[str, object],
                       params: NodeParams) -> dict[str, object]:
    """
    Return the bundle's ``provenance.recorded_with`` values that differ from ``params``.

    They are what a closed-loop run overrides so the policy sees the sensors it was trained on.
    """
    recorded = provenance.get('recorded_with') or {}
    if not isinstance(recorded, Mapping):
        raise ConfigError(f'bundle provenance.recorded_with must be a mapping, got {recorded!r}')
    unknown = sorted(set(recorded) - set(SENSOR_PARAMETERS))
    if unknown:
        raise ConfigError(f'bundle provenance.recorded_with: unknown parameters {unknown}')
    current = sensor_values(params)
    return {k: v for k, v in recorded.items() if v != current[k]}


def lockstep_setup(params: NodeParams):
    """(WorldConfig, StreamRates) that mimic ``mujoco_sim`` run with ``params`` in lockstep."""
    # optional heavy dependency: mujoco (via vla_ros.sim.lockstep)
    from vla_ros.sim.lockstep import StreamRates
    from vla_ros.sim.world import WorldConfig

    v = sensor_values(params)
    world = WorldConfig(image_width=int(v['image_width']), image_height=int(v['image_height']),
                        cameras=tuple(v['cameras']), cube_physics=str(v['cube_physics']))
    rates = StreamRates(camera_rate_hz=float(v['camera_rate_hz']),
                        audio_chunk_rate_hz=float(v['audio_chunk_rate_hz']),
                        tactile_rate_hz=float(v['tactile_rate_hz']),
                        joint_rate_hz=float(v['joint_rate_hz']))
    return world, rates


def bundle_sim_params(provenance: Mapping[str, object], *,
                      params_file: str | os.PathLike | None = None) -> NodeParams:
    """``mujoco_sim`` as a closed-loop run of a bundle uses it: the file + recorded_with."""
    base = sim_node_params(params_file=params_file)
    return sim_node_params(recorded_overrides(provenance, base), params_file=params_file)


def bundle_provenance(bundle: str | os.PathLike) -> Mapping[str, object]:
    """Return the ``provenance`` mapping of a bundle's bundle.yaml (YAML only: no ONNX)."""
    path = Path(bundle)
    path = path if path.name.endswith('.yaml') else path / 'bundle.yaml'
    try:
        raw = yaml.safe_load(path.read_text()) or {}
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f'cannot read the bundle manifest {path}: {e}') from e
    prov = raw.get('provenance') if isinstance(raw, Mapping) else None
    return prov if isinstance(prov, Mapping) else {}


def launch_sim_params(bundle: str | os.PathLike, *,
                      params_file: str | os.PathLike | None = None,
                      sensors: Mapping[str, object] | None = None) -> NodeParams:
    """
    Return ``mujoco_sim``'s parameters as mujoco.launch.py starts it (as demo and eval do).

    The file, then the bundle's ``provenance.recorded_with`` (the sensors it was trained on),
    then ``sensors`` (launch arguments such as ``image_width``; ``''`` = not given).
    """
    given = {k: v for k, v in (sensors or {}).items() if v not in ('', None)}
    unknown = sorted(set(given) - set(SENSOR_PARAMETERS))
    if unknown:
        raise ConfigError(f'unknown sensor parameters {unknown}; known {SENSOR_PARAMETERS}')
    base = bundle_sim_params(bundle_provenance(bundle), params_file=params_file)
    return sim_node_params({**base.overrides, **given}, params_file=params_file)
