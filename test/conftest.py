"""Shared pytest fixtures: an isolated DDS domain per test session and an rclpy fixture."""

from __future__ import annotations

import os
import pathlib

import pytest
from vla_ros.harness.domains import claim_domain
from xdist.scheduler import LoadScopeScheduling

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
# Each pytest process (a session, or each pytest-xdist worker: they inherit the controller's
# environment) claims its own DDS domain, so concurrent runs and workers never cross-talk; the
# claim (vla_ros.harness.domains) lasts until the process exits. A ROS_DOMAIN_ID set by the user
# is kept in a plain session; xdist workers cannot share one, so each claims its own.
SESSION_DOMAINS = (20, 119)  # 1..19 stay quiet: test_cli_errors claims its "no node" domain there
_CLAIMED = 'VLA_ROS_TEST_DOMAIN_CLAIMED'
SESSION_DOMAIN_CLAIM = None
if ('ROS_DOMAIN_ID' not in os.environ or os.environ.get(_CLAIMED)
        or os.environ.get('PYTEST_XDIST_WORKER')):
    SESSION_DOMAIN_CLAIM = claim_domain(*SESSION_DOMAINS)
    os.environ['ROS_DOMAIN_ID'] = str(SESSION_DOMAIN_CLAIM.domain_id)
    os.environ[_CLAIMED] = '1'
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('FASTDDS_DEFAULT_PROFILES_FILE', str(REPO_ROOT / 'config/fastdds_shm.xml'))

# Parallel runs (make test: pytest-xdist, `-n 2 --dist loadscope`): the tests run in groups,
# each group on one worker, in order. A module is a group (its module-scoped fixtures are built
# once). HEAVY_PATHS are one group, run one after another and first: they share process-wide
# caches (the LeRobot checkpoints and exports of helpers.lerobot_chain, which the bench smoke's
# real_vla reuses), start network namespaces or a Ray cluster, and load the CPU most (exports,
# three bench lanes); the closed-loop evaluation of the default bundle is with them, so it never
# runs beside an export or the bench lanes (a starved CPU costs it episodes). xdist's own
# `loadgroup` marks do nothing under pytest 9 (node ids are structured there: the group name
# xdist appends to them is lost), hence GroupScheduling.
HEAVY_GROUP = 'heavy'
HEAVY_PATHS = ('test/eval/test_closed_loop_default.py', 'test/harness/test_netns.py',
               'test/lerobot_io/', 'test/serving/test_ray_fleet.py',
               'test/sim/test_foreign_bundles.py', 'test/sim/test_remote_netns.py',
               'test/test_bench_smoke.py')


def xdist_group_of(nodeid: str) -> str:
    """Return the xdist group of a test: HEAVY_GROUP or its module's path."""
    path = nodeid.split('::', 1)[0]
    return HEAVY_GROUP if path.startswith(HEAVY_PATHS) else path


class GroupScheduling(LoadScopeScheduling):
    """xdist's ``loadscope`` with :func:`xdist_group_of` as the scope."""

    def _split_scope(self, nodeid: str) -> str:
        return xdist_group_of(nodeid)


def pytest_xdist_make_scheduler(config: pytest.Config, log) -> GroupScheduling | None:
    """``--dist loadscope``: :class:`GroupScheduling` (other modes: xdist's own)."""
    return GroupScheduling(config, log) if config.getvalue('dist') == 'loadscope' else None


@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """In an xdist worker: the heavy group first (the scheduler hands groups out in order)."""
    if os.environ.get('PYTEST_XDIST_WORKER'):
        items.sort(key=lambda item: xdist_group_of(item.nodeid) != HEAVY_GROUP)  # stable


@pytest.fixture
def rclpy_init():
    """``rclpy.init()`` / yield / ``rclpy.shutdown()`` as in rclpy's own tests."""
    import rclpy

    rclpy.init()
    try:
        yield rclpy
    finally:
        rclpy.try_shutdown()


@pytest.fixture
def repo_root() -> pathlib.Path:
    """Return the repository root directory."""
    return REPO_ROOT


REPORT_PREFIX = 'measured: '


def pytest_terminal_summary(terminalreporter) -> None:
    """Print what tests measured (``record_property('measured: <what>', value)``), even when -q."""
    lines = [f'{r.nodeid}: {k[len(REPORT_PREFIX):]} = {v}'
             for outcome in ('passed', 'failed')
             for r in terminalreporter.stats.get(outcome, [])
             for k, v in getattr(r, 'user_properties', ()) if k.startswith(REPORT_PREFIX)]
    if lines:
        terminalreporter.section('measured by the tests')
        for line in lines:
            terminalreporter.write_line(line)
