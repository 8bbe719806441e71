"""
A Ray cluster for the policy: start a head or a worker on this host, deploy the bundle.

One command per host (``vla-ros serve head`` / ``vla-ros serve worker``; docs/distributed.md):
:func:`node_argv` builds the ``ray start --block`` command line (the process stays in the
foreground and takes the node down with it), :func:`deploy` runs the Serve application from a
driver on a cluster host and :func:`replicas` lists where its replicas run.

``RAY_SYSTEM_CONFIG`` shortens the head's node health checks: a host whose link is down is
declared dead in about ``period x threshold`` = 1.5 s instead of Ray's default ~15 s, and its
replicas are restarted elsewhere where there is room.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
import json
import os
from pathlib import Path
import signal
import socket
import subprocess
import sys
import time

import ray
from ray import serve
from ray._private import state as ray_gcs_state
from ray.serve.schema import ApplicationStatus
from vla_ros.errors import ServingError
from vla_ros.serving.deployment import APP_NAME, build_app, DEPLOYMENT_NAME, ServeConfig

DEFAULT_PORT = 6379
OBJECT_STORE_BYTES = 200 * 1024 * 1024  # frames are small; Ray's default is 30 % of RAM
RAY_SYSTEM_CONFIG = {'health_check_period_ms': 500, 'health_check_failure_threshold': 3,
                     'health_check_timeout_ms': 1000}
POLL_S = 0.2
STOP_GRACE_S = 1.5  # after SIGTERM, then after SIGKILL
CONNECT_CHECK_S = 3.0  # the head's GCS port must accept a TCP connection within this


@dataclass(frozen=True)
class Replica:
    """One replica actor: its state, host and process."""

    actor_id: str
    state: str      # ALIVE, DEPENDENCIES_UNREADY, PENDING_CREATION, RESTARTING, DEAD
    node_ip: str
    pid: int


def ray_executable() -> str:
    """Return the ``ray`` command of this interpreter's environment."""
    path = Path(sys.executable).parent / 'ray'
    if not path.exists():
        raise ServingError(f'no ray command at {path}: install requirements/ray.txt '
                           '(make setup)')
    return str(path)


def node_argv(*, node_ip: str, num_cpus: int, temp_dir: str | None, head: bool,
              address: str = '', port: int = DEFAULT_PORT, num_gpus: int | None = None,
              ) -> list[str]:
    """
    Return the ``ray start --block`` command of a head (``head``) or a worker (``address``).

    ``node_ip``: this host's address on the cluster network ('' = Ray picks); ``num_cpus``:
    CPUs Ray may give replicas here; ``temp_dir``: Ray's session directory (short: it holds
    unix sockets; None = /tmp/ray).
    """
    argv = [ray_executable(), 'start', '--block', f'--num-cpus={num_cpus}',
            f'--object-store-memory={OBJECT_STORE_BYTES}', '--disable-usage-stats']
    if node_ip:
        argv.append(f'--node-ip-address={node_ip}')
    if temp_dir:
        argv.append(f'--temp-dir={temp_dir}')
    if num_gpus is not None:
        argv.append(f'--num-gpus={num_gpus}')
    if head:
        return argv + ['--head', f'--port={port}', '--include-dashboard=false',
                       f'--system-config={json.dumps(RAY_SYSTEM_CONFIG)}']
    if not address:
        raise ServingError('a worker needs the head address (HOST:PORT)')
    return argv + [f'--address={address}']


def node_env(base: Mapping[str, str] | None = None) -> dict[str, str]:
    """Return the environment of a Ray node process (no usage reports, quiet logs)."""
    env = dict(os.environ if base is None else base)
    env.update({'RAY_USAGE_STATS_ENABLED': '0', 'RAY_SERVE_LOG_TO_STDERR': '0'})
    return env


def start_node(argv: list[str], env: Mapping[str, str] | None = None, *,
               log: Path | None = None) -> subprocess.Popen:
    """
    Start a :func:`node_argv` command in a process group of its own (see stop_node).

    ``log``: a file for its output (default: this process's stdout and stderr).
    """
    out = open(log, 'w') if log is not None else None  # noqa: SIM115 - the child keeps it
    try:
        return subprocess.Popen(argv, env=node_env(env), start_new_session=True, stdout=out,
                                stderr=subprocess.STDOUT if out else None)
    finally:
        if out is not None:
            out.close()


