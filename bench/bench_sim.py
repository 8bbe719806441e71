"""
BENCH sim: one control tick of the MuJoCo world against physics only, in the same run.

A tick is physics for 1/30 s + render of both 224x224 cameras (what mujoco_sim does per camera
frame at 30 Hz). Baseline in the same run: physics only for the same sim time. ``ratio`` =
ticks/s with rendering / ticks/s physics-only (the share of the tick budget rendering leaves).
"""

from __future__ import annotations

import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(__file__), '..'))

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import _smoke as S  # noqa: E402, I100
from vla_ros.sim.world import SimWorld, WorldConfig  # noqa: E402, I100

DURATION_S = S.pick(6.0, 0.6)
TICK_S = 1.0 / 30.0


def _rate(world: SimWorld, render: bool, duration_s: float) -> float:
    steps = max(1, round(TICK_S / world.model.opt.timestep))
    n, t0 = 0, time.monotonic()
    while time.monotonic() - t0 < duration_s:
        world.step(steps)
        if render:
            for cam in world.config.cameras:
                world.render(cam)
        n += 1
    return n / (time.monotonic() - t0)


def main() -> None:
    world = SimWorld(WorldConfig(image_width=224, image_height=224), seed=0)
    world.render('front')  # create the GL context outside the timing
    world.set_arm_command(world.home + 0.3)  # the arm moves while measuring
    physics = _rate(world, False, DURATION_S / 3)
    full = _rate(world, True, DURATION_S)
    world.close()
    print(f'BENCH sim hz={full:.1f} cameras={len(world.config.cameras)} size=224 '
          f'physics_only_hz={physics:.1f} gl={os.environ.get("MUJOCO_GL")} '
          f'ratio={full / physics:.3f}{S.tag()}')


if __name__ == '__main__':
    main()
