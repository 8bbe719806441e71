"""
MJCF of the tabletop world, generated from :data:`vla_ros.sim.robot.ROBOT`.

World frame: z up, the robot base on the table top at ``ROBOT.base_pos`` facing +x; +y is the
robot's left. Cubes are free bodies named ``<colour>_cube`` placed by :mod:`vla_ros.sim.world`.
"""

from __future__ import annotations

from dataclasses import dataclass
import xml.etree.ElementTree as ET

import numpy as np
from vla_ros.errors import ConfigError
from vla_ros.sim.robot import GeomKind, Link, ROBOT, RobotDescription

TABLE_TOP_Z = 0.4
TABLE_CENTER = (0.35, 0.0)
TABLE_HALF = (0.5, 0.5)
CUBE_COLOURS = {'red': (0.85, 0.1, 0.1, 1.0), 'green': (0.1, 0.7, 0.15, 1.0),
                'blue': (0.1, 0.2, 0.85, 1.0)}
# Arm bodies that collide with the world; group 3 = taxel geoms.
TAXEL_GROUP = 3


@dataclass(frozen=True)
class SceneConfig:
    """Static scene parameters (units: m, kg, s)."""

    cube_size: float = 0.04
    cube_mass: float = 0.05
    timestep: float = 0.002
    max_image_size: tuple[int, int] = (640, 480)  # offscreen buffer (width, height) [px]
    colours: tuple[str, ...] = ('red', 'green', 'blue')

    def __post_init__(self) -> None:
        if not 0.01 <= self.cube_size <= 0.07:
            raise ConfigError(f'cube_size must be in [0.01, 0.07] m, got {self.cube_size}')
        if not 0 < self.timestep <= 0.01:
            raise ConfigError(f'timestep must be in (0, 0.01] s, got {self.timestep}')
        unknown = set(self.colours) - set(CUBE_COLOURS)
        if unknown or not self.colours:
            raise ConfigError(f'colours must be a non-empty subset of {sorted(CUBE_COLOURS)}, '
                              f'got {self.colours}')


def _fmt(values) -> str:
    return ' '.join(f'{float(v):.6g}' for v in values)


def _sub(parent: ET.Element, tag: str, **attrs) -> ET.Element:
    return ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})


def _geom(body: ET.Element, g, *, group: int = 0) -> None:
    if g.kind is GeomKind.BOX:
        size = _fmt(g.size)
    else:
        size = _fmt(g.size[:2])
    _sub(body, 'geom', name=g.name, type=g.kind.value, size=size, pos=_fmt(g.pos),
         rgba=_fmt(g.rgba), group=group, friction='1.2 0.01 0.001')


def _camera_xyaxes(forward, up) -> str:
    f = np.array(forward, float)
    f /= np.linalg.norm(f)
    u = np.array(up, float)
    u = u - f * (u @ f)
    u /= np.linalg.norm(u)
    return _fmt([*np.cross(f, u), *u])  # MuJoCo cameras look along -z with y up


def _body(parent: ET.Element, desc: RobotDescription, link: Link, pos, joint=None) -> None:
    body = _sub(parent, 'body', name=link.name, pos=_fmt(pos))
    if joint is not None:
        _sub(body, 'joint', name=joint.name,
             type='hinge' if joint.kind == 'revolute' else 'slide', axis=_fmt(joint.axis),
             range=_fmt((joint.lower, joint.upper)), damping=f'{joint.damping:.6g}',
             armature=f'{joint.armature:.6g}', limited='true')
    if link.name != desc.base_link:
        body.set('gravcomp', '1')
    _sub(body, 'inertial', pos=_fmt(link.com), mass=f'{link.mass:.6g}',
         diaginertia=_fmt(link.inertia()))
    taxels = {g.name for p in desc.pads if p.link == link.name for g in p.taxel_geoms()}
    for g in link.geoms:
        _geom(body, g, group=TAXEL_GROUP if g.name in taxels else 0)
    for pad in desc.pads:
        if pad.link != link.name:
            continue
        for g in pad.taxel_geoms():
            # touch sites enclose the taxel and the contact points just outside its face
            half = (g.size[0] / 0.9, g.size[1] + 0.0025, g.size[2] / 0.9)
            _sub(body, 'site', name=g.name, type='box', size=_fmt(half), pos=_fmt(g.pos),
                 rgba='0 0 0 0')
    for cam in desc.cameras:
        if cam.link == link.name:
            _sub(body, 'camera', name=cam.name, pos=_fmt(cam.pos), fovy=f'{cam.fovy_deg:.6g}',
                 xyaxes=_camera_xyaxes(cam.forward, cam.up))
    if link.name == desc.tcp_link:
        _sub(body, 'site', name='tcp', pos=_fmt(desc.tcp_pos), size='0.005', rgba='1 1 0 0')
    for j in desc.children(link.name):
        _body(body, desc, desc.link(j.child), j.origin, j)


