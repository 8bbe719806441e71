"""
Gazebo (gz sim Harmonic+) files generated from :data:`vla_ros.sim.robot.ROBOT`.

``python -m vla_ros.cli.gazebo_files`` rewrites the committed files; ``--check`` exits 1 when
they differ from a fresh generation (test/sim/test_sim_launch_files.py runs the same check):

- ``config/vla_arm.urdf``: the robot with ``<ros2_control>`` (gz_ros2_control), camera and
  contact sensors. The launch file replaces ``@CONTROLLERS_YAML@`` with the installed path of
  config/gz_controllers.yaml. The contact sensors list the taxel collisions by the names
  sdformat gives them when Gazebo converts the URDF (:func:`sdf_collision_names`).
- ``config/tabletop_world.sdf``: table, cubes at the seed-0 positions, the front camera.
"""

from __future__ import annotations

from collections.abc import Sequence
import math
import pathlib
import xml.etree.ElementTree as ET

import numpy as np
from vla_ros import constants as C
from vla_ros.errors import ConfigError
from vla_ros.sim.mjcf import CUBE_COLOURS, SceneConfig, TABLE_CENTER, TABLE_HALF, TABLE_TOP_Z
from vla_ros.sim.robot import Camera, GeomKind, ROBOT, RobotDescription, TactilePadSpec

ROOT = pathlib.Path(__file__).resolve().parents[2]
URDF_PATH = ROOT / 'config' / 'vla_arm.urdf'
WORLD_PATH = ROOT / 'config' / 'tabletop_world.sdf'
CONTROLLERS_PLACEHOLDER = '@CONTROLLERS_YAML@'
GZ_TACTILE_TOPIC_FMT = '/gz/tactile/{pad}'   # gz contact sensor topic per pad
ROS_TACTILE_TOPIC_FMT = 'gz/tactile/{pad}'   # its bridged ROS topic (relative: the namespace)
IMAGE_SIZE = (224, 224)                      # (width, height) of the gz cameras [px]
CAMERA_RATE_HZ = 30
CONTACT_RATE_HZ = 100
SDF_COLLISION_SUFFIX = '_collision'          # sdformat parser_urdf.cc kCollisionExt
SDF_LUMP_PREFIX = '_fixed_joint_lump__'      # sdformat parser_urdf.cc kLumpPrefix


def sdf_collision_names(link: str, urdf_names: Sequence[str]) -> list[str]:
    """
    Names sdformat gives the collisions of URDF link ``link`` (in URDF order) in the SDF.

    sdformat's URDF parser (parser_urdf.cc CreateCollisions/CreateCollision, the same from
    sdformat 12.3 to 16.1) appends ``_collision`` and, from the second collision on,
    ``_<index>``; a result that does not start with the link name gets
    ``<link>_fixed_joint_lump__`` in front, whether or not a fixed joint was lumped. Gazebo's
    contact system looks the sensor's ``<collision>`` entries up among these names
    (test/sim/test_sdformat.py checks them against ``ign sdf -p``).
    """
    out = []
    for i, name in enumerate(urdf_names):
        sdf = (name or link) + SDF_COLLISION_SUFFIX + (f'_{i}' if i else '')
        out.append(sdf if sdf.startswith(link) else link + SDF_LUMP_PREFIX + sdf)
    return out


def taxel_collision_names(pad: TactilePadSpec, desc: RobotDescription = ROBOT) -> list[str]:
    """SDF collision names of ``pad``'s taxels, row-major (the TactileArray order)."""
    urdf_names = [g.name for g in desc.link(pad.link).geoms]
    sdf_names = dict(zip(urdf_names, sdf_collision_names(pad.link, urdf_names)))
    missing = [g.name for g in pad.taxel_geoms() if g.name not in sdf_names]
    if missing:
        raise ConfigError(f'taxels {missing} are not geoms of link {pad.link!r}')
    return [sdf_names[g.name] for g in pad.taxel_geoms()]


def _fmt(values) -> str:
    return ' '.join(f'{float(v):.6g}' for v in values)


def _sub(parent: ET.Element, tag: str, text: str | None = None, **attrs) -> ET.Element:
    e = ET.SubElement(parent, tag, {k: str(v) for k, v in attrs.items()})
    if text is not None:
        e.text = text
    return e


