"""
Every node parameter, stated once (ROS-free: no rclpy anywhere in this package).

One table module per node (``policy``, ``sync``, ``sim``, ``inference``, ``multimodal_sync``,
``fake_sensors``, ``sim_microphone``, ``gz_tactile``,
``speech_command``); :data:`NODE_PARAMETERS` says which tables
each node declares. The rclpy side (:mod:`vla_ros.ros.params`) declares them with
descriptors, the config dataclasses of ``vla_ros.core`` take their defaults and range checks
from them, ``vla_ros.cli.param_docs`` writes the docs tables, and :mod:`vla_ros.params.files`
reads params files offline (training, evaluation) without rclpy.
"""

from __future__ import annotations

from vla_ros.params.fake_sensors import FAKE_SENSORS_PARAMETERS
from vla_ros.params.gz_tactile import GZ_TACTILE_PARAMETERS
from vla_ros.params.inference import INFERENCE_PARAMETERS
from vla_ros.params.multimodal_sync import MULTIMODAL_SYNC_PARAMETERS
from vla_ros.params.policy import POLICY_PARAMETERS
from vla_ros.params.sim import RATE_PARAMETERS, SIM_PARAMETERS
from vla_ros.params.sim_microphone import SIM_MICROPHONE_PARAMETERS
from vla_ros.params.spec import (as_mapping, check_values, defaults, ParamSpec, ParamType, spec,
                                 Table, table_names, type_of)
from vla_ros.params.speech_command import SPEECH_COMMAND_PARAMETERS
from vla_ros.params.sync import SYNC_PARAMETERS

# node name -> the tables it declares, in declaration order
NODE_PARAMETERS: dict[str, tuple[Table, ...]] = {
    'vla_policy': (POLICY_PARAMETERS, SYNC_PARAMETERS),
    'multimodal_sync': (MULTIMODAL_SYNC_PARAMETERS, SYNC_PARAMETERS),
    'mujoco_sim': (SIM_PARAMETERS,),
    'vla_inference': (INFERENCE_PARAMETERS,),
    'fake_sensors': (FAKE_SENSORS_PARAMETERS,),
    'sim_microphone': (SIM_MICROPHONE_PARAMETERS,),
    'gz_tactile': (GZ_TACTILE_PARAMETERS,),
    'speech_command': (SPEECH_COMMAND_PARAMETERS,),
}


def node_table(node: str) -> dict[str, ParamSpec]:
    """Every parameter node ``node`` declares, by name (KeyError for an unknown node)."""
    return {name: s for table in NODE_PARAMETERS[node] for name, s in table.items()}


__all__ = [
    'FAKE_SENSORS_PARAMETERS',
    'GZ_TACTILE_PARAMETERS',
    'INFERENCE_PARAMETERS',
    'MULTIMODAL_SYNC_PARAMETERS',
    'NODE_PARAMETERS',
    'POLICY_PARAMETERS',
    'ParamSpec',
    'ParamType',
    'RATE_PARAMETERS',
    'SIM_MICROPHONE_PARAMETERS',
    'SIM_PARAMETERS',
    'SPEECH_COMMAND_PARAMETERS',
    'SYNC_PARAMETERS',
    'Table',
    'as_mapping',
    'check_values',
    'defaults',
    'node_table',
    'spec',
    'table_names',
    'type_of',
]
