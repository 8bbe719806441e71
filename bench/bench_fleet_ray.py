"""
``BENCH fleet_ray``: ``vla_inference`` with ``backend: ray`` for N = 4 / 8 / 16 robots.

Two hosts (network namespaces, :class:`~vla_ros.harness.netns.TwoHosts`): the Ray head in
``a``, a worker in ``b``, each a Ray node with one CPU (pinned to a core of its own with
``taskset`` where the machine has >= 4). In ``a`` (this script again, ``--inside``): the
gateway (``vla_inference``, ``backend: ray``) and N simulated closed-loop robots
(:class:`~vla_ros.ros.fleet_probe.FleetProbe`: the next request when the chunk is back, so the
replicas are saturated). The bundle: ``act`` (ACT at LeRobot's default size, 34 M parameters,
as ``BENCH fleet``); 1 replica (on the head), then 2 (one per host, one intra-op thread each).

Printed: chunk rate per robot and p50/p95 frame -> chunk latency per (replicas, N);
``replica_scaling`` = total chunk rate with 2 replicas / with 1 at the largest N (target
>= 1.6); ``ray_overhead_ms`` = p50 latency through Ray minus through ``backend: local``
(one intra-op thread, the same host) at N = 1 with models/default (small: the hop shows);
``gateway_cpu_ms_per_chunk`` = the gateway process's CPU per chunk above its idle CPU (2
replicas, largest N), ``gateway_idle_cores`` its CPU with no request (Ray's driver threads);
``r1_replica_cores`` / ``r2_replica_cores`` = the CPU the replicas got at the largest N
(1.0 and 2.0 on an idle machine; less when others run: the bound on ``replica_scaling``),
``scaling_per_core`` = ``replica_scaling`` / (r2 / r1 replica cores): chunks per replica-core
with 2 replicas relative to 1 (1.0 = perfect; x 2 = the scaling on two free cores);
``load`` = the 1-minute load average at the start and end (the machine is shared), ``cpus``.
Where namespaces cannot be made (not root), and in smoke mode, one host runs both replicas
(``hosts=1``).
"""

from __future__ import annotations

import argparse
import json
import os
from pathlib import Path
import random
import subprocess
import sys
import tempfile
import threading
import time

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))
os.environ.setdefault('FASTDDS_DEFAULT_PROFILES_FILE', str(ROOT / 'config/fastdds_shm.xml'))
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('ROS_DOMAIN_ID', str(100 + os.getpid() % 50))

import _smoke as S  # noqa: E402, I100
import numpy as np  # noqa: E402, I100

OUT = S.out_dir(ROOT / 'out' / 'bench' / 'fleet_ray')
ACT_DIR = ROOT / 'out' / 'bench' / 'fleet' / 'act'  # shared with BENCH fleet
FLEET = S.pick((4, 8, 16), (2,))
WARM_S, MEASURE_S = S.pick(3.0, 0.5), S.pick(8.0, 1.0)
PORT = 6391
IDLE_S = S.pick(2.0, 0.5)
LATE_CHUNK_S = 30.0  # [s] how long a measurement window with no chunk yet is kept open
DEFAULT = ROOT / 'models' / 'default'


def act_bundle() -> Path:
    """Export (once) the LeRobot-default-size ACT bundle (as ``BENCH fleet``)."""
    # optional heavy dependency: torch (the export)
    from vla_ros.model.reference_bundles import make_act_full_bundle
    if not (ACT_DIR / 'bundle.yaml').exists():
        make_act_full_bundle(ACT_DIR)
    return ACT_DIR


def load() -> float:
    return os.getloadavg()[0]


# -- inside host a: gateway, robots, measurements ------------------------------------------


def start_server(bundle: Path, robots: list[str], log: Path, **params) -> object:
    from vla_ros.harness.procs import NodeProcess, ros_args
    return NodeProcess('vla_inference', ros_args(params={
        'bundle': str(bundle), 'robots': robots, **params}), log_path=log).start()


