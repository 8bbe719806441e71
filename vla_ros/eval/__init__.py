"""Closed-loop evaluation: episodes, sim rollouts, reports, statistics, the fusion study."""
