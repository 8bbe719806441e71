"""
Build a two-host network out of Linux network namespaces, for DDS tests across a real link.

Stdlib only, no rclpy: the tests start ROS 2 processes *in* the namespaces with
:meth:`TwoHosts.popen` (test/harness/test_netns.py, test/helpers/netns_ping.py).

:class:`TwoHosts` creates namespaces ``a`` and ``b`` joined by one veth pair, each end with an
address in a private /24, ``lo`` up in both, and deletes all of it on exit. There is no route
out of the pair and no other interface, so what crosses is only what a real two-host link
would carry; :meth:`TwoHosts.link` takes the link down and up (a pulled cable).

Fast DDS across the pair (``config/fastdds_udp_peers.xml.in``, filled by
:func:`write_udp_profile`; measured with Fast DDS 3.2 / rmw_fastrtps 9.3, ROS 2 Kilted):

* UDPv4 only. The namespaces share ``/dev/shm``, so Fast DDS' default shared-memory transport
  would carry the data past the veth link (a link down would change nothing).
* Discovery by initial peers only: the other host's address in ``initialPeersList``, and a
  metatraffic unicast locator, which keeps Fast DDS from creating its multicast discovery
  locator. With peers that are not there nothing is discovered (the tests check it). Without
  that locator, ``ROS_AUTOMATIC_DISCOVERY_RANGE=SUBNET`` discovers by multicast despite wrong
  peers; an empty ``metatrafficMulticastLocatorList`` makes Fast DDS reject the whole file.
* :func:`dds_env` sets ``ROS_AUTOMATIC_DISCOVERY_RANGE=SYSTEM_DEFAULT``: rmw_fastrtps leaves
  discovery as the profile says. With this profile ``LOCALHOST`` (what ``scripts/env.sh``
  sets; rmw adds 127.0.0.1 as a peer and clears multicast) and ``SUBNET`` work as well.
  It drops an inherited ``FASTRTPS_DEFAULT_PROFILES_FILE``: rmw_fastrtps loads that legacy
  file first (with a deprecation warning), its default profile wins and ours is rejected as a
  duplicate.

Alternative, no peers in the XML: a UDP-only profile without ``initialPeersList`` plus
``ROS_STATIC_PEERS=<other host>`` (``;``-separated) and ``ROS_AUTOMATIC_DISCOVERY_RANGE=
LOCALHOST``: rmw_fastrtps adds the static peers and turns multicast off, also peers only
(measured). With ``SUBNET`` instead, static peers are added but multicast stays on. The XML is
used here because it is one file per host that any Fast DDS program reads, ROS or not.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
import functools
import ipaddress
import itertools
import os
from pathlib import Path
import shutil
import subprocess
import sys
import time
from types import TracebackType
from typing import Any
from xml.sax.saxutils import escape

PACKAGE = 'vla_ros'
TEMPLATE_NAME = 'fastdds_udp_peers.xml.in'
PEERS_PLACEHOLDER = '@PEERS@'
HOSTS = ('a', 'b')
IP_TIMEOUT_S = 10.0
STOP_TIMEOUT_S = 5.0
CARRIER_TIMEOUT_S = 5.0
_counter = itertools.count()


def _ip(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    """Run ``ip ARGS``; raise RuntimeError with its stderr when it fails and check is set."""
    proc = subprocess.run(['ip', *args], capture_output=True, text=True, timeout=IP_TIMEOUT_S)
    if check and proc.returncode != 0:
        raise RuntimeError(f'ip {" ".join(args)}: {proc.stderr.strip() or proc.returncode}')
    return proc


@functools.lru_cache(maxsize=1)
def netns_available() -> str:
    """
    Return '' when network namespaces can be made here, else why not (a pytest.skip reason).

    Tries for real: creates a namespace, runs ``true`` in it, deletes it.
    """
    if not sys.platform.startswith('linux'):
        return f'network namespaces need Linux (this is {sys.platform})'
    if os.geteuid() != 0:
        return 'network namespaces need root (ip netns add)'
    if shutil.which('ip') is None:
        return 'the ip command (iproute2) is not installed'
    name = f'vla-probe-{os.getpid()}'
    try:
        add = _ip('netns', 'add', name, check=False)
        if add.returncode != 0:
            return f'ip netns add failed: {add.stderr.strip()}'
        run = _ip('netns', 'exec', name, 'true', check=False)
        if run.returncode != 0:
            return f'ip netns exec failed: {run.stderr.strip()}'
        link = _ip('-n', name, 'link', 'set', 'lo', 'up', check=False)
        if link.returncode != 0:
            return f'ip link set lo up in a namespace failed: {link.stderr.strip()}'
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f'ip netns failed: {exc}'
    finally:
        _ip('netns', 'delete', name, check=False)
    return ''


def default_subnet() -> str:
    """
    Return a private /24 for the next :class:`TwoHosts`: ``10.231.N.0/24``, N from pid and count.

    Each pair lives in its own namespaces, so even equal subnets cannot clash; distinct ones
    only keep logs and captures of parallel runs apart.
    """
    n = (os.getpid() * 7 + next(_counter)) % 254 + 1
    return f'10.231.{n}.0/24'


class TwoHosts:
    """
    Two network namespaces ``a`` and ``b`` joined by a veth pair; a context manager.

    ``with TwoHosts() as net:`` creates everything, the exit deletes it (also after a failed
    step) and stops what :meth:`popen` started that still runs.
    """

    def __init__(self, subnet: str | None = None, prefix: str = 'vla') -> None:
        """
        Name the namespaces and links; nothing is created before :meth:`create` or ``with``.

        ``subnet``: an IPv4 network with at least two host addresses (default
        :func:`default_subnet`); host ``a`` gets the first, ``b`` the second. ``prefix``
        starts the namespace names, which go on with the pid and a counter.
        Raises ValueError for a subnet too small.
        """
        net = ipaddress.IPv4Network(subnet or default_subnet(), strict=False)
        hosts = list(itertools.islice(net.hosts(), 2))
        if len(hosts) < 2:
            raise ValueError(f'subnet {net} has fewer than two host addresses')
        self.subnet = net
        pid, index = os.getpid(), next(_counter)
        self.namespaces = {h: f'{prefix}{pid}x{index}{h}' for h in HOSTS}
        # interface names have at most 15 characters (IFNAMSIZ - 1)
        self.interfaces = {h: f'v{pid % 10**7}x{index % 1000}{h}' for h in HOSTS}
        self.addresses = {h: str(a) for h, a in zip(HOSTS, hosts)}
        self._procs: list[subprocess.Popen[Any]] = []
        self._created: list[str] = []

    def __enter__(self) -> TwoHosts:
        """Create the namespaces and the link (:meth:`create`)."""
        self.create()
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        """Delete everything (:meth:`close`)."""
        self.close()

    def _check(self, host: str) -> str:
        """Return host when it is 'a' or 'b', else raise ValueError."""
        if host not in HOSTS:
            raise ValueError(f'host must be one of {HOSTS}, not {host!r}')
        return host

    def create(self) -> None:
        """Create both namespaces, the veth pair, the addresses; bring lo and veth up."""
        try:
            for h in HOSTS:
                _ip('netns', 'add', self.namespaces[h])
                self._created.append(self.namespaces[h])
            a, b = HOSTS
            # created straight in the namespaces: nothing appears in the caller's namespace
            _ip('link', 'add', self.interfaces[a], 'netns', self.namespaces[a], 'type', 'veth',
                'peer', 'name', self.interfaces[b], 'netns', self.namespaces[b])
            for h in HOSTS:
                ns, dev = self.namespaces[h], self.interfaces[h]
                _ip('-n', ns, 'link', 'set', 'lo', 'up')
                _ip('-n', ns, 'addr', 'add', f'{self.addresses[h]}/{self.subnet.prefixlen}',
                    'dev', dev)
                _ip('-n', ns, 'link', 'set', dev, 'up')
            self.wait_carrier(True)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Stop the processes :meth:`popen` started, delete both namespaces; never raise."""
        for proc in self._procs:
            if proc.poll() is None:
                proc.terminate()
        for proc in self._procs:
            try:
                proc.wait(timeout=STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        self._procs.clear()
        # deleting a namespace deletes the veth end in it, and with it the peer end
        for ns in reversed(self._created):
            try:
                _ip('netns', 'delete', ns, check=False)
            except (OSError, subprocess.TimeoutExpired):
                pass
        self._created.clear()

    def address(self, host: str) -> str:
        """Return the IPv4 address of host ('a' or 'b') on the link."""
        return self.addresses[self._check(host)]

    def peer(self, host: str) -> str:
        """Return the IPv4 address of the host that is not host."""
        return self.addresses[HOSTS[1 - HOSTS.index(self._check(host))]]

    def exec_argv(self, host: str, argv: Sequence[str]) -> list[str]:
        """Return argv prefixed with ``ip netns exec NAME``: it runs in host's namespace."""
        return ['ip', 'netns', 'exec', self.namespaces[self._check(host)], *argv]

    def run(self, host: str, argv: Sequence[str],
            **kwargs: Any) -> subprocess.CompletedProcess[Any]:
        """Run argv in host's namespace to completion (``subprocess.run`` keywords)."""
        return subprocess.run(self.exec_argv(host, argv), **kwargs)

    def popen(self, host: str, argv: Sequence[str], env: Mapping[str, str] | None = None,
              **kwargs: Any) -> subprocess.Popen[Any]:
        """
        Start argv in host's namespace (``subprocess.Popen`` keywords); close() stops it.

        ``env`` is the whole environment of the process (default: this process's).
        """
        proc = subprocess.Popen(self.exec_argv(host, argv),
                                env=dict(env) if env is not None else None, **kwargs)
        self._procs.append(proc)
        return proc

    def link(self, up: bool, host: str = 'a', wait: bool = True) -> None:
        """
        Set host's veth end up or down, from inside its namespace (a pulled cable).

        ``wait``: return once both ends report the new state (:meth:`wait_carrier`).
        """
        h = self._check(host)
        _ip('-n', self.namespaces[h], 'link', 'set', self.interfaces[h],
            'up' if up else 'down')
        if wait:
            self.wait_carrier(up)

    def operstate(self, host: str) -> str:
        """Return the kernel's operational state of host's veth end ('UP', 'DOWN', ...)."""
        h = self._check(host)
        out = _ip('-n', self.namespaces[h], '-o', 'link', 'show', 'dev', self.interfaces[h])
        words = out.stdout.split()
        return words[words.index('state') + 1] if 'state' in words else 'UNKNOWN'

    def wait_carrier(self, up: bool, timeout: float = CARRIER_TIMEOUT_S) -> float:
        """
        Wait until both veth ends are operationally up (or not); return the seconds waited.

        A veth end gets its carrier some milliseconds after both ends are set up. A DDS
        participant started before that announces only 127.0.0.1 and is never reachable from
        the other host, so :meth:`create` waits. Raises TimeoutError after timeout seconds.
        """
        t0 = time.monotonic()
        while True:
            states = [self.operstate(h) for h in HOSTS]
            if all((s == 'UP') == up for s in states):
                return time.monotonic() - t0
            if time.monotonic() - t0 > timeout:
                raise TimeoutError(f'veth states {states} after {timeout} s, wanted up={up}')
            time.sleep(0.01)


def template_candidates() -> list[Path]:
    """
    Return every place the UDP peers template is looked for, in order.

    ``config/`` of the checkout this module was imported from (a plain checkout or a colcon
    ``--symlink-install``), then ``share/vla_ros/config`` under each ``AMENT_PREFIX_PATH``
    entry and under ``sys.prefix`` (an installed package; setup.py must install
    ``config/*.xml.in`` for that).
    """
    out = [Path(__file__).resolve().parents[2] / 'config' / TEMPLATE_NAME]
    prefixes = [p for p in os.environ.get('AMENT_PREFIX_PATH', '').split(os.pathsep) if p]
    for prefix in [*prefixes, sys.prefix]:
        out.append(Path(prefix) / 'share' / PACKAGE / 'config' / TEMPLATE_NAME)
    return list(dict.fromkeys(out))


def find_template() -> Path:
    """Return the first existing :func:`template_candidates`; FileNotFoundError names all."""
    candidates = template_candidates()
    for c in candidates:
        if c.is_file():
            return c
    raise FileNotFoundError(f'{TEMPLATE_NAME} not found in ' + ', '.join(map(str, candidates)))


def peer_locators(peers: Sequence[str], indent: str = '') -> str:
    """Return one ``<locator>`` element per IPv4 address in peers, a line each."""
    lines = []
    for p in peers:
        addr = str(ipaddress.IPv4Address(p))  # ValueError on anything but a dotted IPv4
        lines.append(f'{indent}<locator><udpv4><address>{escape(addr)}</address></udpv4>'
                     '</locator>')
    return '\n'.join(lines)


def write_udp_profile(path: str | os.PathLike[str], peers: Sequence[str],
                      template: str | os.PathLike[str] | None = None) -> Path:
    """
    Write the UDP-only Fast DDS profile with peers as initial peers to path; return path.

    ``template`` defaults to :func:`find_template`. Each peer is an IPv4 address (at least
    one: with no initial peer, nothing is discovered).
    """
    if not peers:
        raise ValueError('at least one peer address is needed')
    src = Path(template) if template is not None else find_template()
    text = src.read_text(encoding='utf-8')
    if PEERS_PLACEHOLDER not in text:
        raise ValueError(f'{src}: no {PEERS_PLACEHOLDER} placeholder')
    out_lines = []
    for line in text.splitlines(keepends=True):
        if PEERS_PLACEHOLDER in line and line.strip() == PEERS_PLACEHOLDER:
            indent = line[:len(line) - len(line.lstrip())]
            out_lines.append(peer_locators(peers, indent) + '\n')
        else:
            out_lines.append(line.replace(PEERS_PLACEHOLDER, peer_locators(peers)))
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(''.join(out_lines), encoding='utf-8')
    return out


def dds_env(profile: str | os.PathLike[str], domain_id: int,
            base: Mapping[str, str] | None = None) -> dict[str, str]:
    """
    Return the environment of a ROS 2 process that talks over profile (this one's, overridden).

    ``base`` defaults to ``os.environ`` (so AMENT_PREFIX_PATH and the rest of
    ``scripts/env.sh`` carry over). Sets ``FASTDDS_DEFAULT_PROFILES_FILE``, ``ROS_DOMAIN_ID``,
    ``RMW_IMPLEMENTATION=rmw_fastrtps_cpp`` and ``ROS_AUTOMATIC_DISCOVERY_RANGE=SYSTEM_DEFAULT``
    (discovery from the profile as written). Drops what would change that:
    ``ROS_STATIC_PEERS``, ``ROS_LOCALHOST_ONLY``, ``ROS_DISCOVERY_SERVER`` and the legacy
    ``FASTRTPS_DEFAULT_PROFILES_FILE`` (loaded before ours, its profile would win).
    """
    env = dict(os.environ if base is None else base)
    for name in ('ROS_STATIC_PEERS', 'ROS_LOCALHOST_ONLY', 'ROS_DISCOVERY_SERVER',
                 'FASTRTPS_DEFAULT_PROFILES_FILE'):
        env.pop(name, None)
    path = str(Path(profile).resolve())
    env.update({
        'FASTDDS_DEFAULT_PROFILES_FILE': path,
        'ROS_DOMAIN_ID': str(int(domain_id)),
        'RMW_IMPLEMENTATION': 'rmw_fastrtps_cpp',
        'ROS_AUTOMATIC_DISCOVERY_RANGE': 'SYSTEM_DEFAULT',
    })
    return env
