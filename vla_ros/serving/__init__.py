"""
Fleet inference on Ray Serve (``vla_inference`` with ``backend: ray``; docs/distributed.md).

Server side only: importing this package imports ray (requirements/ray.txt); the robot
runtime never does. :mod:`.deployment` is the Serve deployment of a bundle, :mod:`.gateway`
the client ``vla_inference`` sends frames through, :mod:`.cluster` starts Ray nodes and
deploys the bundle (``vla-ros serve``).
"""

from __future__ import annotations

from vla_ros.serving.cluster import (connect, deploy, node_argv, node_env, Replica, replicas,
                                     wait_running)
from vla_ros.serving.deployment import (APP_NAME, build_app, DEPLOYMENT_NAME, PolicyReplica,
                                        ServeConfig)
from vla_ros.serving.gateway import GatewayStats, ServeGateway

__all__ = [
    'APP_NAME',
    'DEPLOYMENT_NAME',
    'GatewayStats',
    'PolicyReplica',
    'Replica',
    'ServeConfig',
    'ServeGateway',
    'build_app',
    'connect',
    'deploy',
    'node_argv',
    'node_env',
    'replicas',
    'wait_running',
]