def robot_actuators(root: ET.Element, desc: RobotDescription) -> None:
    act = _sub(root, 'actuator')
    for j in desc.joints:
        _sub(act, 'position', name=f'{j.name}_act', joint=j.name, kp=f'{j.kp:.6g}',
             kv=f'{j.kv:.6g}', ctrlrange=_fmt((j.lower, j.upper)),
             forcerange=_fmt((-j.effort, j.effort)))


def world_mjcf(config: SceneConfig = SceneConfig(), desc: RobotDescription = ROBOT) -> str:
    """Build the complete world MJCF (robot, table, cubes, cameras, touch sensors) as a string."""
    root = ET.Element('mujoco', model='vla_ros_tabletop')
    _sub(root, 'compiler', angle='radian', autolimits='true')
    _sub(root, 'option', timestep=f'{config.timestep:.6g}', integrator='implicitfast',
         cone='elliptic', impratio='10')
    vis = _sub(root, 'visual')
    _sub(vis, 'global', offwidth=config.max_image_size[0], offheight=config.max_image_size[1])
    _sub(vis, 'quality', shadowsize=0)
    _sub(vis, 'headlight', ambient='0.4 0.4 0.4', diffuse='0.5 0.5 0.5', specular='0 0 0')
    asset = _sub(root, 'asset')
    _sub(asset, 'texture', name='grid', type='2d', builtin='checker', width=64, height=64,
         rgb1='0.35 0.37 0.4', rgb2='0.3 0.32 0.35')
    _sub(asset, 'material', name='floor', texture='grid', texrepeat='8 8')
    world = _sub(root, 'worldbody')
    _sub(world, 'light', name='sun', directional='true', pos='0.5 0 2', dir='0 0.2 -1',
         castshadow='false', diffuse='0.6 0.6 0.6')
    _sub(world, 'geom', name='floor', type='plane', size='3 3 0.1', material='floor')
    _sub(world, 'geom', name='table', type='box',
         size=_fmt((*TABLE_HALF, TABLE_TOP_Z / 2)),
         pos=_fmt((*TABLE_CENTER, TABLE_TOP_Z / 2)), rgba='0.6 0.45 0.3 1')
    for cam in desc.cameras:
        if cam.link == 'world':
            _sub(world, 'camera', name=cam.name, pos=_fmt(cam.pos),
                 fovy=f'{cam.fovy_deg:.6g}', xyaxes=_camera_xyaxes(cam.forward, cam.up))
    _body(world, desc, desc.link(desc.base_link), desc.base_pos)
    half = config.cube_size / 2
    for i, colour in enumerate(config.colours):
        body = _sub(world, 'body', name=f'{colour}_cube',
                    pos=_fmt((0.4, -0.15 + 0.15 * i, TABLE_TOP_Z + half)))
        _sub(body, 'freejoint', name=f'{colour}_cube_joint')
        _sub(body, 'geom', name=f'{colour}_cube', type='box', size=_fmt((half,) * 3),
             mass=f'{config.cube_mass:.6g}', rgba=_fmt(CUBE_COLOURS[colour]),
             friction='1.2 0.01 0.001', priority='1')  # its friction, not the finger's
    contact = _sub(root, 'contact')
    fingers = [j.child for j in desc.joints if j.kind == 'prismatic']
    for a in range(len(fingers)):
        for b in range(a + 1, len(fingers)):
            _sub(contact, 'exclude', body1=fingers[a], body2=fingers[b])
    robot_actuators(root, desc)
    sensors = _sub(root, 'sensor')
    for pad in desc.pads:
        for g in pad.taxel_geoms():
            _sub(sensors, 'touch', name=g.name, site=g.name)
    ET.indent(root)
    return ET.tostring(root, encoding='unicode')
