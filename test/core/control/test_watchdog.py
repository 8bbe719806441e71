"""
ClockWatchdog: a ROS clock that stops advancing in wall time is reported past the timeout.

A clock that never started is not reported; a running one resets the watchdog.
"""

import pytest
from vla_ros.core.control.watchdog import ClockWatchdog
from vla_ros.errors import ConfigError


def test_stall_reported_after_timeout_and_cleared_when_the_clock_runs():
    dog = ClockWatchdog(0.5)
    assert dog.update(100, 10.0) is None
    assert dog.update(100, 10.4) is None and not dog.stalled
    assert dog.update(100, 10.6) == pytest.approx(0.6) and dog.stalled
    assert dog.update(101, 10.7) is None and not dog.stalled


def test_unstarted_clock_is_not_a_stall():
    dog = ClockWatchdog(0.1)
    for t in (0.0, 1.0, 2.0):
        assert dog.update(0, t) is None


def test_bad_timeout_rejected():
    with pytest.raises(ConfigError, match='timeout'):
        ClockWatchdog(0.0)
