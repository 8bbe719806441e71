"""
``vla-ros demo``: the end-to-end demo (same as ``make demo``).

Starts ``mujoco_sim`` and ``vla_policy``, sends a language command, runs one episode, prints
success, latencies and rates, and writes a GIF (front | wrist camera). Exits 1 when the task
fails (``--allow-fail`` accepts that) or the loop breaks.
"""

from __future__ import annotations

import argparse


def add_arguments(parser: argparse.ArgumentParser) -> None:
    from vla_ros.eval import demo
    demo.add_arguments(parser)


def run(args: argparse.Namespace) -> int:
    from vla_ros.eval import demo
    return demo.run(args)