def _descendants(pid: int) -> list[int]:
    """Return the processes below ``pid`` (children, grandchildren, ...), from /proc."""
    children: dict[int, list[int]] = {}
    for stat in Path('/proc').glob('[0-9]*/stat'):
        try:
            fields = stat.read_text().rsplit(')', 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    out, todo = [], [pid]
    while todo:
        for c in children.get(todo.pop(), []):
            out.append(c)
            todo.append(c)
    return out


def stop_node(proc: subprocess.Popen) -> None:
    """
    Take a node down: SIGTERM to its process group, SIGKILL to what is left after a moment.

    ``ray start --block`` does not take its GCS, raylet and agents down on SIGTERM (measured
    with Ray 2.60), and the replica and controller processes have process groups of their
    own, so every process below the node (read from /proc first) is signalled. Done within
    ~3 s (a supervisor's stop timeout is often 5 s).
    """
    below = _descendants(proc.pid)
    try:
        os.killpg(proc.pid, signal.SIGTERM)
    except ProcessLookupError:
        pass
    try:
        proc.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        pass
    for pid in [proc.pid, *below]:
        try:
            os.kill(pid, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass
    try:
        proc.wait(timeout=STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        pass


def check_reachable(address: str, timeout_s: float = CONNECT_CHECK_S) -> None:
    """
    Raise ServingError unless something accepts TCP connections at ``HOST:PORT``.

    ``ray.init`` on an address nobody listens at retries for minutes; this fails in seconds.
    ``auto`` (the cluster this host belongs to) is not checked.
    """
    if address in ('', 'auto'):
        return
    host, sep, port = address.rpartition(':')
    if not sep or not port.isdigit():
        raise ServingError(f'ray address {address!r}: expected HOST:PORT')
    try:
        socket.create_connection((host, int(port)), timeout=timeout_s).close()
    except OSError as e:
        raise ServingError(f'no Ray head at {address} ({e}): start it with `vla-ros serve '
                           'head`, or check ray.address') from e


def connect(address: str, *, wait_s: float = 0.0) -> None:
    """Join the cluster at ``address`` as a driver (once per process); wait for its head."""
    if ray.is_initialized():
        return
    deadline = time.monotonic() + wait_s
    while True:
        try:
            check_reachable(address)
            break
        except ServingError:
            if time.monotonic() >= deadline:
                raise
            time.sleep(POLL_S)
    try:
        ray.init(address=address, logging_level='WARNING', log_to_driver=False,
                 configure_logging=False)
    except (ConnectionError, RuntimeError, ValueError) as e:
        raise ServingError(f'no Ray cluster at {address!r}: {e}') from e


def deploy(config: ServeConfig, address: str, *, app: str = APP_NAME,
           timeout_s: float | None = 120.0) -> None:
    """
    Deploy the bundle on the cluster (no HTTP proxy: the gateway calls it through a handle).

    Waits until every replica runs (ServingError after ``timeout_s``); None: do not wait
    (replicas stay pending until hosts with free CPUs join).
    """
    connect(address)
    serve.start(http_options={'location': 'NoServer'})
    serve._run(build_app(config), name=app, route_prefix=None, _blocking=False)
    if timeout_s is not None:
        wait_running(config.replicas, app=app, timeout_s=timeout_s)


def wait_running(count: int, *, app: str = APP_NAME, timeout_s: float = 120.0) -> list[Replica]:
    """Wait until the app is RUNNING with ``count`` live replicas; return them."""
    deadline = time.monotonic() + timeout_s
    status = None
    while time.monotonic() < deadline:
        status = serve.status().applications.get(app)
        alive = [r for r in replicas(app) if r.state == 'ALIVE']
        if status is not None and status.status == ApplicationStatus.RUNNING \
                and len(alive) >= count:
            return alive
        if status is not None and status.status == ApplicationStatus.DEPLOY_FAILED:
            raise ServingError(f'deploying {app!r} failed: {status.message}')
        time.sleep(POLL_S)
    raise ServingError(f'{app!r} not running with {count} replicas after {timeout_s:g} s: '
                       f'{status.status if status else "no such app"}, replicas '
                       f'{replicas(app)}')


def replicas(app: str = APP_NAME) -> list[Replica]:
    """
    Return the replica actors of the app's policy deployment (all states).

    Read from the GCS actor table (Ray's state API needs the dashboard process, which the
    nodes here do not start).
    """
    prefix = f'SERVE_REPLICA::{app}#{DEPLOYMENT_NAME}#'
    out = []
    for a in ray_gcs_state.actors().values():
        if (a.get('Name') or '').startswith(prefix):
            out.append(Replica(actor_id=a['ActorID'], state=a['State'],
                               node_ip=a['Address']['IPAddress'], pid=int(a['Pid'] or 0)))
    return out