def cpu_s(pid: int) -> float:
    """Return the CPU time a process has used (user + system, all threads) [s]."""
    fields = Path(f'/proc/{pid}/stat').read_text().rsplit(')', 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf('SC_CLK_TCK')


def run_fleet(robots: list[str], bundle: Path, tag: str, server,
              replica_pids: tuple[int, ...] = ()) -> dict:
    """Run closed-loop robots against the running server; chunk rate, latency, server CPU."""
    import rclpy
    from rclpy.executors import SingleThreadedExecutor
    from vla_ros.core.bundle.manifest import load_bundle
    from vla_ros.harness.procs import wait_until
    from vla_ros.ros.fleet_probe import FleetProbe, probe_request

    node = rclpy.create_node(f'fleet_ray_robots_{tag}')
    probe = FleetProbe(node, robots, probe_request(load_bundle(bundle).manifest))
    ex = SingleThreadedExecutor()
    ex.add_node(node)
    threading.Thread(target=ex.spin, daemon=True).start()
    try:
        if not wait_until(probe.connected, 60.0):
            raise RuntimeError('the server never subscribed')
        c0, t0 = cpu_s(server.proc.pid), time.time()
        time.sleep(IDLE_S)  # the server's own CPU with no request (Ray's driver threads)
        idle = (cpu_s(server.proc.pid) - c0) / (time.time() - t0)
        probe.start()
        t_end = time.time() + WARM_S + MEASURE_S
        t_start = t_end - MEASURE_S
        give_up = t_end + LATE_CHUNK_S
        cpu0 = None
        # a robot whose request was lost starts again; the window is kept open past its end
        # until it holds a chunk (a cold replica on a loaded machine can miss a short window)
        while time.time() < t_end or (not probe.window(t_start, time.time())
                                      and time.time() < give_up):
            time.sleep(0.5)
            if cpu0 is None and time.time() >= t_start:
                cpu0, t_cpu = cpu_s(server.proc.pid), time.time()
                rep0 = sum(cpu_s(p) for p in replica_pids)
            now = time.time()
            for r in robots:
                last = [x.received_s for x in probe.records[-4 * len(robots):] if x.robot == r]
                if not last or now - last[-1] > 2.0:
                    probe.send(r)
        t_end = time.time()
        cpu = (cpu_s(server.proc.pid) - cpu0) / (t_end - t_cpu)  # cores busy
        rep = (sum(cpu_s(p) for p in replica_pids) - rep0) / (t_end - t_cpu)
        probe.stop()
        window = [x.latency_ms for x in probe.window(t_start, t_end)]
    finally:
        ex.shutdown()
        node.destroy_node()
    if not window:
        raise RuntimeError(f'no chunks in the window ({tag})')
    rate = len(window) / (t_end - t_start)
    return {'n': len(robots), 'chunks_per_s': rate, 'per_robot_hz': rate / len(robots),
            'p50_ms': float(np.median(window)), 'p95_ms': float(np.percentile(window, 95)),
            'server_cores': cpu, 'server_idle_cores': idle, 'replica_cores': rep,
            'server_cpu_ms_per_chunk': max(0.0, cpu - idle) * 1e3 / rate}


def inside(a: argparse.Namespace) -> int:
    import rclpy
    from vla_ros.serving import cluster
    from vla_ros.serving.deployment import ServeConfig

    cluster.connect(a.address, wait_s=120.0)
    import ray
    deadline = time.monotonic() + 120
    while sum(n['Alive'] for n in ray.nodes()) < a.hosts and time.monotonic() < deadline:
        time.sleep(0.5)
    tmp = Path(tempfile.mkdtemp(prefix='fleet_ray_'))
    act = Path(a.bundle)
    robots = [f'/robot{k + 1}' for k in range(max(FLEET))]
    res: dict = {'rows': []}
    rclpy.init()
    try:
        # the Ray hop vs backend local at N = 1, models/default, one intra-op thread each
        srv = start_server(DEFAULT, robots[:1], tmp / 'local.log', intra_op_threads=1)
        try:
            res['local_n1'] = run_fleet(robots[:1], DEFAULT, 'local', srv)
        finally:
            srv.stop()
        cluster.deploy(ServeConfig(bundle=str(DEFAULT), replicas=1), a.address)
        srv = start_server(DEFAULT, robots[:1], tmp / 'ray_default.log', backend='ray',
                           **{'ray.address': a.address})
        try:
            res['ray_n1'] = run_fleet(robots[:1], DEFAULT, 'ray1', srv)
        finally:
            srv.stop()
        for replicas in (1, 2):
            cluster.deploy(ServeConfig(bundle=str(act), replicas=replicas,
                                       max_replicas_per_node=1 if a.hosts > 1 else 0),
                           a.address, timeout_s=180)
            alive = [r for r in cluster.replicas() if r.state == 'ALIVE']
            placed = sorted(r.node_ip for r in alive)
            srv = start_server(act, robots, tmp / f'ray_act_{replicas}.log', backend='ray',
                               **{'ray.address': a.address})
            try:
                for n in FLEET:
                    row = run_fleet(robots[:n], act, f'r{replicas}n{n}', srv,
                                    tuple(r.pid for r in alive))
                    row.update(replicas=replicas, placed=placed)
                    print(json.dumps(row), file=sys.stderr, flush=True)
                    res['rows'].append(row)
            finally:
                srv.stop()
    finally:
        rclpy.try_shutdown()
    Path(a.out).write_text(json.dumps(res, indent=1))
    return 0


# -- outside: the hosts, the Ray nodes, the line ----------------------------------------


def pinned(argv: list[str], core: int) -> list[str]:
    """Pin a Ray node to one core where the machine has cores to spare (>= 4)."""
    return ['taskset', '-c', str(core), *argv] if (os.cpu_count() or 1) >= 4 else argv


def measure(bundle: Path, out: Path) -> int:
    from vla_ros.harness.netns import dds_env, netns_available, TwoHosts, write_udp_profile
    from vla_ros.serving import cluster

    me = [sys.executable, str(Path(__file__).resolve()), '--inside', '--bundle', str(bundle),
          '--out', str(out)]
    tmpdir = f'/tmp/vfr{os.getpid()}'
    if S.SMOKE or netns_available():
        node = cluster.start_node(cluster.node_argv(
            node_ip='127.0.0.1', num_cpus=2, temp_dir=tmpdir + 'a', head=True, port=PORT),
            log=out.parent / 'ray_head.log')
        try:
            return subprocess.run(me + ['--address', f'127.0.0.1:{PORT}', '--hosts', '1'],
                                  timeout=1800).returncode
        finally:
            cluster.stop_node(node)
    with TwoHosts() as net:
        a, b = net.address('a'), net.address('b')
        env = dds_env(write_udp_profile(out.parent / 'dds_a.xml', [a]), random.randint(100, 200))
        nodes = [cluster.start_node(net.exec_argv('a', pinned(cluster.node_argv(
            node_ip=a, num_cpus=1, temp_dir=tmpdir + 'a', head=True, port=PORT), 0)), env,
            log=out.parent / 'ray_head.log')]
        try:
            nodes.append(cluster.start_node(net.exec_argv('b', pinned(cluster.node_argv(
                node_ip=b, num_cpus=1, temp_dir=tmpdir + 'b', head=False,
                address=f'{a}:{PORT}'), 1)), env, log=out.parent / 'ray_worker.log'))
            return net.run('a', me + ['--address', f'{a}:{PORT}', '--hosts', '2'], env=env,
                           timeout=1800).returncode
        finally:
            for n in nodes:
                cluster.stop_node(n)


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument('--inside', action='store_true')
    ap.add_argument('--address', default='')
    ap.add_argument('--bundle', default='')
    ap.add_argument('--hosts', type=int, default=2)
    ap.add_argument('--out', default='')
    a = ap.parse_args()
    if a.inside:
        return inside(a)
    load0 = load()
    bundle = DEFAULT if S.SMOKE else act_bundle()
    OUT.mkdir(parents=True, exist_ok=True)
    out = OUT / 'fleet_ray.json'
    out.unlink(missing_ok=True)
    rc = measure(bundle, out)
    if rc != 0 or not out.exists():
        print(f'fleet_ray: the measurement failed (exit {rc})', file=sys.stderr)
        return 1
    res = json.loads(out.read_text())
    rows = {(r['replicas'], r['n']): r for r in res['rows']}
    keys = []
    for (replicas, n), r in sorted(rows.items()):
        keys += [f'r{replicas}_n{n}_hz={r["per_robot_hz"]:.2f}',
                 f'r{replicas}_n{n}_p50_ms={r["p50_ms"]:.1f}',
                 f'r{replicas}_n{n}_p95_ms={r["p95_ms"]:.1f}']
    n = max(FLEET)
    scaling = rows[(2, n)]['chunks_per_s'] / rows[(1, n)]['chunks_per_s']
    overhead = res['ray_n1']['p50_ms'] - res['local_n1']['p50_ms']
    hosts = len(set(rows[(2, n)]['placed']))
    cores = [rows[(r, n)].get('replica_cores', 0.0) for r in (1, 2)]
    print(f'BENCH fleet_ray bundle={bundle.name} ' + ' '.join(keys)
          + f' replica_scaling={scaling:.2f} ray_overhead_ms={overhead:.1f} '
          f'ray_n1_p50_ms={res["ray_n1"]["p50_ms"]:.1f} '
          f'local_n1_p50_ms={res["local_n1"]["p50_ms"]:.1f} '
          f'gateway_cpu_ms_per_chunk={rows[(2, n)]["server_cpu_ms_per_chunk"]:.2f} '
          f'gateway_idle_cores={rows[(2, n)].get("server_idle_cores", 0.0):.3f} '
          f'r1_replica_cores={cores[0]:.2f} r2_replica_cores={cores[1]:.2f} '
          f'scaling_per_core={scaling * cores[0] / cores[1] if all(cores) else 0.0:.2f} '
          f'hosts={hosts} '
          f'cpus={os.cpu_count()} load={load0:.1f}/{load():.1f}' + S.tag())
    return 0


if __name__ == '__main__':
    sys.exit(main())
