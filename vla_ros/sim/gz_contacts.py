"""
Gazebo contact reports -> taxel forces (ROS-free; messages are duck-typed).

A gz contact sensor on a finger link reports contacts of its taxel collisions (named
``<pad>_taxel_<row>_<col>`` by vla_ros/sim/robot.py; Gazebo may prefix scopes, so names are
matched by pattern). ``ros_gz_interfaces/Contacts``: ``contacts[i].collision1/2.name`` and
``contacts[i].wrenches[k].body_1_wrench.force`` / ``body_2_wrench.force``.
"""

from __future__ import annotations

import math
import re

import numpy as np
from vla_ros.sim.robot import ROBOT

TAXEL_RE = re.compile(r'(?P<pad>[A-Za-z0-9]+_finger)_taxel_(?P<row>\d+)_(?P<col>\d+)')


def taxel_index(collision_name: str) -> tuple[str, int] | None:
    """(pad name, row-major index) of a taxel collision name, or None."""
    m = TAXEL_RE.search(collision_name)
    if not m:
        return None
    for pad in ROBOT.pads:
        if pad.name == m['pad']:
            r, c = int(m['row']), int(m['col'])
            if r < pad.rows and c < pad.cols:
                return pad.name, r * pad.cols + c
    return None


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
