"""
The robot side of :class:`~vla_ros.core.control.loop.PolicyLoop`: action order <-> controllers.

One bundle's action names mapped onto the configured controllers, the newest measured pose
(``/joint_states``, else the frame's joints) and the controller commands built from safe
action values (ROS-free).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
import dataclasses

import numpy as np
from vla_ros.core.control.adapters import (ActionMapping, ControllerCommand, make_command,
                                           positions_for, TrajectoryMode)
from vla_ros.core.control.config import PolicyConfig
from vla_ros.core.control.measured_pose import MeasuredPose
from vla_ros.core.control.safety import ControlMode
from vla_ros.core.frame import Frame


class Actuation:
    """
    Map actions [A] to controller commands and find the measured positions in action order.

    :param action_names: the bundle's action names (its order).
    :param config: the node settings (adapter: controllers, joints, trajectory mode).
    :param mode: position or velocity control (the bundle's action kind).
    :param period_s: the control period [s].
    :param bounds: (lower, upper) plausible positions [A]: readings outside are ignored.
    """

    def __init__(self, action_names: Sequence[str], config: PolicyConfig, *,
                 mode: ControlMode, period_s: float,
                 bounds: tuple[np.ndarray, np.ndarray]) -> None:
        self.mapping = ActionMapping(action_names, config.adapter)
        grip = config.adapter.gripper_action
        self.aliases = {grip: config.gripper_joint_state or grip}
        self.mode, self.period_s = mode, period_s
        self.sends_chunk = config.adapter.trajectory_mode is TrajectoryMode.CHUNK
        # the gripper effort is commanded, never measured: the pose carries the effort limit
        # there (a hold does not send it; the controller keeps the last effort)
        idx = self.mapping.effort_index
        self.unmeasured = ({} if idx is None else
                           {self.mapping.action_names[idx]: float(config.adapter.max_effort)})
        self.pose = MeasuredPose(self.mapping.action_names, self.aliases, *bounds,
                                 fixed=self.unmeasured)

    def current(self, frame: Frame | None,
                plausible: Callable[[np.ndarray], bool]) -> np.ndarray | None:
        """Measured positions [A] in action order: the newest joint_states, else the frame's."""
        pose = self.pose.value
        if pose is not None:
            return pose
        if frame is None:
            return None
        pos = positions_for(self.mapping.action_names, frame.joint_names,
                            frame.joint_positions, self.aliases, self.unmeasured)
        return pos if pos is not None and plausible(pos) else None

    def command(self, values: np.ndarray, *, hold: bool, dt_s: float,
                future: np.ndarray | None = None) -> ControllerCommand:
        """
        Build the controller command for safe values [A] (``future`` [K, A]: chunk mode).

        A velocity hold leaves the gripper alone: a zero "velocity" would close it. No hold
        sends a gripper effort: the controller keeps the last one (a hold must not drop, nor
        crush, what the fingers hold).
        """
        cmd = make_command(self.mapping, values, period_s=self.period_s, future=future,
                           dt_s=dt_s, hold=hold)
        if hold and self.mode is ControlMode.VELOCITY:
            cmd = dataclasses.replace(cmd, gripper=None)
        if hold:
            cmd = dataclasses.replace(cmd, effort=None)
        return cmd
