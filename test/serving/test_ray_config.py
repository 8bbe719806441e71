"""
The Ray Serve backend's configuration and start-up errors, without a cluster (seconds).

Bad values are a clear ConfigError / ServingError; a gateway pointed at an address where no
Ray head listens fails at once (``ray.init`` alone retries there for minutes); the node
commands are what docs/distributed.md says.
"""

from __future__ import annotations

import socket
import time

import pytest
from vla_ros.errors import ConfigError, ServingError
from vla_ros.serving.cluster import check_reachable, node_argv, RAY_SYSTEM_CONFIG
from vla_ros.serving.deployment import build_app, ServeConfig


@pytest.mark.parametrize('field,value,quoted', [
    ('replicas', 0, 'replicas must be >= 1, got 0'),
    ('replica_cpus', 0.0, 'replica_cpus must be > 0'),
    ('max_batch', 0, 'max_batch must be >= 1'),
    ('batch_wait_ms', -1.0, 'batch_wait_ms must be in [0, 1000], got -1.0'),
])
def test_ray_serve_config_rejects_bad_values_quoting_them(field, value, quoted):
    with pytest.raises(ConfigError, match=quoted.replace('[', r'\[').replace(']', r'\]')):
        ServeConfig(bundle='models/default', **{field: value})


def test_ray_app_carries_replicas_cpus_and_spread():
    app = build_app(ServeConfig(bundle='/b', replicas=3, replica_cpus=2.0,
                                max_replicas_per_node=1, max_batch=4))
    d = app._bound_deployment
    assert d.num_replicas == 3
    assert d.ray_actor_options['num_cpus'] == 2.0
    assert d._deployment_config.max_ongoing_requests == 8  # a batch waiting, one running
    assert d._replica_config.max_replicas_per_node == 1


def _closed_port() -> int:
    with socket.socket() as s:
        s.bind(('127.0.0.1', 0))
        return s.getsockname()[1]  # nothing listens once it is closed


def test_ray_gateway_without_a_head_fails_at_once_saying_what_to_start():
    t0 = time.monotonic()
    with pytest.raises(ServingError, match='no Ray head at 127.0.0.1:.*vla-ros serve head'):
        check_reachable(f'127.0.0.1:{_closed_port()}')
    assert time.monotonic() - t0 < 5.0
    with pytest.raises(ServingError, match='expected HOST:PORT'):
        check_reachable('headhost')


def test_ray_node_commands_head_and_worker():
    head = node_argv(node_ip='10.0.0.1', num_cpus=1, temp_dir='/tmp/r', head=True, port=6390)
    assert head[1:3] == ['start', '--block'] and '--head' in head and '--port=6390' in head
    assert '--num-cpus=1' in head and '--node-ip-address=10.0.0.1' in head
    assert any(a.startswith('--system-config=') and '"health_check_period_ms": '
               f'{RAY_SYSTEM_CONFIG["health_check_period_ms"]}' in a for a in head)
    worker = node_argv(node_ip='', num_cpus=2, temp_dir=None, head=False,
                       address='10.0.0.1:6390')
    assert '--address=10.0.0.1:6390' in worker and '--head' not in worker
    assert not any(a.startswith('--node-ip-address') for a in worker)
    with pytest.raises(ServingError, match='needs the head address'):
        node_argv(node_ip='', num_cpus=1, temp_dir=None, head=False)
