"""Fixtures of the node tests: a controller-side Listener in its own rclpy context."""

from __future__ import annotations

from helpers.policy_graph import Listener
import pytest


@pytest.fixture
def listener():
    """``rclpy.init()``, a :class:`policy_graph.Listener`, then close and shut down."""
    import rclpy

    rclpy.init()
    lis = Listener(rclpy)
    try:
        yield lis
    finally:
        lis.close()
        rclpy.try_shutdown()
