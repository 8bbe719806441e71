"""Joint-state interpolation to a frame time (ROS-free; used by the synchronizer)."""

from __future__ import annotations

import numpy as np

JointSample = tuple[int, tuple[np.ndarray, np.ndarray]]   # (stamp [ns], (positions, velocities))


def interpolate_joints(before: JointSample | None, after: JointSample | None, t: int
                       ) -> tuple[np.ndarray, np.ndarray, int, int] | None:
    """
    Positions/velocities at ``t`` [ns] from the samples bracketing it.

    Linear between two samples; the single one held (not extrapolated) otherwise. The
    result is a convex combination of the samples, so it is finite whenever they are bounded
    (the synchronizer rejects joint values beyond ``JOINT_MAX_ABS`` at ingest).

    :return: (positions [J], velocities [J], source stamp [ns] = the nearer sample,
        age [ns] = distance to the nearer sample), or None without samples.
    """
    if before is not None and after is not None:
        (t0, (p0, v0)), (t1, (p1, v1)) = before, after
        w = (t - t0) / (t1 - t0)
        pos = p1 - p0
        pos *= w
        pos += p0  # == p0 + w * (p1 - p0), without temporaries
        if v0 is v1:  # both the shared zeros (no velocities sent)
            vel = v0
        else:
            vel = v1 - v0
            vel *= w
            vel += v0
        return pos, vel, (t0 if w <= 0.5 else t1), min(t - t0, t1 - t)
    if before is not None or after is not None:
        src, (pos, vel) = before if before is not None else after
        return pos, vel, src, abs(t - src)
    return None
