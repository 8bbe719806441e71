"""Shared pytest fixtures: an isolated DDS domain per test session and an rclpy fixture."""

from __future__ import annotations

import os
import pathlib
import random

import pytest

REPO_ROOT = pathlib.Path(__file__).resolve().parents[1]
# Each pytest session gets its own DDS domain so concurrent runs (and robots) never cross-talk.
os.environ.setdefault('ROS_DOMAIN_ID', str(random.Random(os.getpid()).randint(1, 100)))
os.environ.setdefault('ROS_AUTOMATIC_DISCOVERY_RANGE', 'LOCALHOST')
os.environ.setdefault('FASTDDS_DEFAULT_PROFILES_FILE', str(REPO_ROOT / 'config/fastdds_shm.xml'))


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
