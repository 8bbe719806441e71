"""Helpers shared by the tests (real ROS, no fakes of ROS itself)."""
