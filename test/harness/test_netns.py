"""
ROS 2 between two network namespaces over UDP with initial peers (vla_ros.harness.netns).

A publisher in namespace ``a`` and a subscriber in namespace ``b`` (test/helpers/netns_ping.py,
real rclpy) talk over one veth pair with config/fastdds_udp_peers.xml.in: a String and a
~100 KB Image (fragmented) arrive; with the link down nothing arrives, with it up again
traffic resumes. Needs root and iproute2; skipped, with the reason, elsewhere.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
import queue
import random
import statistics
import subprocess
import sys
import threading
import time
from xml.etree import ElementTree

import pytest
from vla_ros.harness import netns
from vla_ros.harness.netns import dds_env, netns_available, TwoHosts, write_udp_profile

HELPER = Path(__file__).resolve().parents[1] / 'helpers' / 'netns_ping.py'
IMG_BYTES = 100_000
DISCOVERY_TIMEOUT_S = 15.0
STOP_WITHIN_S = 1.0
RECOVERY_TIMEOUT_S = 15.0
NS = '{http://www.eprosima.com}'


class Received:
    """Lines of a netns_ping.py subscriber, read by a thread; arrival times are monotonic."""

    def __init__(self, proc: subprocess.Popen[str], pub_log: Path) -> None:
        """Start reading proc's stdout; pub_log is the publisher's output file."""
        self.proc = proc
        self.pub_log = pub_log
        self.msgs: list[tuple[float, str, int, int, int, int]] = []
        self.other: list[str] = []
        self.ready = threading.Event()
        self._lock = threading.Lock()
        self._new: queue.Queue[None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        """Sort each line into a message (kind, seq, sent, recv, nbytes) or another line."""
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            now = time.monotonic()
            words = line.split()
            if len(words) == 5 and words[0] in ('str', 'img'):
                with self._lock:
                    self.msgs.append((now, words[0], *map(int, words[1:])))
                self._new.put(None)
            else:
                if line.strip() == 'ready':
                    self.ready.set()
                self.other.append(line.rstrip())

    def since(self, t: float, kind: str | None = None) -> list[tuple[float, str, int, int,
                                                                     int, int]]:
        """Return the messages (of kind) that arrived after monotonic time t."""
        with self._lock:
            return [m for m in self.msgs if m[0] > t and kind in (None, m[1])]

    def wait_for(self, kinds: dict[str, int], after: float, timeout: float) -> float | None:
        """Wait until kinds[k] messages of each kind k arrived after ``after``; None on timeout."""
        deadline = time.monotonic() + timeout
        while True:
            if all(len(self.since(after, k)) >= n for k, n in kinds.items()):
                return max(self.since(after, k)[n - 1][0] for k, n in kinds.items())
            left = deadline - time.monotonic()
            if left <= 0 or self.proc.poll() is not None:
                return None
            try:
                self._new.get(timeout=min(left, 0.1))
            except queue.Empty:
                pass

    def log(self) -> str:
        """Return the subscriber's non-message lines and the publisher's log, for asserts."""
        pub = self.pub_log.read_text().splitlines()[-20:] if self.pub_log.exists() else []
        return '\n'.join(['subscriber:', *self.other[-20:], 'publisher:', *pub])


def _skip_reason() -> str:
    """Return why the namespace tests cannot run here ('' when they can)."""
    reason = netns_available()
    if not reason:
        for module in ('rclpy', 'std_msgs', 'sensor_msgs'):
            if importlib.util.find_spec(module) is None:
                reason = f'{module} is not importable (source scripts/env.sh)'
                break
    return reason


@pytest.fixture
def net():
    """Two namespaces joined by a veth pair; skip (printing why) where that is impossible."""
    reason = _skip_reason()
    if reason:
        print(f'\nnetns tests skipped: {reason}')
        pytest.skip(reason)
    with TwoHosts() as hosts:
        yield hosts


def _start(net: TwoHosts, tmp_path: Path, peers: dict[str, list[str]]) -> Received:
    """
    Start the publisher in a and the subscriber in b, each with its peers; return b's lines.

    The publisher's output goes to a file (``pub.log``), shown by :meth:`Received.log`.
    """
    domain_id = random.randint(100, 200)
    procs = {}
    pub_log = tmp_path / 'pub.log'
    for host, role in (('b', 'sub'), ('a', 'pub')):
        profile = write_udp_profile(tmp_path / f'peers_{host}.xml', peers[host])
        with open(pub_log, 'w') as log:
            out = subprocess.PIPE if role == 'sub' else log
            procs[host] = net.popen(host, [sys.executable, str(HELPER), role,
                                           '--img-bytes', str(IMG_BYTES)],
                                    env=dds_env(profile, domain_id), stdout=out,
                                    stderr=subprocess.STDOUT, text=True, bufsize=1)
    print(f'\nnamespaces {net.namespaces}, addresses {net.addresses}, domain {domain_id}')
    return Received(procs['b'], pub_log)


def test_profile_lists_peers(tmp_path):
    """The filled template is XML with one initial peer per address, UDPv4 and no SHM."""
    path = write_udp_profile(tmp_path / 'p.xml', ['10.231.7.1', '10.231.7.2'])
    root = ElementTree.parse(path).getroot()
    peers = [a.text for p in root.iter(f'{NS}initialPeersList') for a in p.iter(f'{NS}address')]
    assert peers == ['10.231.7.1', '10.231.7.2']
    assert [e.text for e in root.iter(f'{NS}type')] == ['UDPv4']
    assert [e.text for e in root.iter(f'{NS}useBuiltinTransports')] == ['false']
    assert not list(root.iter(f'{NS}metatrafficMulticastLocatorList'))
    assert '@PEERS@' not in path.read_text()
    with pytest.raises(ValueError):
        write_udp_profile(tmp_path / 'q.xml', ['not-an-address'])
    with pytest.raises(ValueError):
        write_udp_profile(tmp_path / 'q.xml', [])


def test_profile_template_override(tmp_path):
    """A template argument replaces the one looked up; it must hold the placeholder."""
    src = tmp_path / 'mine.xml.in'
    src.write_text('<x>@PEERS@</x>\n')
    out = write_udp_profile(tmp_path / 'o.xml', ['192.168.1.5'], template=src)
    assert '192.168.1.5' in out.read_text()
    src.write_text('<x/>\n')
    with pytest.raises(ValueError, match='placeholder'):
        write_udp_profile(tmp_path / 'o.xml', ['192.168.1.5'], template=src)
    assert netns.find_template() == netns.template_candidates()[0]


def test_dds_env(tmp_path):
    """dds_env points Fast DDS at the profile and leaves discovery to it."""
    base = {'PATH': '/bin', 'ROS_AUTOMATIC_DISCOVERY_RANGE': 'LOCALHOST',
            'ROS_STATIC_PEERS': '1.2.3.4', 'FASTRTPS_DEFAULT_PROFILES_FILE': '/x.xml'}
    env = dds_env(tmp_path / 'p.xml', 123, base=base)
    assert env['FASTDDS_DEFAULT_PROFILES_FILE'] == str((tmp_path / 'p.xml').resolve())
    assert env['ROS_DOMAIN_ID'] == '123'
    assert env['RMW_IMPLEMENTATION'] == 'rmw_fastrtps_cpp'
    assert env['ROS_AUTOMATIC_DISCOVERY_RANGE'] == 'SYSTEM_DEFAULT'
    assert 'ROS_STATIC_PEERS' not in env and 'FASTRTPS_DEFAULT_PROFILES_FILE' not in env
    assert env['PATH'] == '/bin'


def test_two_hosts_names():
    """Names carry the pid, veth names fit IFNAMSIZ, exec_argv prefixes ip netns exec."""
    hosts = TwoHosts(subnet='10.231.9.0/24')
    assert hosts.address('a') == '10.231.9.1' and hosts.peer('a') == '10.231.9.2'
    assert all(str(os.getpid()) in n for n in hosts.namespaces.values())
    assert len(set(hosts.namespaces.values())) == 2
    assert all(len(i) <= 15 for i in hosts.interfaces.values())
    assert hosts.exec_argv('b', ['true']) == ['ip', 'netns', 'exec', hosts.namespaces['b'],
                                              'true']
    with pytest.raises(ValueError):
        hosts.address('c')
    with pytest.raises(ValueError):
        TwoHosts(subnet='10.231.9.0/32')


@pytest.mark.ros
@pytest.mark.timeout(90)
def test_link_cut_and_restored(net, tmp_path):
    """Messages cross the veth link, stop when it goes down and resume when it comes up."""
    rx = _start(net, tmp_path, {'a': [net.address('b')], 'b': [net.address('a')]})
    t0 = time.monotonic()
    got = rx.wait_for({'str': 20, 'img': 5}, t0, DISCOVERY_TIMEOUT_S)
    assert got is not None, f'no traffic across the veth pair:\n{rx.log()}'
    first = rx.since(t0)[0][0] - t0
    imgs = rx.since(t0, 'img')
    print(f'first message {first:.2f} s after start')
    for kind in ('str', 'img'):
        lat = [(m[4] - m[3]) / 1e6 for m in rx.since(t0, kind)]
        print(f'{kind} latency median {statistics.median(lat):.2f} ms, max {max(lat):.2f} ms'
              f' over {len(lat)} messages')
    assert all(m[5] >= IMG_BYTES - 768 for m in imgs), 'an image arrived truncated'

    t_down = time.monotonic()
    net.link(False)
    time.sleep(STOP_WITHIN_S + 1.0)
    after = rx.since(t_down)
    last = max((m[0] for m in after), default=t_down) - t_down
    print(f'link down: {len(after)} messages arrived after, the last {last * 1e3:.0f} ms after')
    late = rx.since(t_down + STOP_WITHIN_S)
    assert not late, f'{len(late)} messages arrived more than {STOP_WITHIN_S} s after link down'

    t_up, wall_up = time.monotonic(), time.time_ns()
    net.link(True)
    got = rx.wait_for({'str': 1, 'img': 1}, t_up, RECOVERY_TIMEOUT_S)
    assert got is not None, (f'no traffic {RECOVERY_TIMEOUT_S} s after link up '
                             f'(str {len(rx.since(t_up, "str"))}, '
                             f'img {len(rx.since(t_up, "img"))}):\n{rx.log()}')
    for kind in ('str', 'img'):
        m = rx.since(t_up, kind)[0]
        when = 'after' if m[3] > wall_up else 'before'
        print(f'link up: first {kind} after {m[0] - t_up:.2f} s (seq {m[2]}, sent {when} '
              'link up)')
    got = rx.wait_for({'str': 20, 'img': 5}, t_up, RECOVERY_TIMEOUT_S)
    assert got is not None, f'traffic did not resume steadily after link up:\n{rx.log()}'
    before = [m[2] for m in rx.since(t0, 'str') if m[0] < t_down]
    resumed = [m[2] for m in rx.since(t_up, 'str')]
    print(f'reliable str: last seq before link down {max(before)}, first after link up '
          f'{resumed[0]}: {resumed[0] - max(before) - 1} lost (publisher history depth 10)')


@pytest.mark.ros
@pytest.mark.timeout(60)
def test_wrong_peer_discovers_nothing(net, tmp_path):
    """With initial peers that are not there nothing is discovered: no multicast fallback."""
    nobody = str(net.subnet.network_address + 77)
    rx = _start(net, tmp_path, {'a': [nobody], 'b': [nobody]})
    assert rx.ready.wait(DISCOVERY_TIMEOUT_S), f'subscriber did not start:\n{rx.log()}'
    time.sleep(3.0)
    assert not rx.msgs, f'{len(rx.msgs)} messages arrived without a peer: multicast discovery?'
