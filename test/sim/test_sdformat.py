"""
The generated Gazebo files through the real SDF parser: ``ign sdf -k`` and ``ign sdf -p``.

Gazebo converts the URDF with sdformat when ``ros_gz_sim create`` spawns it; ``ign sdf -p``
prints that conversion (Debian 12: sdformat 12.3, whose URDF conversion names collisions and
lumps fixed joints as sdformat 14 in Gazebo Harmonic does). Skipped only where ``ign`` or its
``sdf`` command is absent (``make setup`` installs them).
"""

from __future__ import annotations

import math
import os
import pathlib
import re
import shutil
import subprocess
import types
import xml.etree.ElementTree as ET

import numpy as np
import pytest
from vla_ros.sim import gazebo
from vla_ros.sim.gz_contacts import contacts_to_taxels
from vla_ros.sim.robot import ROBOT
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[2]
IGN = shutil.which('ign')
APT = 'apt-get install ignition-tools libsdformat-dev (make setup does)'
# ign prints this on every call when the optional backtrace library is absent
HARMLESS = re.compile(r'^Library error: libignition-tools-backward\.so not found.*$', re.M)


def _ign_sdf(*args: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != 'LD_LIBRARY_PATH'}  # system libraries
    return subprocess.run([IGN, 'sdf', *args], capture_output=True, text=True, timeout=120,
                          env=env, cwd=ROOT)


@pytest.fixture(scope='module')
def sdformat_version() -> str:
    if IGN is None:
        pytest.skip(f'no `ign` on PATH: {APT}')
    r = _ign_sdf('--versions')
    version = r.stdout.strip().splitlines()[-1] if r.stdout.strip() else ''
    if r.returncode != 0 or not re.fullmatch(r'\d+\.\d+\.\d+', version):
        pytest.skip(f'`ign sdf` is not available ({r.stdout.strip()[:80]!r}): {APT}')
    return version


def _print(path: pathlib.Path) -> ET.Element:
    r = _ign_sdf('-p', str(path))
    assert r.returncode == 0, r.stderr
    assert HARMLESS.sub('', r.stderr).strip() == '', r.stderr   # no warnings
    return ET.fromstring(r.stdout)


@pytest.fixture(scope='module')
def robot(sdformat_version) -> ET.Element:
    """Return the robot model as Gazebo gets it from config/vla_arm.urdf."""
    return _print(gazebo.URDF_PATH).find('model')


@pytest.fixture(scope='module')
def world(sdformat_version) -> ET.Element:
    return _print(gazebo.WORLD_PATH).find('world')


def _vec(text: str) -> np.ndarray:
    return np.array([float(v) for v in text.split()])


def _rot(roll: float, pitch: float, yaw: float) -> np.ndarray:
    cr, sr, cp, sp, cy, sy = (math.cos(roll), math.sin(roll), math.cos(pitch),
                              math.sin(pitch), math.cos(yaw), math.sin(yaw))
    return (np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
            @ np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
            @ np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]]))


def _pose(e: ET.Element) -> tuple[np.ndarray, np.ndarray]:
    """(position [m], rotation) of an element's ``<pose>`` (identity when absent)."""
    text = e.findtext('pose')
    v = _vec(text) if text else np.zeros(6)
    return v[:3], _rot(*v[3:])


@pytest.mark.parametrize('path', [gazebo.URDF_PATH, gazebo.WORLD_PATH], ids=lambda p: p.name)
def test_ign_sdf_check_accepts_the_generated_files(path, sdformat_version, record_property):
    record_property('measured: sdformat (ign sdf --versions)', sdformat_version)
    r = _ign_sdf('-k', str(path))
    assert r.returncode == 0 and r.stdout.strip() == 'Valid.', r.stdout + r.stderr
    assert HARMLESS.sub('', r.stderr).strip() == ''


def test_ign_sdf_check_rejects_a_broken_urdf(sdformat_version, tmp_path):
    # the check above means something: the same file with a bad joint type fails
    bad = tmp_path / 'bad.urdf'
    bad.write_text(gazebo.URDF_PATH.read_text().replace(
        '<joint name="elbow_joint" type="revolute">', '<joint name="elbow_joint" type="bogus">'))
    r = _ign_sdf('-k', str(bad))
    assert r.returncode != 0 and 'elbow_joint' in r.stderr


