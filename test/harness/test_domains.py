"""Claimed DDS domains: one holder at a time, across processes, free again once released."""

from __future__ import annotations

import subprocess
import sys

import pytest
from vla_ros.errors import ProcessError
from vla_ros.harness.domains import claim_domain, MAX_DOMAIN_ID, try_claim

# a range no other test claims from (quiet 1..19, sessions 20..119, episodes 20..200, smoke
# 200..232)
FREE = (0, 0)
PROBE = ('import sys; from vla_ros.harness.domains import try_claim; '
         'print(try_claim(int(sys.argv[1])) is not None)')


def _claimable_elsewhere(domain_id: int) -> bool:
    res = subprocess.run([sys.executable, '-c', PROBE, str(domain_id)], capture_output=True,
                         text=True, timeout=60, check=True)
    return res.stdout.strip() == 'True'


def test_a_claimed_domain_is_taken_for_other_processes_until_released():
    claim = claim_domain(*FREE)
    try:
        assert claim.domain_id == 0
        assert try_claim(0) is None  # this process, another descriptor
        assert not _claimable_elsewhere(0)
    finally:
        claim.release()
    assert _claimable_elsewhere(0)
    with claim_domain(*FREE) as again:  # free here too
        assert again.domain_id == 0


def test_a_range_with_every_domain_claimed_says_so_and_ids_are_checked():
    with claim_domain(*FREE):
        with pytest.raises(ProcessError, match=r'no free DDS domain in 0\.\.0'):
            claim_domain(*FREE)
    with pytest.raises(ValueError, match='0..232'):
        try_claim(MAX_DOMAIN_ID + 1)
