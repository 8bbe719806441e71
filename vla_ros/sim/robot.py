"""
The one robot description shared by MuJoCo (MJCF) and Gazebo (URDF/SDF).

A 6-DoF arm (joint names from :mod:`vla_ros.constants`) with a parallel gripper. Every joint
origin is a pure translation and every link frame is aligned with the world at zero joint
angles: the arm points straight up at ``q = 0``. Lengths in metres, angles in radians, masses
in kg. ``vla_ros.sim.mjcf`` and ``vla_ros.sim.gazebo`` generate their files from
:data:`ROBOT`; test/sim/test_description.py checks that both agree (names, limits, forward
kinematics of every link, camera and taxel frame).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum

import numpy as np
from vla_ros import constants as C
from vla_ros.errors import ConfigError

Vec3 = tuple[float, float, float]


class GeomKind(str, Enum):
    BOX = 'box'            # size = half extents (x, y, z)
    CYLINDER = 'cylinder'  # size = (radius, half length, 0), axis = link z


@dataclass(frozen=True)
class Geom:
    """A collision + visual shape in its link frame."""

    name: str
    kind: GeomKind
    size: Vec3
    pos: Vec3 = (0.0, 0.0, 0.0)
    rgba: tuple[float, float, float, float] = (0.6, 0.6, 0.65, 1.0)


@dataclass(frozen=True)
class Link:
    """A rigid body: mass [kg] at ``com`` with diagonal inertia [kg m^2] from ``geoms``."""

    name: str
    mass: float
    geoms: tuple[Geom, ...]
    com: Vec3 = (0.0, 0.0, 0.0)

    def __post_init__(self) -> None:
        if self.mass <= 0:
            raise ConfigError(f'link {self.name}: mass must be > 0, got {self.mass}')

    def inertia(self) -> Vec3:
        """Diagonal inertia of a solid box bounding all geoms (a rough, positive value)."""
        lo, hi = np.full(3, np.inf), np.full(3, -np.inf)
        for g in self.geoms:
            half = (np.array(g.size) if g.kind is GeomKind.BOX
                    else np.array([g.size[0], g.size[0], g.size[1]]))
            lo = np.minimum(lo, np.array(g.pos) - half)
            hi = np.maximum(hi, np.array(g.pos) + half)
        dx, dy, dz = np.maximum(hi - lo, 1e-3)
        m = self.mass / 12.0
        return (round(m * (dy**2 + dz**2), 9), round(m * (dx**2 + dz**2), 9),
                round(m * (dx**2 + dy**2), 9))


@dataclass(frozen=True)
class Joint:
    """
    A 1-DoF joint between ``parent`` and ``child`` at ``origin`` (in the parent frame).

    ``kp`` [N m/rad or N/m] and ``kv`` [N m s/rad] are the MuJoCo position-actuator gains;
    ``mimic`` = (joint, multiplier) couples this joint to another one (second finger).
    """

    name: str
    kind: str  # 'revolute' | 'prismatic'
    parent: str
    child: str
    origin: Vec3
    axis: Vec3
    lower: float
    upper: float
    velocity: float
    effort: float
    kp: float
    kv: float
    damping: float = 0.5
    armature: float = 0.01
    mimic: tuple[str, float] | None = None

    def __post_init__(self) -> None:
        if self.kind not in ('revolute', 'prismatic'):
            raise ConfigError(f'joint {self.name}: kind must be revolute|prismatic, '
                              f'got {self.kind!r}')
        if not self.lower < self.upper:
            raise ConfigError(f'joint {self.name}: lower {self.lower} >= upper {self.upper}')


@dataclass(frozen=True)
class Camera:
    """
    A camera on ``link`` at ``pos`` looking along ``forward`` with ``up`` (link frame).

    ``fovy_deg`` is the vertical field of view; optical frame = ``<name>_camera_optical_frame``.
    """

    name: str
    link: str
    pos: Vec3
    forward: Vec3
    up: Vec3
    fovy_deg: float

    def rotation(self) -> np.ndarray:
        """3x3 matrix with columns (forward, left, up), orthonormal (Gazebo camera frame)."""
        f = np.array(self.forward, float)
        f /= np.linalg.norm(f)
        u = np.array(self.up, float)
        u = u - f * (u @ f)
        u /= np.linalg.norm(u)
        return np.column_stack([f, np.cross(u, f), u])


@dataclass(frozen=True)
class TactilePadSpec:
    """
    A rows x cols taxel grid on the inner face of a finger (constants.DEFAULT_TACTILE_PADS).

    Taxel (r, c) is a thin box geom named ``<pad>_taxel_<r>_<c>``; row 0 is nearest the
    fingertip, columns run along link x. ``face_sign`` is +1 when the face normal is +y.
    """

    name: str
    link: str
    rows: int
    cols: int
    center: Vec3         # centre of the pad face (contact plane) in the link frame
    face_sign: float     # +1: the finger body lies at +y of the pad face (left finger)
    width: float = 0.02   # along x [m]
    length: float = 0.032  # along z [m]
    thickness: float = 0.003

    def taxel_geoms(self) -> list[Geom]:
        """Return the taxel boxes, row-major; each protrudes ``thickness`` from the finger body."""
        cw, cl = self.width / self.cols, self.length / self.rows
        out = []
        for r in range(self.rows):
            for c in range(self.cols):
                x = self.center[0] - self.width / 2 + (c + 0.5) * cw
                # row 0 at the fingertip (largest z: fingers point along +z of the tool)
                z = self.center[2] + self.length / 2 - (r + 0.5) * cl
                y = self.center[1] + self.face_sign * self.thickness / 2
                out.append(Geom(f'{self.name}_taxel_{r}_{c}', GeomKind.BOX,
                                (0.45 * cw, self.thickness / 2, 0.45 * cl), (x, y, z),
                                (0.15, 0.15, 0.15, 1.0)))
        return out


@dataclass(frozen=True)
class RobotDescription:
    name: str
    base_link: str
    base_pos: Vec3   # base_link origin in the world [m]
    links: tuple[Link, ...]
    joints: tuple[Joint, ...]
    cameras: tuple[Camera, ...]
    pads: tuple[TactilePadSpec, ...]
    tcp_link: str
    tcp_pos: Vec3     # tool centre point (between the finger pads) in tcp_link
    home: dict[str, float] = field(default_factory=dict)

    @property
    def arm_joints(self) -> tuple[str, ...]:
        return C.DEFAULT_ARM_JOINTS

    @property
    def gripper_joint(self) -> str:
        return C.DEFAULT_GRIPPER_JOINT

    def joint(self, name: str) -> Joint:
        for j in self.joints:
            if j.name == name:
                return j
        raise ConfigError(f'no joint {name!r}; have {[j.name for j in self.joints]}')

    def link(self, name: str) -> Link:
        for lk in self.links:
            if lk.name == name:
                return lk
        raise ConfigError(f'no link {name!r}; have {[lk.name for lk in self.links]}')

    def children(self, link: str) -> list[Joint]:
        return [j for j in self.joints if j.parent == link]

    def home_positions(self) -> np.ndarray:
        """Home pose of the arm joints (constants order) [rad]."""
        return np.array([self.home[j] for j in self.arm_joints])


GREY, DARK, ORANGE = (0.7, 0.7, 0.72, 1.0), (0.25, 0.25, 0.28, 1.0), (0.95, 0.55, 0.1, 1.0)
PALM_Z = 0.05       # palm centre above wrist_3 origin
FINGER_Z = 0.065    # finger joints above wrist_3 origin
FINGER_LEN = 0.05
CYL, BOX = GeomKind.CYLINDER, GeomKind.BOX


def _finger(side: str, sign: float) -> tuple[Link, TactilePadSpec]:
    # Finger frame at the joint; inner pad face at y = 0 in the finger frame at opening 0
    # (the joint's travel moves it). Body box sits behind the taxels.
    name = f'{side}_finger'
    pad_center = (0.0, 0.0, FINGER_LEN / 2 + 0.004)
    body = Geom(f'{name}_body', BOX, (0.012, 0.005, FINGER_LEN / 2),
                (0.0, sign * (0.003 + 0.005), FINGER_LEN / 2), DARK)
    pad = TactilePadSpec(name, f'{name}_link', 4, 4, pad_center, face_sign=sign)
    link = Link(f'{name}_link', 0.05, (body, *pad.taxel_geoms()), (0.0, sign * 0.006, 0.025))
    return link, pad


def _build() -> RobotDescription:
    left, left_pad = _finger('left', 1.0)
    right, right_pad = _finger('right', -1.0)
    links = (
        Link('base_link', 2.0, (Geom('base', CYL, (0.07, 0.04, 0), (0, 0, 0.04), DARK),)),
        Link('shoulder_link', 1.2, (Geom('shoulder', CYL, (0.05, 0.035, 0), (0, 0, 0.045), GREY),),
             (0, 0, 0.04)),
        Link('upper_arm_link', 1.5, (Geom('upper_arm', BOX, (0.035, 0.035, 0.15), (0, 0, 0.15),
                                          ORANGE),), (0, 0, 0.15)),
        Link('forearm_link', 1.0, (Geom('forearm', BOX, (0.03, 0.03, 0.13), (0, 0, 0.13),
                                        GREY),), (0, 0, 0.13)),
        Link('wrist_1_link', 0.4, (Geom('wrist_1', CYL, (0.03, 0.03, 0), (0, 0, 0.03), DARK),),
             (0, 0, 0.03)),
        Link('wrist_2_link', 0.3, (Geom('wrist_2', CYL, (0.028, 0.02, 0), (0, 0, 0.02), GREY),),
             (0, 0, 0.02)),
        Link('wrist_3_link', 0.4, (Geom('flange', CYL, (0.03, 0.01, 0), (0, 0, 0.01), DARK),
                                   Geom('palm', BOX, (0.02, 0.055, 0.012), (0, 0, PALM_Z),
                                        DARK)), (0, 0, PALM_Z)),
        left, right,
    )
    pi = 3.14159
    arm = {'kind': 'revolute', 'velocity': 2.0, 'kv': 20.0}
    joints = (
        Joint('shoulder_pan_joint', parent='base_link', child='shoulder_link',
              origin=(0, 0, 0.08), axis=(0, 0, 1), lower=-pi, upper=pi, effort=150, kp=800,
              **arm),
        Joint('shoulder_lift_joint', parent='shoulder_link', child='upper_arm_link',
              origin=(0, 0, 0.08), axis=(0, 1, 0), lower=-2.0, upper=2.0, effort=150, kp=800,
              **arm),
        Joint('elbow_joint', parent='upper_arm_link', child='forearm_link',
              origin=(0, 0, 0.30), axis=(0, 1, 0), lower=-2.6, upper=2.6, effort=100, kp=600,
              **arm),
        Joint('wrist_1_joint', parent='forearm_link', child='wrist_1_link',
              origin=(0, 0, 0.26), axis=(0, 1, 0), lower=-2.6, upper=2.6, effort=40, kp=300,
              **arm),
        Joint('wrist_2_joint', parent='wrist_1_link', child='wrist_2_link',
              origin=(0, 0, 0.06), axis=(1, 0, 0), lower=-2.0, upper=2.0, effort=40, kp=300,
              **arm),
        Joint('wrist_3_joint', parent='wrist_2_link', child='wrist_3_link',
              origin=(0, 0, 0.04), axis=(0, 0, 1), lower=-pi, upper=pi, effort=40, kp=200,
              **arm),
        Joint('gripper_joint', 'prismatic', 'wrist_3_link', 'left_finger_link',
              origin=(0, 0, FINGER_Z), axis=(0, 1, 0), lower=0.0, upper=0.04, velocity=0.2,
              effort=20, kp=300, kv=5.0, damping=2.0),
        Joint('right_finger_joint', 'prismatic', 'wrist_3_link', 'right_finger_link',
              origin=(0, 0, FINGER_Z), axis=(0, -1, 0), lower=0.0, upper=0.04, velocity=0.2,
              effort=20, kp=300, kv=5.0, damping=2.0, mimic=('gripper_joint', 1.0)),
    )
    cameras = (
        Camera('front', 'world', pos=(0.98, 0.0, 0.85), forward=(-0.56, 0.0, -0.42),
               up=(0.0, 0.0, 1.0), fovy_deg=50.0),
        Camera('wrist', 'wrist_3_link', pos=(-0.055, 0.0, PALM_Z), forward=(0.35, 0.0, 1.0),
               up=(-1.0, 0.0, 0.0), fovy_deg=80.0),
    )
    home = {'shoulder_pan_joint': 0.0, 'shoulder_lift_joint': 0.3, 'elbow_joint': 1.3,
            'wrist_1_joint': 1.54, 'wrist_2_joint': 0.0, 'wrist_3_joint': 0.0}
    return RobotDescription(
        name='vla_arm', base_link='base_link', base_pos=(0.0, 0.0, 0.4), links=links,
        joints=joints, cameras=cameras, pads=(left_pad, right_pad), tcp_link='wrist_3_link',
        tcp_pos=(0.0, 0.0, FINGER_Z + FINGER_LEN / 2 + 0.004), home=home)


ROBOT = _build()
"""The robot used by the MuJoCo world and the Gazebo files."""

assert tuple(p.name for p in ROBOT.pads) == tuple(p[0] for p in C.DEFAULT_TACTILE_PADS)
