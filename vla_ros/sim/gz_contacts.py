"""
Gazebo contact reports -> taxel forces (ROS-free; messages are duck-typed).

A gz contact sensor on a finger link reports contacts of the taxel collisions it lists. Gazebo
converts the URDF with sdformat, which renames every collision (``left_finger_taxel_0_0`` ->
``left_finger_link_fixed_joint_lump__left_finger_taxel_0_0_collision_1``, see
:func:`vla_ros.sim.gazebo.sdf_collision_names`), and reports scoped names
(``vla_arm::left_finger_link::<collision>``). A taxel is looked up by the last scope of the
name, as converted or as in the URDF, so the order is the generator's, not a guess from the
name. ``ros_gz_interfaces/Contacts``: ``contacts[i].collision1/2.name`` and
``contacts[i].wrenches[k].body_1_wrench.force`` / ``body_2_wrench.force``.
"""

from __future__ import annotations

import functools
import math

import numpy as np
from vla_ros.sim.gazebo import taxel_collision_names
from vla_ros.sim.robot import ROBOT


@functools.cache
def taxel_table() -> dict[str, tuple[str, int]]:
    """Collision name (sdformat's and the URDF's) -> (pad name, row-major taxel index)."""
    table = {}
    for pad in ROBOT.pads:
        for i, (geom, sdf_name) in enumerate(zip(pad.taxel_geoms(),
                                                 taxel_collision_names(pad))):
            table[geom.name] = table[sdf_name] = (pad.name, i)
    return table


def taxel_index(collision_name: str) -> tuple[str, int] | None:
    """(pad name, row-major index) of a (scoped) taxel collision name, or None."""
    return taxel_table().get(collision_name.rsplit('::', 1)[-1])


def _norm(v) -> float:
    return math.sqrt(v.x * v.x + v.y * v.y + v.z * v.z)


def contacts_to_taxels(contacts_msg, pad: str) -> np.ndarray:
    """Sum contact force magnitude [N] per taxel of ``pad``, float32 [rows * cols]."""
    spec = next(p for p in ROBOT.pads if p.name == pad)
    out = np.zeros(spec.rows * spec.cols, np.float32)
    for contact in contacts_msg.contacts:
        for side, coll in ((1, contact.collision1), (2, contact.collision2)):
            hit = taxel_index(coll.name)
            if hit is None or hit[0] != pad:
                continue
            force = 0.0
            for w in contact.wrenches:
                force += _norm((w.body_1_wrench if side == 1 else w.body_2_wrench).force)
            out[hit[1]] += force
            break
    return out
