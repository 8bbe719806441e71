"""
The split across two hosts: the robot (mujoco_sim + vla_policy remote) and vla_inference.

Two network namespaces joined by a veth pair (:class:`vla_ros.harness.netns.TwoHosts`), DDS over
UDP only with discovery by initial peers (config/fastdds_udp_peers.xml.in). In namespace ``a``
test/helpers/netns_episode.py runs pick episodes of the trained default bundle on the MuJoCo
arm, then cuts the link mid-command: the robot must hold within max_chunk_age_s + one control
period (on its ROS clock), stop after hold_latch_s more, stay still when the link is back, and
move again on a new command. Skipped, with the reason, only where namespaces cannot be made.
"""

from __future__ import annotations

import json
from pathlib import Path
import random
import subprocess
import sys

import pytest
from vla_ros.harness.locate import find_default_bundle
from vla_ros.harness.netns import dds_env, netns_available, TwoHosts, write_udp_profile
from vla_ros.harness.procs import executable_path

pytestmark = [pytest.mark.ros, pytest.mark.slow]
HELPER = Path(__file__).resolve().parents[1] / 'helpers' / 'netns_episode.py'
MAX_CHUNK_AGE_S = 0.5   # remote.max_chunk_age_s auto for models/default (chunk_age_limit)
HOLD_LATCH_S = 1.0      # and hold_latch_s
CONTROL_PERIOD_S = 0.1  # models/default: dt 0.1, control_rate_hz 0 (config/sim.yaml)
# the probe reads the sim clock from /clock a few ms late, and the status stamp is taken just
# after the tick that holds
CLOCK_SLACK_S = 0.03


@pytest.mark.timeout(420)
def test_closed_loop_across_namespaces_and_link_down(tmp_path, record_property):
    why = netns_available()
    if why:
        print(f'SKIPPED: two-host DDS test needs network namespaces: {why}')
        pytest.skip(why)
    bundle = find_default_bundle()
    domain = random.randint(100, 200)
    with TwoHosts() as net:
        env = {h: dds_env(write_udp_profile(tmp_path / f'dds_{h}.xml',
                                            [net.address(h), net.peer(h)]), domain)
               for h in ('a', 'b')}
        server_log = open(tmp_path / 'vla_inference.log', 'w')  # noqa: SIM115
        net.popen('b', [sys.executable, str(executable_path('vla_inference')), '--ros-args',
                        '-p', f'bundle:={bundle}'], env=env['b'], stdout=server_log,
                  stderr=subprocess.STDOUT)
        out = tmp_path / 'report.json'
        run = net.run('a', [sys.executable, str(HELPER), '--bundle', str(bundle),
                            '--domain', str(domain), '--iface', net.interfaces['a'],
                            '--out', str(out), '--log-dir', str(tmp_path / 'robot'),
                            '--episodes', '2'],
                      env=env['a'], capture_output=True, text=True, timeout=360)
        server_log.close()
    logs = (run.stdout[-3000:] + run.stderr[-3000:]
            + (tmp_path / 'vla_inference.log').read_text()[-2000:])
    assert run.returncode == 0, logs
    report = json.loads(out.read_text())
    print(json.dumps(report, indent=1))
    for ep in report['episodes']:  # chunks came from the other host; the episode ran to an end
        assert ep['chunks'] > 5, (ep, logs)
        assert 'timeout' not in ep['reason'] and 'refused' not in ep['reason'], ep
    f = report['fault']
    line = (f'{f["hold_sim_s"]:.3f} s on the robot clock ({f["hold_wall_s"]:.3f} s wall), '
            f'bound max_chunk_age_s + one control period = '
            f'{MAX_CHUNK_AGE_S + CONTROL_PERIOD_S:.2f} s; stop after {f["idle_sim_s"]:.3f} s')
    print(f'link down -> hold: {line}')
    record_property('measured: link down -> hold', line)  # printed in make test's summary
    assert f['hold_reason'] and 'no chunk from vla_inference' in f['hold_reason'], f
    assert f['hold_sim_s'] <= MAX_CHUNK_AGE_S + CONTROL_PERIOD_S + CLOCK_SLACK_S, f
    assert 'send a new command' in f['idle_reason'], f
    assert f['idle_sim_s'] <= MAX_CHUNK_AGE_S + HOLD_LATCH_S + CONTROL_PERIOD_S + 0.2, f
    # link back: the robot waits for a new command and does not move by itself
    assert 'running' not in f['states_after_up'], f
    assert f['tcp_motion_after_up_m'] is not None and f['tcp_motion_after_up_m'] < 0.003, f
    assert f['resumed'] and f['chunks_after_new_command'] > 0, f
