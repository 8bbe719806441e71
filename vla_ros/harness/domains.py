"""
DDS domains claimed for a while, so processes started on one machine never share a domain.

Tests, parallel test workers, benchmarks and evaluation episodes each start nodes that publish
the same topic names; two of them in one ``ROS_DOMAIN_ID`` would read each other's streams. A
claim holds an exclusive ``flock`` on ``<tmp>/vla_ros_dds_domains/<id>.lock`` until it is
released (or its process exits: the kernel drops the lock), so any process that claims its
domains here gets one nobody else here holds. Domains picked without a claim (a robot's, a
user's ``ROS_DOMAIN_ID``) are not seen.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
import random
import tempfile

from vla_ros.errors import ProcessError

# Fast DDS derives UDP ports from the domain: 0..232 are valid
MAX_DOMAIN_ID = 232
LOCK_DIR_NAME = 'vla_ros_dds_domains'


class DomainClaim:
    """An exclusive hold on one DDS domain id; :meth:`release` (or process exit) frees it."""

    def __init__(self, domain_id: int, fd: int) -> None:
        """Hold ``domain_id`` through ``fd``, an open lock file with the exclusive flock."""
        self.domain_id = domain_id
        self._fd: int | None = fd

    def release(self) -> None:
        """Free the domain (idempotent)."""
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the flock
            self._fd = None

    def __enter__(self) -> DomainClaim:
        """Return the claim; leaving the ``with`` block releases it."""
        return self

    def __exit__(self, *exc: object) -> None:
        """Release the domain."""
        self.release()

    def __repr__(self) -> str:
        """Return the domain id and whether it is still held."""
        return f'DomainClaim({self.domain_id}, held={self._fd is not None})'


def lock_dir() -> Path:
    """Return (and create) the directory of the per-domain lock files."""
    d = Path(tempfile.gettempdir()) / LOCK_DIR_NAME
    d.mkdir(mode=0o777, exist_ok=True)
    return d


def try_claim(domain_id: int) -> DomainClaim | None:
    """Claim ``domain_id`` if nobody holds it; None when it is taken."""
    if not 0 <= domain_id <= MAX_DOMAIN_ID:
        raise ValueError(f'DDS domain id must be in 0..{MAX_DOMAIN_ID}, got {domain_id}')
    path = lock_dir() / f'{domain_id}.lock'
    fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return DomainClaim(domain_id, fd)


def claim_domain(lo: int, hi: int, *, rng: random.Random | None = None) -> DomainClaim:
    """
    Claim a free domain in ``lo..hi`` (inclusive), tried in random order.

    :raises ProcessError: every domain of the range is held.
    """
    ids = list(range(lo, hi + 1))
    (rng or random).shuffle(ids)
    for domain_id in ids:
        claim = try_claim(domain_id)
        if claim is not None:
            return claim
    raise ProcessError(f'no free DDS domain in {lo}..{hi}: all {len(ids)} are claimed '
                       f'(lock files in {lock_dir()})')
