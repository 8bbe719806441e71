"""
Run on the robot host of a split (inside network namespace ``a``): sim episodes, then a link cut.

mujoco_sim and ``vla_policy`` (``inference: remote``) are started here by
:class:`~vla_ros.eval.episode.EpisodeRunner`; ``vla_inference`` runs on the other host. Writes
a JSON report (``--out``):

- ``episodes``: ``--episodes`` pick episodes (dev seeds), each with success, reason, chunks;
- ``fault``: a command runs, the link goes down (``ip link set IFACE down`` from here), and
  the time until ``~/status`` says the robot holds for want of chunks is measured on the
  robot's ROS clock (sim time) and the wall clock; then until the hold becomes a stop (idle,
  new command needed); the link comes back up, and for ``--after-up`` seconds the states and
  the tool position are recorded (the robot must not move on its own); a new command must
  start it again.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
import subprocess
import threading
import time

from vla_ros.eval.episode import EpisodeRunner
from vla_ros.harness.procs import wait_until
from vla_ros.sim.task_suite import block_seed, make_task


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.strip().splitlines()[1])
    ap.add_argument('--bundle', required=True)
    ap.add_argument('--domain', type=int, required=True)
    ap.add_argument('--iface', required=True, help='the veth end to take down')
    ap.add_argument('--out', required=True)
    ap.add_argument('--log-dir', required=True)
    ap.add_argument('--episodes', type=int, default=2)
    ap.add_argument('--after-up', type=float, default=3.0)
    a = ap.parse_args()
    report: dict = {'episodes': []}
    runner = EpisodeRunner(a.bundle, domain_id=a.domain, log_dir=a.log_dir,
                           policy_overrides={'inference': 'remote'})
    with runner:
        for i in range(a.episodes):
            seed = block_seed('dev', i)
            r = runner.run(make_task('pick', seed), seed)
            report['episodes'].append({'seed': seed, 'command': r.command, 'success': r.success,
                                       'reason': r.reason, 'chunks': r.chunks,
                                       'e2e_ms': r.e2e_ms, 'duration_s': r.duration_s})
        report['fault'] = link_cut(runner, a)
    Path(a.out).write_text(json.dumps(report, indent=1))


def link_cut(runner: EpisodeRunner, a: argparse.Namespace) -> dict:
    from rosgraph_msgs.msg import Clock
    from vla_ros.core.convert import stamp_to_ns
    from vla_ros_msgs.msg import PolicyStatus

    from vla_ros.qos import LATCHED_QOS
    lock = threading.Lock()
    statuses: list[tuple[float, int, str, str, int]] = []
    clock = [0]

    def on_status(m: PolicyStatus) -> None:
        with lock:
            statuses.append((time.monotonic(), stamp_to_ns(m.header.stamp), m.state_name,
                             m.reason, int(m.chunks)))

    def on_clock(m: Clock) -> None:
        clock[0] = stamp_to_ns(m.clock)

    node = runner.node
    node.create_subscription(PolicyStatus, '/vla_policy/status', on_status, LATCHED_QOS)
    node.create_subscription(Clock, '/clock', on_clock, 10)
    seed = block_seed('dev', 50)
    runner.reset_pub.publish(runner._UInt32(data=seed))
    wait_until(lambda: (s := runner.watch.latest()) is not None and s.seed == seed, 10.0)
    task = make_task('pick', seed)
    runner.cmd_pub.publish(runner._String(data=task.command))

    def last():
        with lock:
            return statuses[-1] if statuses else None

    def chunks() -> int:
        s = last()
        return s[4] if s else 0

    out: dict = {}
    assert wait_until(lambda: (s := last()) is not None and s[2] == 'running', 20.0), last()
    n0 = chunks()
    assert wait_until(lambda: chunks() >= n0 + 5, 10.0), 'no chunks from vla_inference'
    time.sleep(0.5)
    with lock:
        mark = len(statuses)
    wall_down = time.monotonic()
    subprocess.run(['ip', 'link', 'set', a.iface, 'down'], check=True)
    sim_down = clock[0]  # read once the link is down: nothing crosses after this
    out['chunks_before'] = chunks()

    def first(pred, start: int):
        with lock:
            return next((s for s in statuses[start:] if pred(s)), None)

    wait_until(lambda: first(lambda s: s[2] == 'idle', mark) is not None, 10.0)
    hold = first(lambda s: s[2] == 'holding' and 'no chunk' in s[3], mark)
    idle = first(lambda s: s[2] == 'idle', mark)
    out['hold_reason'] = hold[3] if hold else None
    out['hold_sim_s'] = (hold[1] - sim_down) * 1e-9 if hold else None
    out['hold_wall_s'] = hold[0] - wall_down if hold else None
    out['idle_reason'] = idle[3] if idle else None
    out['idle_sim_s'] = (idle[1] - sim_down) * 1e-9 if idle else None
    out['states_after_down'] = sorted({s[2] for s in statuses[mark:]})
    subprocess.run(['ip', 'link', 'set', a.iface, 'up'], check=True)
    with lock:
        mark_up = len(statuses)
    tcp = []
    t_up = time.monotonic()
    while time.monotonic() - t_up < a.after_up:
        s = runner.watch.latest()
        if s is not None:
            tcp.append(list(s.tcp_position))
        time.sleep(0.05)
    with lock:
        out['states_after_up'] = sorted({s[2] for s in statuses[mark_up:]}
                                        | {statuses[-1][2]})
    out['tcp_motion_after_up_m'] = max(
        (max(abs(x - y) for x, y in zip(p, tcp[0])) for p in tcp), default=None)
    n_up = chunks()
    runner.cmd_pub.publish(runner._String(data=task.command))  # the same words, anew
    out['resumed'] = wait_until(lambda: (s := last()) is not None and s[2] == 'running'
                                and s[4] > n_up, 20.0)
    out['chunks_after_new_command'] = chunks() - n_up
    runner.cmd_pub.publish(runner._String(data='stop'))
    return out


if __name__ == '__main__':
    main()
