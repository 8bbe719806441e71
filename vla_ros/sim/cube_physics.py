"""
Hidden cube properties per episode: mass, friction, size and the grip force that crushes it.

With ``cube_physics: fixed`` every cube is the scene's 4 cm, 50 g cube and the gentle task's
force limit is :data:`FIXED_CRUSH_N`. With ``varied`` each cube of an episode draws (from the
world seed and its name) a mass, a friction coefficient and a size, and the gentle task judges
the grip against the cube's own crush limit. The limit scales with the grip the cube needs
(light cubes are the fragile ones), so the window between too loose (it slips) and too tight
(it breaks) is :data:`CRUSH_MARGIN` wide for every cube, and no one fixed squeeze fits all
cubes. Looks do not tell the weight: only a grip that feels the cube slip finds it
(docs/sim.md, "Touch task").

Units: kg, m, N. Forces are summed over both finger pads (what the taxels measure).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
import math
import zlib

import numpy as np
from vla_ros.errors import ConfigError

GRAVITY = 9.81                    # [m/s^2]
FIXED_MASS_KG = 0.05
FIXED_FRICTION = 1.2
FIXED_CRUSH_N = 4.0               # gentle task limit in fixed mode (summed pad force) [N]
MASS_KG = (0.06, 0.72)            # varied: log-uniform mass range [kg]
FRICTION = (0.9, 1.2)             # varied: sliding friction (uniform)
SIZE_M = (0.036, 0.044)           # varied: edge length (uniform) [m]
CRUSH_MARGIN = 2.5                # varied: crush limit = margin x the summed grip needed
# varied: cubes stand within +-0.4 rad of the gripper's axes. A grip under 1 N cannot turn a
# cube that stands at 45 deg square; wedged on its edges it reads 5-10x the effort on the pads.
VARIED_MAX_YAW = 0.4              # [rad]
PEAK_FILTER_S = 0.02              # varied: the grip force peak is low-passed over this [s]


class CubePhysics(str, Enum):
    FIXED = 'fixed'      # the scene's cube, gentle limit FIXED_CRUSH_N
    VARIED = 'varied'    # hidden mass / friction / size per cube and episode


@dataclass(frozen=True)
class CubeProps:
    """One cube in one episode: mass [kg], friction, edge [m], crush limit [N] (summed)."""

    mass_kg: float
    friction: float
    size_m: float
    crush_n: float

    @property
    def grip_needed_n(self) -> float:
        """Return the summed normal force the two pads need to hold the cube still [N]."""
        return self.mass_kg * GRAVITY / self.friction


def cube_props(mode: CubePhysics | str, seed: int, obj: str, *,
               size_m: float = 0.04) -> CubeProps:
    """
    Return the properties of cube ``obj`` in the episode of ``seed``.

    ``size_m``: the scene's cube edge, used in fixed mode.
    """
    try:
        mode = CubePhysics(mode)
    except ValueError:
        raise ConfigError(f'cube_physics must be one of {[m.value for m in CubePhysics]}, '
                          f'got {mode!r}') from None
    if mode is CubePhysics.FIXED:
        return CubeProps(FIXED_MASS_KG, FIXED_FRICTION, size_m, FIXED_CRUSH_N)
    rng = np.random.default_rng([int(seed), zlib.crc32(f'cube:{obj}'.encode())])
    mass = float(math.exp(rng.uniform(*np.log(MASS_KG))))
    friction = float(rng.uniform(*FRICTION))
    size = float(rng.uniform(*SIZE_M))
    need = mass * GRAVITY / friction
    return CubeProps(mass, friction, size, CRUSH_MARGIN * need)