def test_contact_sensors_name_taxel_collisions_of_their_link(robot):
    # gz-sim's Contact system looks each <collision> up among the sensor's link's collisions
    # by exact name and silently drops the names it cannot find
    sensors = {s.get('name'): (link, s) for link in robot.findall('link')
               for s in link.findall("sensor[@type='contact']")}
    assert set(sensors) == {f'{p.name}_contact' for p in ROBOT.pads}
    for pad in ROBOT.pads:
        link, sensor = sensors[f'{pad.name}_contact']
        assert link.get('name') == pad.link
        listed = [c.text for c in sensor.findall('contact/collision')]
        collisions = {c.get('name'): c for c in link.findall('collision')}
        assert len(listed) == len(set(listed)) == pad.rows * pad.cols
        assert set(listed) <= set(collisions), sorted(set(listed) - set(collisions))
        taxel_like = {n for n in collisions if f'{pad.name}_taxel_' in n}
        assert taxel_like == set(listed)          # no taxel left out, nothing else listed
        # listed in row-major order: entry i is the taxel box taxel_geoms()[i]
        for name, geom in zip(listed, pad.taxel_geoms()):
            pos, rot = _pose(collisions[name])
            np.testing.assert_allclose(pos, geom.pos, atol=1e-9, err_msg=name)
            np.testing.assert_allclose(rot, np.eye(3), atol=1e-9)
            size = _vec(collisions[name].findtext('geometry/box/size'))
            np.testing.assert_allclose(size, 2 * np.array(geom.size), rtol=1e-5)


def test_gz_tactile_maps_the_converted_names_in_taxel_order(robot):
    # what gz-sim reports: <model>::<link>::<collision>; force i+1 on entry i of the sensor
    vec = types.SimpleNamespace
    for pad in ROBOT.pads:
        link = robot.find(f"link[@name='{pad.link}']")
        listed = [c.text for c in link.findall("sensor[@type='contact']/contact/collision")]
        contacts = []
        for i, name in enumerate(listed):
            w = vec(body_1_wrench=vec(force=vec(x=0.0, y=0.0, z=float(i + 1))),
                    body_2_wrench=vec(force=vec(x=0.0, y=0.0, z=0.0)))
            contacts.append(vec(collision1=vec(name=f"{robot.get('name')}::{pad.link}::{name}"),
                                collision2=vec(name='red_cube::link::collision'),
                                wrenches=[w]))
        values = contacts_to_taxels(vec(contacts=contacts), pad.name)
        np.testing.assert_array_equal(values, np.arange(1, pad.rows * pad.cols + 1))
        others = [p.name for p in ROBOT.pads if p.name != pad.name]
        for other in others:
            assert contacts_to_taxels(vec(contacts=contacts), other).sum() == 0


def test_joints_and_limits_survive_the_conversion(robot):
    joints = {j.get('name'): j for j in robot.findall('joint')}
    # fixed joints are lumped away, except the one that welds the base to the world
    assert set(joints) == {'world_to_base', *(j.name for j in ROBOT.joints)}
    assert joints['world_to_base'].get('type') == 'fixed'
    assert joints['world_to_base'].findtext('parent') == 'world'
    for jt in ROBOT.joints:
        e = joints[jt.name]
        assert (e.get('type'), e.findtext('parent'), e.findtext('child')) == \
            (jt.kind, jt.parent, jt.child)
        np.testing.assert_allclose(_vec(e.findtext('axis/xyz')), jt.axis, atol=1e-9)
        limit = e.find('axis/limit')
        got = [float(limit.findtext(k)) for k in ('lower', 'upper', 'effort', 'velocity')]
        np.testing.assert_allclose(got, [jt.lower, jt.upper, jt.effort, jt.velocity], rtol=1e-5)
        mimic = e.find('axis/mimic')   # sdformat >= 14.1 converts <mimic>; 12.3 drops it
        if mimic is not None:
            assert jt.mimic and mimic.get('joint') == jt.mimic[0]
            assert float(mimic.findtext('multiplier')) == pytest.approx(jt.mimic[1])
    masses = {lk.get('name'): float(lk.findtext('inertial/mass'))
              for lk in robot.findall('link')}
    for link in ROBOT.links:   # lumping the massless frame links adds no mass
        assert masses[link.name] == pytest.approx(link.mass, rel=1e-5)