def rpy_from_matrix(r: np.ndarray) -> tuple[float, float, float]:
    """URDF roll-pitch-yaw [rad] of rotation ``r`` = Rz(yaw) Ry(pitch) Rx(roll)."""
    pitch = math.asin(-max(-1.0, min(1.0, r[2, 0])))
    if abs(math.cos(pitch)) < 1e-9:
        return 0.0, pitch, math.atan2(-r[0, 1], r[1, 1])
    return math.atan2(r[2, 1], r[2, 2]), pitch, math.atan2(r[1, 0], r[0, 0])


def _geometry(parent: ET.Element, g) -> None:
    geo = _sub(parent, 'geometry')
    if g.kind is GeomKind.BOX:
        _sub(geo, 'box', size=_fmt(2 * np.array(g.size)))
    else:
        _sub(geo, 'cylinder', radius=f'{g.size[0]:.6g}', length=f'{2 * g.size[1]:.6g}')


def _fixed(robot: ET.Element, name: str, parent: str, xyz, rpy=(0, 0, 0)) -> None:
    _sub(robot, 'link', name=name)
    j = _sub(robot, 'joint', name=f'{name}_joint', type='fixed')
    _sub(j, 'parent', link=parent)
    _sub(j, 'child', link=name)
    _sub(j, 'origin', xyz=_fmt(xyz), rpy=_fmt(rpy))


def _camera_sensor(parent: ET.Element, cam: Camera) -> None:
    w, h = IMAGE_SIZE
    s = _sub(parent, 'sensor', name=f'{cam.name}_camera', type='camera')
    _sub(s, 'topic', C.namespaced(C.camera_topic(cam.name)))  # gz side: absolute
    _sub(s, 'update_rate', str(CAMERA_RATE_HZ))
    _sub(s, 'always_on', '1')
    c = _sub(s, 'camera')
    hfov = 2 * math.atan(math.tan(math.radians(cam.fovy_deg) / 2) * w / h)
    _sub(c, 'horizontal_fov', f'{hfov:.6g}')
    img = _sub(c, 'image')
    _sub(img, 'width', str(w))
    _sub(img, 'height', str(h))
    _sub(img, 'format', 'R8G8B8')
    clip = _sub(c, 'clip')
    _sub(clip, 'near', '0.01')
    _sub(clip, 'far', '5')
    _sub(c, 'optical_frame_id', f'{cam.name}_camera_optical_frame')


