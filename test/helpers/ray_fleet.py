"""
Run on the head host of a Ray cluster (inside network namespace ``a``): a fleet through Serve.

The Ray head (``vla-ros serve head``) runs here, a worker (``vla-ros serve worker``) on host
``b``, one replica each. This script waits for both replicas, starts ``vla_inference`` with
``backend: ray`` (the gateway) here, and N simulated robots (:class:`FleetProbe`, periodic
requests at ``--period``). Then, writing a JSON report (``--out``):

- ``equal``: for ``--phase-s`` every robot gets chunks; the largest difference of any chunk
  from local inference (PolicyRuntime.infer on the frame the server decodes); then what
  ``vla-ros serve status`` prints (``status``);
- ``kill``: SIGKILL to the replica process on host b; per robot the longest gap between
  chunks, the chunks' largest frame age, when Ray had two live replicas again (a new pid)
  and whether every robot gets chunks at the end;
- ``link``: host b's link down (``ip -n NS link set DEV down``); who still gets chunks
  from the head's replica, and the replicas' states.
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import signal
import subprocess
import sys
import threading
import time

import numpy as np
import rclpy
from rclpy.executors import SingleThreadedExecutor
from vla_ros.core.bundle.manifest import load_bundle
from vla_ros.core.policy import open_runtime
from vla_ros.harness.procs import executable_path, ros_args, wait_until
from vla_ros.ros.fleet_probe import FleetProbe, probe_request
from vla_ros.ros.frame_msgs import frame_from_remote
from vla_ros.serving import cluster


def gaps(records, robots, t0: float, t1: float) -> dict[str, float]:
    """Per robot: the longest time without a chunk in [t0, t1] [s]."""
    out = {}
    for r in robots:
        ts = [t0] + sorted(x.received_s for x in records if x.robot == r and
                           t0 <= x.received_s <= t1) + [t1]
        out[r] = float(np.max(np.diff(ts)))
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[1])
    ap.add_argument('--address', required=True)
    ap.add_argument('--bundle', required=True)
    ap.add_argument('--robots', type=int, default=4)
    ap.add_argument('--period', type=float, default=0.1)
    ap.add_argument('--timeout', type=float, default=0.4, help='ray.request_timeout_s')
    ap.add_argument('--phase-s', type=float, default=3.0)
    ap.add_argument('--worker-ip', required=True)
    ap.add_argument('--worker-ns', required=True)
    ap.add_argument('--worker-dev', required=True)
    ap.add_argument('--log', required=True)
    ap.add_argument('--out', required=True)
    a = ap.parse_args()
    report: dict = {}
    t_start = time.monotonic()
    cluster.connect(a.address, wait_s=120.0)
    alive = cluster.wait_running(2, timeout_s=120.0)
    report['replicas'] = sorted(r.node_ip for r in alive)
    report['cluster_ready_s'] = time.monotonic() - t_start
    robots = [f'/robot{k + 1}' for k in range(a.robots)]
    log = open(a.log, 'w')  # noqa: SIM115
    gateway = subprocess.Popen(
        [sys.executable, str(executable_path('vla_inference')), *ros_args(params={
            'bundle': a.bundle, 'robots': robots, 'backend': 'ray', 'ray.address': a.address,
            'ray.request_timeout_s': a.timeout})], stdout=log, stderr=subprocess.STDOUT)
    rclpy.init()
    node = rclpy.create_node('ray_fleet_robots')
    request = probe_request(load_bundle(a.bundle).manifest)
    probe = FleetProbe(node, robots, request, period_s=a.period)
    ex = SingleThreadedExecutor()
    ex.add_node(node)
    threading.Thread(target=ex.spin, daemon=True).start()
    try:
        if not wait_until(probe.connected, 60.0):
            raise RuntimeError('the gateway never subscribed: ' + Path(a.log).read_text()[-2000:])
        report['gateway_ready_s'] = time.monotonic() - t_start
        runtime = open_runtime(load_bundle(a.bundle))
        reference = runtime.infer(frame_from_remote(request)).actions
        probe.start()
        # equal: every chunk equals local inference on the same frame
        t0 = time.time()
        time.sleep(a.phase_s)
        got = probe.window(t0, time.time())
        report['equal'] = {
            'chunks': {r: sum(x.robot == r for x in got) for r in robots},
            'max_abs_diff': max(float(np.max(np.abs(x.actions - reference))) for x in got),
            'p50_ms': float(np.median([x.latency_ms for x in got]))}
        status = subprocess.run([sys.executable, '-m', 'vla_ros.cli.main', 'serve', 'status',
                                 '--address', a.address], capture_output=True, text=True,
                                timeout=60)
        report['status'] = {'rc': status.returncode, 'lines': status.stdout.splitlines()}
        # kill the worker host's replica process
        victim = next(r for r in cluster.replicas() if r.state == 'ALIVE'
                      and r.node_ip == a.worker_ip)
        t_kill = time.time()
        os.kill(victim.pid, signal.SIGKILL)

        def restarted() -> bool:
            live = [r for r in cluster.replicas() if r.state == 'ALIVE']
            return len(live) == 2 and victim.pid not in {r.pid for r in live}
        ok = wait_until(restarted, 30.0, period_s=0.1)
        t_back = time.time()
        time.sleep(a.phase_s)
        t_end = time.time()
        after = probe.window(t_kill, t_end)
        report['kill'] = {
            'victim': f'{victim.node_ip}:{victim.pid}', 'restarted': ok,
            'restart_s': t_back - t_kill,
            'gap_s': gaps(probe.records, robots, t_kill - 0.5, t_end),
            'max_age_ms': max(x.latency_ms for x in after),
            'chunks_last_s': {r: sum(x.robot == r for x in probe.window(t_end - 1.0, t_end))
                              for r in robots},
            'replicas': sorted(f'{r.node_ip}:{r.state}' for r in cluster.replicas()
                               if r.state == 'ALIVE')}
        # the worker host's link down
        subprocess.run(['ip', '-n', a.worker_ns, 'link', 'set', a.worker_dev, 'down'],
                       check=True)
        t_down = time.time()
        time.sleep(2 * a.phase_s)
        t_end = time.time()
        tail = probe.window(t_end - a.phase_s, t_end)
        report['link'] = {
            'gap_s': gaps(probe.records, robots, t_down, t_end),
            'chunks_tail': {r: sum(x.robot == r for x in tail) for r in robots},
            'tail_s': a.phase_s,
            'max_age_ms': max(x.latency_ms for x in probe.window(t_down, t_end)),
            'replicas': sorted(f'{r.node_ip}:{r.state}' for r in cluster.replicas())}
        probe.stop()
    finally:
        ex.shutdown()
        node.destroy_node()
        rclpy.try_shutdown()
        gateway.send_signal(signal.SIGINT)
        try:
            gateway.wait(timeout=10)
        except subprocess.TimeoutExpired:
            gateway.kill()
        log.close()
    report['total_s'] = time.monotonic() - t_start
    Path(a.out).write_text(json.dumps(report, indent=1))


if __name__ == '__main__':
    main()