def test_controller_joints_exist_with_the_commanded_limits(robot):
    cfg = yaml.safe_load((ROOT / 'config' / 'gz_controllers.yaml').read_text())
    # sections are '/**/<controller>' (any namespace) or a plain node name
    params = {k.removeprefix('/**/'): v['ros__parameters'] for k, v in cfg.items()}
    controlled = [*params['arm_controller']['joints'], *params['gripper_controller']['joints']]
    joints = {j.get('name'): j for j in robot.findall('joint')}
    urdf = ET.parse(gazebo.URDF_PATH).getroot()
    commanded = {j.get('name'): j for j in urdf.find('ros2_control').findall('joint')
                 if j.find('command_interface') is not None}
    assert set(controlled) == set(commanded)
    for name in controlled:
        assert joints[name].get('type') in ('revolute', 'prismatic'), name
        ci = commanded[name].find("command_interface[@name='position']")
        bounds = [float(ci.findtext(f"param[@name='{k}']")) for k in ('min', 'max')]
        limit = joints[name].find('axis/limit')
        assert bounds == pytest.approx([float(limit.findtext('lower')),
                                        float(limit.findtext('upper'))], rel=1e-5)
    plugin = robot.find("plugin[@filename='gz_ros2_control-system']")
    assert plugin is not None and plugin.findtext('parameters') == gazebo.CONTROLLERS_PLACEHOLDER


def test_camera_sensors_sit_where_the_description_puts_them(robot, world):
    # a gz camera looks along its +x with +z up: the sensor frame must be the Camera's
    # rotation() (columns forward, left, up) at its position
    for cam in ROBOT.cameras:
        if cam.link == 'world':
            model = world.find(f"model[@name='{cam.name}_camera']")
            link = model.find('link')
            mp, mr = _pose(model)
            lp, lr = _pose(link)
            parent = (mp + mr @ lp, mr @ lr)
        else:   # <name>_camera_link is lumped into cam.link with its sensor
            link = robot.find(f"link[@name='{cam.link}']")
            parent = (np.zeros(3), np.eye(3))
        sensor = link.find(f"sensor[@name='{cam.name}_camera']")
        assert sensor is not None and sensor.get('type') == 'camera', cam.name
        sp, sr = _pose(sensor)
        np.testing.assert_allclose(parent[0] + parent[1] @ sp, cam.pos, atol=1e-5)
        np.testing.assert_allclose(parent[1] @ sr, cam.rotation(), atol=1e-5)
        w, h = gazebo.IMAGE_SIZE
        assert (int(sensor.findtext('camera/image/width')),
                int(sensor.findtext('camera/image/height'))) == (w, h)
        hfov = float(sensor.findtext('camera/horizontal_fov'))
        fovy = 2 * math.degrees(math.atan(math.tan(hfov / 2) * h / w))
        assert fovy == pytest.approx(cam.fovy_deg, abs=1e-3)
        assert float(sensor.findtext('update_rate')) == gazebo.CAMERA_RATE_HZ


def test_bridge_reads_the_converted_sensor_topics(robot, world):
    gz_types = {'camera': 'gz.msgs.Image', 'contact': 'gz.msgs.Contacts'}
    sensors = {s.findtext('topic'): s.get('type')
               for root in (robot, world) for s in root.iter('sensor')}
    entries = yaml.safe_load((ROOT / 'config' / 'gz_bridge.yaml').read_text())
    bridged = {e['gz_topic_name']: e['gz_type_name'] for e in entries
               if e['gz_type_name'] != 'gz.msgs.Clock'}
    assert set(bridged) == set(sensors)
    for topic, kind in sensors.items():
        assert bridged[topic] == gz_types[kind], topic


def test_world_has_the_systems_the_sensors_need(world):
    plugins = {p.get('name') for p in world.findall('plugin')}
    # contact sensors publish only with the Contact system, cameras only with Sensors
    assert {'gz::sim::systems::Physics', 'gz::sim::systems::Contact',
            'gz::sim::systems::Sensors', 'gz::sim::systems::SceneBroadcaster',
            'gz::sim::systems::UserCommands'} <= plugins
    assert float(world.findtext('physics/max_step_size')) == pytest.approx(0.002)
    models = {m.get('name') for m in world.findall('model')}
    assert {'ground', 'table', 'red_cube', 'green_cube', 'blue_cube'} <= models