def robot_urdf(desc: RobotDescription = ROBOT) -> str:
    robot = ET.Element('robot', name=desc.name)
    _sub(robot, 'link', name='world')
    j = _sub(robot, 'joint', name='world_to_base', type='fixed')
    _sub(j, 'parent', link='world')
    _sub(j, 'child', link=desc.base_link)
    _sub(j, 'origin', xyz=_fmt(desc.base_pos), rpy='0 0 0')
    for link in desc.links:
        e = _sub(robot, 'link', name=link.name)
        inertial = _sub(e, 'inertial')
        _sub(inertial, 'origin', xyz=_fmt(link.com), rpy='0 0 0')
        _sub(inertial, 'mass', value=f'{link.mass:.6g}')
        ixx, iyy, izz = link.inertia()
        _sub(inertial, 'inertia', ixx=f'{ixx:.6g}', ixy='0', ixz='0', iyy=f'{iyy:.6g}',
             iyz='0', izz=f'{izz:.6g}')
        for g in link.geoms:
            for tag in ('visual', 'collision'):
                v = _sub(e, tag, name=g.name if tag == 'collision' else f'{g.name}_visual')
                _sub(v, 'origin', xyz=_fmt(g.pos), rpy='0 0 0')
                _geometry(v, g)
    for jt in desc.joints:
        e = _sub(robot, 'joint', name=jt.name, type=jt.kind)
        _sub(e, 'parent', link=jt.parent)
        _sub(e, 'child', link=jt.child)
        _sub(e, 'origin', xyz=_fmt(jt.origin), rpy='0 0 0')
        _sub(e, 'axis', xyz=_fmt(jt.axis))
        _sub(e, 'limit', lower=f'{jt.lower:.6g}', upper=f'{jt.upper:.6g}',
             effort=f'{jt.effort:.6g}', velocity=f'{jt.velocity:.6g}')
        _sub(e, 'dynamics', damping=f'{jt.damping:.6g}', friction='0')
        if jt.mimic:
            _sub(e, 'mimic', joint=jt.mimic[0], multiplier=f'{jt.mimic[1]:.6g}', offset='0')
    _fixed(robot, 'tcp', desc.tcp_link, desc.tcp_pos)
    for pad in desc.pads:
        _fixed(robot, f'{pad.name}_pad', pad.link, pad.center)
    for cam in desc.cameras:
        if cam.link == 'world':
            continue
        _fixed(robot, f'{cam.name}_camera_link', cam.link, cam.pos,
               rpy_from_matrix(cam.rotation()))
        # optical frame: z forward, x right, y down (REP 103)
        _fixed(robot, f'{cam.name}_camera_optical_frame', f'{cam.name}_camera_link', (0, 0, 0),
               (-math.pi / 2, 0, -math.pi / 2))
        gz = _sub(robot, 'gazebo', reference=f'{cam.name}_camera_link')
        _camera_sensor(gz, cam)
    for pad in desc.pads:
        gz = _sub(robot, 'gazebo', reference=pad.link)
        s = _sub(gz, 'sensor', name=f'{pad.name}_contact', type='contact')
        _sub(s, 'topic', GZ_TACTILE_TOPIC_FMT.format(pad=pad.name))
        _sub(s, 'update_rate', str(CONTACT_RATE_HZ))
        _sub(s, 'always_on', '1')
        contact = _sub(s, 'contact')
        contact.append(ET.Comment(' taxels row-major, named as sdformat converts them '
                                  '(gz sdf -p this file) '))
        for name in taxel_collision_names(pad, desc):
            _sub(contact, 'collision', name)
    _ros2_control(robot, desc)
    gz = _sub(robot, 'gazebo')
    plugin = _sub(gz, 'plugin', filename='gz_ros2_control-system',
                  name='gz_ros2_control::GazeboSimROS2ControlPlugin')
    _sub(plugin, 'parameters', CONTROLLERS_PLACEHOLDER)
    ET.indent(robot)
    header = ('<?xml version="1.0"?>\n<!-- generated by vla_ros.sim.gazebo from '
              'vla_ros/sim/robot.py; do not edit -->\n')
    return header + ET.tostring(robot, encoding='unicode') + '\n'


def _ros2_control(robot: ET.Element, desc: RobotDescription) -> None:
    rc = _sub(robot, 'ros2_control', name='GazeboSimSystem', type='system')
    hw = _sub(rc, 'hardware')
    _sub(hw, 'plugin', 'gz_ros2_control/GazeboSimSystem')
    for name in (*desc.arm_joints, desc.gripper_joint):
        jt = desc.joint(name)
        j = _sub(rc, 'joint', name=name)
        ci = _sub(j, 'command_interface', name='position')
        _sub(ci, 'param', f'{jt.lower:.6g}', name='min')
        _sub(ci, 'param', f'{jt.upper:.6g}', name='max')
        si = _sub(j, 'state_interface', name='position')
        initial = desc.home.get(name, jt.upper if jt.kind == 'prismatic' else 0.0)
        _sub(si, 'param', f'{initial:.6g}', name='initial_value')
        _sub(j, 'state_interface', name='velocity')
    for jt in desc.joints:
        if jt.mimic:  # ros2_control (Jazzy+) reads the coupling from the URDF <mimic> tag
            j = _sub(rc, 'joint', name=jt.name, mimic='true')
            _sub(j, 'state_interface', name='position')


