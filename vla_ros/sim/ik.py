"""
Inverse kinematics (damped least squares) and scripted-motion helpers for the sim arm.

Works on a private ``MjData`` so solving never disturbs the running simulation. The tool frame
is the ``tcp`` site between the finger pads: its z axis points along the fingers, the fingers
close along its y axis.
"""

from __future__ import annotations

from dataclasses import dataclass
import math

import mujoco  # noqa: I001
import numpy as np
from vla_ros import constants as C
from vla_ros.errors import ConfigError
import vla_ros.sim  # noqa: F401  (headless GL backend before mujoco)

# Tool pointing down, fingers closing along world y, tool x toward the robot (home pose).
TOP_DOWN = np.array([[-1.0, 0.0, 0.0], [0.0, 1.0, 0.0], [0.0, 0.0, -1.0]])


def top_down_rotation(yaw: float) -> np.ndarray:
    """Tool rotation [3x3] pointing straight down, turned by ``yaw`` [rad] about world z."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]]) @ TOP_DOWN


def grasp_yaw(object_yaw: float, reference_yaw: float = 0.0) -> float:
    """
    Tool yaw aligning the fingers with a cube's faces (cube symmetry: pi/2).

    The yaw nearest ``reference_yaw`` (e.g. ``atan2(y, x)`` of the cube, so the wrist turns least).
    """
    q = math.pi / 2
    k = round((reference_yaw - object_yaw) / q)
    return object_yaw + k * q


@dataclass(frozen=True)
class IkResult:
    q: np.ndarray          # arm joint positions [rad], constants order
    position_error: float  # [m]
    rotation_error: float  # [rad]
    converged: bool
    iterations: int


class IkSolver:
    """
    Damped-least-squares IK for the 6 arm joints on the tool site.

    :param model: the world's ``MjModel`` (``SimWorld.model``).
    :param damping: DLS damping lambda; larger = smoother, less exact near singularities.
    """

    def __init__(self, model: mujoco.MjModel, *, site: str = 'tcp', damping: float = 0.05,
                 max_iterations: int = 300, position_tolerance: float = 1e-3,
                 rotation_tolerance: float = 1e-2, max_step: float = 0.2) -> None:
        if damping <= 0:
            raise ConfigError(f'damping must be > 0, got {damping}')
        self.model = model
        self.data = mujoco.MjData(model)
        self.site = mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_SITE, site)
        if self.site < 0:
            raise ConfigError(f'no site {site!r} in the model')
        jid = [mujoco.mj_name2id(model, mujoco.mjtObj.mjOBJ_JOINT, n)
               for n in C.DEFAULT_ARM_JOINTS]
        self.qadr = np.array([model.jnt_qposadr[j] for j in jid])
        self.dadr = np.array([model.jnt_dofadr[j] for j in jid])
        self.lower = np.array([model.jnt_range[j][0] for j in jid])
        self.upper = np.array([model.jnt_range[j][1] for j in jid])
        self.damping = damping
        self.max_iterations = max_iterations
        self.tol = (position_tolerance, rotation_tolerance)
        self.max_step = max_step
        self._jacp = np.zeros((3, model.nv))
        self._jacr = np.zeros((3, model.nv))

    def forward(self, q: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Tool position [3] and rotation [3x3] for arm joints ``q`` [6]."""
        self.data.qpos[self.qadr] = q
        mujoco.mj_kinematics(self.model, self.data)
        return (self.data.site_xpos[self.site].copy(),
                self.data.site_xmat[self.site].reshape(3, 3).copy())

    def solve(self, position: np.ndarray, rotation: np.ndarray | None,
              q_init: np.ndarray) -> IkResult:
        """Joints reaching ``position`` [m] (and ``rotation`` 3x3 unless None) from ``q_init``."""
        q = np.clip(np.asarray(q_init, float).copy(), self.lower, self.upper)
        target = np.asarray(position, float)
        lam2 = self.damping ** 2
        pos_err = rot_err = math.inf
        for it in range(1, self.max_iterations + 1):
            p, r = self.forward(q)
            e_p = target - p
            pos_err = float(np.linalg.norm(e_p))
            if rotation is not None:
                e_r = _rotation_error(rotation, r)
                rot_err = float(np.linalg.norm(e_r))
            else:
                e_r, rot_err = np.zeros(3), 0.0
            if pos_err < self.tol[0] and rot_err < self.tol[1]:
                return IkResult(q, pos_err, rot_err, True, it)
            mujoco.mj_comPos(self.model, self.data)
            mujoco.mj_jacSite(self.model, self.data, self._jacp, self._jacr, self.site)
            jac = self._jacp[:, self.dadr]
            err = e_p
            if rotation is not None:
                jac = np.vstack([jac, 0.3 * self._jacr[:, self.dadr]])
                err = np.concatenate([e_p, 0.3 * e_r])
            dq = jac.T @ np.linalg.solve(jac @ jac.T + lam2 * np.eye(len(err)), err)
            norm = np.linalg.norm(dq)
            if norm > self.max_step:
                dq *= self.max_step / norm
            q = np.clip(q + dq, self.lower, self.upper)
        return IkResult(q, pos_err, rot_err, False, self.max_iterations)


def _rotation_error(target: np.ndarray, current: np.ndarray) -> np.ndarray:
    """Axis-angle vector [rad] rotating ``current`` onto ``target`` (world frame)."""
    quat = np.zeros(4)
    mujoco.mju_mat2Quat(quat, (target @ current.T).reshape(-1))
    w, v = quat[0], quat[1:]
    if w < 0:
        w, v = -w, -v
    s = np.linalg.norm(v)
    if s < 1e-12:
        return np.zeros(3)
    return 2.0 * math.atan2(s, w) * v / s


def joint_path(q0: np.ndarray, q1: np.ndarray, duration_s: float, dt: float) -> np.ndarray:
    """Smooth (cosine-eased) joint-space path [n, 6] from ``q0`` to ``q1``; the last row = q1."""
    n = max(1, int(round(duration_s / dt)))
    s = 0.5 - 0.5 * np.cos(np.pi * np.arange(1, n + 1) / n)
    return np.asarray(q0)[None, :] + s[:, None] * (np.asarray(q1) - np.asarray(q0))[None, :]
