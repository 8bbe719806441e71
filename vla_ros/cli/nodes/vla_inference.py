"""``vla_inference``: the console script of :class:`~vla_ros.nodes.vla_inference.VlaInference`."""

from __future__ import annotations

import sys

from vla_ros.nodes.vla_inference import GIL_SWITCH_INTERVAL_S, VlaInference
from vla_ros.ros.spin import run_node


def main(args: list[str] | None = None) -> None:
    """Run the remote inference server until SIGINT/SIGTERM."""
    # the inference thread, woken by a request, needs the GIL the executor thread holds: with
    # Python's 5 ms switch interval that wait was most of a round trip (as in vla_policy)
    sys.setswitchinterval(GIL_SWITCH_INTERVAL_S)
    run_node(VlaInference, args)