def world_sdf(config: SceneConfig = SceneConfig(), desc: RobotDescription = ROBOT) -> str:
    """World SDF: physics, sensors plugins, ground, table, cubes (seed 0), front camera."""
    from vla_ros.sim.world import SimWorld, WorldConfig  # MuJoCo only to place the cubes

    world = SimWorld(WorldConfig(scene=config), seed=0)
    placed = world.sample_object_positions(0)
    sdf = ET.Element('sdf', version='1.9')
    w = _sub(sdf, 'world', name='vla_tabletop')
    physics = _sub(w, 'physics', name='2ms', type='ignored')
    _sub(physics, 'max_step_size', f'{config.timestep:.6g}')
    _sub(physics, 'real_time_factor', '1.0')
    for fname, name in (('gz-sim-physics-system', 'gz::sim::systems::Physics'),
                        ('gz-sim-user-commands-system', 'gz::sim::systems::UserCommands'),
                        ('gz-sim-scene-broadcaster-system', 'gz::sim::systems::SceneBroadcaster'),
                        ('gz-sim-contact-system', 'gz::sim::systems::Contact'),
                        ('gz-sim-sensors-system', 'gz::sim::systems::Sensors')):
        p = _sub(w, 'plugin', filename=fname, name=name)
        if fname == 'gz-sim-sensors-system':
            _sub(p, 'render_engine', 'ogre2')
    light = _sub(w, 'light', type='directional', name='sun')
    _sub(light, 'pose', '0.5 0 2 0 0 0')
    _sub(light, 'direction', '0 0.2 -1')
    _sub(light, 'cast_shadows', 'false')
    _box_model(w, 'ground', (0, 0, -0.05), (6, 6, 0.1), (0.33, 0.35, 0.38, 1), static=True)
    _box_model(w, 'table', (*TABLE_CENTER, TABLE_TOP_Z / 2),
               (2 * TABLE_HALF[0], 2 * TABLE_HALF[1], TABLE_TOP_Z), (0.6, 0.45, 0.3, 1),
               static=True)
    for obj, (x, y, yaw) in placed.items():
        colour = obj.removesuffix('_cube')
        _box_model(w, obj, (x, y, TABLE_TOP_Z + config.cube_size / 2), (config.cube_size,) * 3,
                   CUBE_COLOURS[colour], yaw=yaw, mass=config.cube_mass)
    for cam in desc.cameras:
        if cam.link != 'world':
            continue
        m = _sub(w, 'model', name=f'{cam.name}_camera')
        _sub(m, 'static', 'true')
        _sub(m, 'pose', _fmt((*cam.pos, *rpy_from_matrix(cam.rotation()))))
        link = _sub(m, 'link', name=f'{cam.name}_camera_link')
        _camera_sensor(link, cam)
    world.close()
    ET.indent(sdf)
    return '<?xml version="1.0"?>\n<!-- generated by vla_ros.sim.gazebo; do not edit -->\n' + \
        ET.tostring(sdf, encoding='unicode') + '\n'


def _box_model(world: ET.Element, name: str, pos, size, rgba, *, yaw: float = 0.0,
               static: bool = False, mass: float = 1.0) -> None:
    m = _sub(world, 'model', name=name)
    _sub(m, 'static', 'true' if static else 'false')
    _sub(m, 'pose', _fmt((*pos, 0, 0, yaw)))
    link = _sub(m, 'link', name='link')
    if not static:
        inertial = _sub(link, 'inertial')
        _sub(inertial, 'mass', f'{mass:.6g}')
        i = _sub(inertial, 'inertia')
        for axis, (a, b) in zip(('ixx', 'iyy', 'izz'), ((1, 2), (0, 2), (0, 1))):
            _sub(i, axis, f'{mass * (size[a] ** 2 + size[b] ** 2) / 12:.6g}')
    for tag in ('collision', 'visual'):
        e = _sub(link, tag, name=tag)
        geo = _sub(_sub(e, 'geometry'), 'box')
        _sub(geo, 'size', _fmt(size))
        if tag == 'visual':
            mat = _sub(e, 'material')
            _sub(mat, 'ambient', _fmt(rgba))
            _sub(mat, 'diffuse', _fmt(rgba))
        else:
            surface = _sub(_sub(_sub(e, 'surface'), 'friction'), 'ode')
            _sub(surface, 'mu', '1.2')
            _sub(surface, 'mu2', '1.2')


def generated_files() -> dict[pathlib.Path, str]:
    """Return path -> text of every generated file (the URDF and the world SDF)."""
    return {URDF_PATH: robot_urdf(), WORLD_PATH: world_sdf()}


def stale_files() -> list[pathlib.Path]:
    """Return the committed files that differ from a fresh generation (or are missing)."""
    return [path for path, text in generated_files().items()
            if not path.exists() or path.read_text() != text]


def write_files() -> list[pathlib.Path]:
    """Rewrite the committed files from :data:`~vla_ros.sim.robot.ROBOT`; returns their paths."""
    paths = []
    for path, text in generated_files().items():
        path.write_text(text)
        paths.append(path)
    return paths
