"""
``vla-ros serve``: the Ray Serve cluster behind ``vla_inference`` (``backend: ray``).

One command per host (docs/distributed.md, "Ray Serve"):

* ``vla-ros serve head --bundle DIR --replicas N``: starts the Ray head on this host and
  deploys the bundle (N replicas, ``--replica-cpus`` CPUs = intra-op threads each, Serve's
  batching); replicas wait for room until enough workers have joined. Runs until Ctrl-C,
  which takes the head (and the app) down.
* ``vla-ros serve worker --address HEAD:6379``: joins this host to the cluster; replicas are
  placed on it as Serve needs them. Runs until Ctrl-C.
* ``vla-ros serve status --address HEAD:6379``: where the replicas run.

Then ``vla_inference --ros-args -p backend:=ray -p ray.address:=HEAD:6379`` on the head host
is the gateway the robots talk to over DDS, as before. Every host needs this checkout (same
path) with ``make setup`` done and the bundle at the same path.
"""

from __future__ import annotations

import argparse
import signal
import subprocess
import sys
import time

from vla_ros.errors import ServingError
from vla_ros.serving.cluster import (connect, DEFAULT_PORT, deploy, node_argv, replicas,
                                     start_node, stop_node, wait_running)
from vla_ros.serving.deployment import APP_NAME, ServeConfig

HEAD_START_S = 60.0  # the head's GCS must accept a driver within this


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest='role', required=True, metavar='ROLE',
                                help='head (start + deploy), worker (join), status')
    head = sub.add_parser('head', help='start the Ray head here and deploy the bundle')
    head.add_argument('--bundle', required=True, help='policy bundle directory (same path on '
                      'every host)')
    head.add_argument('--replicas', type=int, default=1, help='replicas across the cluster')
    head.add_argument('--replica-cpus', type=float, default=1.0,
                      help='CPUs per replica = its onnxruntime intra-op threads')
    head.add_argument('--replica-gpus', type=float, default=0.0, help='GPUs per replica')
    head.add_argument('--per-node', type=int, default=0,
                      help='at most this many replicas per host (0 = no limit)')
    head.add_argument('--max-batch', type=int, default=8, help='most frames in one run')
    head.add_argument('--batch-wait-ms', type=float, default=5.0,
                      help='wait this long for more frames after the first [ms]')
    head.add_argument('--providers', nargs='+', default=['CPUExecutionProvider'],
                      help='onnxruntime execution providers, in order')
    head.add_argument('--port', type=int, default=DEFAULT_PORT, help="the head's GCS port")
    head.add_argument('--app', default=APP_NAME, help='Serve application name')
    worker = sub.add_parser('worker', help='join this host to the cluster at --address')
    worker.add_argument('--address', required=True, help='the head, HOST:PORT')
    for p in (head, worker):
        p.add_argument('--num-cpus', type=int, default=1,
                       help='CPUs of this host Ray may give replicas')
        p.add_argument('--node-ip', default='', help="this host's address on the cluster "
                       "network ('' = Ray picks)")
        p.add_argument('--temp-dir', default=None, help="Ray's session directory")
    status = sub.add_parser('status', help='list the replicas and where they run')
    status.add_argument('--address', default='auto', help='the head, HOST:PORT')
    status.add_argument('--app', default=APP_NAME, help='Serve application name')


def _wait_head(address: str, proc: subprocess.Popen) -> None:
    deadline = time.monotonic() + HEAD_START_S
    while True:
        if proc.poll() is not None:
            raise ServingError(f'ray start --head exited with {proc.returncode}')
        try:
            connect(address)
            return
        except ServingError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.5)


def run(args: argparse.Namespace) -> int:
    if args.role == 'status':
        connect(args.address)
        for r in replicas(args.app):
            print(f'{r.state:<20} {r.node_ip or "-":<16} pid {r.pid}  {r.actor_id}')
        return 0
    head = args.role == 'head'
    argv = node_argv(node_ip=args.node_ip, num_cpus=args.num_cpus, temp_dir=args.temp_dir,
                     head=head, address='' if head else args.address,
                     port=args.port if head else DEFAULT_PORT)
    # SIGTERM (a supervisor, a namespace torn down) ends the command as Ctrl-C does, so the
    # node below is taken down with it
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    proc = start_node(argv)
    try:
        if head:
            config = ServeConfig(
                bundle=args.bundle, replicas=args.replicas, replica_cpus=args.replica_cpus,
                replica_gpus=args.replica_gpus, max_replicas_per_node=args.per_node,
                max_batch=args.max_batch, batch_wait_ms=args.batch_wait_ms,
                providers=tuple(args.providers))
            address = f'{args.node_ip or "127.0.0.1"}:{args.port}'
            _wait_head(address, proc)
            deploy(config, address, app=args.app, timeout_s=None)
            print(f'[serve] {args.app!r} deploying {args.replicas} replica(s) of '
                  f'{args.bundle}; workers join with: vla-ros serve worker --address '
                  f'{address}', flush=True)
            alive = wait_running(args.replicas, app=args.app, timeout_s=float('inf'))
            print(f'[serve] running: {sorted(r.node_ip for r in alive)}', flush=True)
        return proc.wait()
    except KeyboardInterrupt:
        return 0
    finally:
        stop_node(proc)
