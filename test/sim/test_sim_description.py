"""The MuJoCo model and the Gazebo URDF/SDF come from one description and agree."""

from __future__ import annotations

import math
import xml.etree.ElementTree as ET

import mujoco  # noqa: I001
import numpy as np
import pytest
from vla_ros import constants as C
import vla_ros.sim  # noqa: F401
from vla_ros.sim.gazebo import taxel_collision_names, URDF_PATH, WORLD_PATH
from vla_ros.sim.mjcf import world_mjcf
from vla_ros.sim.robot import ROBOT


def _rpy(roll, pitch, yaw) -> np.ndarray:
    cr, sr, cp, sp, cy, sy = (math.cos(roll), math.sin(roll), math.cos(pitch),
                              math.sin(pitch), math.cos(yaw), math.sin(yaw))
    rx = np.array([[1, 0, 0], [0, cr, -sr], [0, sr, cr]])
    ry = np.array([[cp, 0, sp], [0, 1, 0], [-sp, 0, cp]])
    rz = np.array([[cy, -sy, 0], [sy, cy, 0], [0, 0, 1]])
    return rz @ ry @ rx


def _axis_angle(axis, angle) -> np.ndarray:
    k = np.array(axis, float) / np.linalg.norm(axis)
    kx = np.array([[0, -k[2], k[1]], [k[2], 0, -k[0]], [-k[1], k[0], 0]])
    return np.eye(3) + math.sin(angle) * kx + (1 - math.cos(angle)) * kx @ kx


def _vec(text) -> np.ndarray:
    return np.array([float(v) for v in text.split()])


class Urdf:
    """Minimal URDF forward kinematics (revolute, prismatic, fixed; mimic)."""

    def __init__(self, text: str) -> None:
        self.root = ET.fromstring(text)
        self.joints = {j.get('name'): j for j in self.root.findall('joint')}
        self.links = {lk.get('name'): lk for lk in self.root.findall('link')}

    def fk(self, q: dict[str, float]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
        poses = {'world': (np.zeros(3), np.eye(3))}
        pending = list(self.joints.values())
        while pending:
            j = pending.pop(0)
            parent, child = j.find('parent').get('link'), j.find('child').get('link')
            if parent not in poses:
                pending.append(j)
                continue
            p, r = poses[parent]
            o = j.find('origin')
            local_r = _rpy(*_vec(o.get('rpy')))
            pos, rot = p + r @ _vec(o.get('xyz')), r @ local_r
            mimic = j.find('mimic')
            value = q.get(j.get('name'), 0.0)
            if mimic is not None:
                value = float(mimic.get('multiplier')) * q.get(mimic.get('joint'), 0.0)
            if j.get('type') == 'revolute':
                rot = rot @ _axis_angle(_vec(j.find('axis').get('xyz')), value)
            elif j.get('type') == 'prismatic':
                pos = pos + rot @ (_vec(j.find('axis').get('xyz')) * value)
            poses[child] = (pos, rot)
        return poses


@pytest.fixture(scope='module')
def mj():
    model = mujoco.MjModel.from_xml_string(world_mjcf())
    return model, mujoco.MjData(model)


@pytest.fixture(scope='module')
def urdf():
    return Urdf(URDF_PATH.read_text())


def test_joint_names_limits_and_axes_agree(mj, urdf):
    model, _ = mj
    assert tuple(j.name for j in ROBOT.joints[:6]) == C.DEFAULT_ARM_JOINTS
    for spec in ROBOT.joints:
        mj_joint = model.joint(spec.name)
        uj = urdf.joints[spec.name]
        assert uj.get('type') == spec.kind
        limit = uj.find('limit')
        lim = (float(limit.get('lower')), float(limit.get('upper')))
        np.testing.assert_allclose(mj_joint.range, lim, atol=1e-6)
        np.testing.assert_allclose(model.jnt_axis[mj_joint.id], _vec(uj.find('axis').get('xyz')))
        assert float(limit.get('effort')) == pytest.approx(
            model.actuator(f'{spec.name}_act').forcerange[1])
    mimic = urdf.joints['right_finger_joint'].find('mimic')
    assert mimic.get('joint') == C.DEFAULT_GRIPPER_JOINT


def test_link_masses_agree(mj, urdf):
    model, _ = mj
    for link in ROBOT.links:
        urdf_mass = float(urdf.links[link.name].find('inertial/mass').get('value'))
        assert model.body(link.name).mass[0] == pytest.approx(urdf_mass, rel=1e-5)


@pytest.mark.parametrize('seed', [0, 1, 2])
def test_forward_kinematics_of_links_taxels_and_cameras_agree(mj, urdf, seed):
    model, data = mj
    rng = np.random.default_rng(seed)
    q = {j.name: float(rng.uniform(j.lower, j.upper)) for j in ROBOT.joints if not j.mimic}
    for j in ROBOT.joints:
        value = q[j.mimic[0]] * j.mimic[1] if j.mimic else q[j.name]
        data.qpos[model.jnt_qposadr[model.joint(j.name).id]] = value
    mujoco.mj_kinematics(model, data)
    mujoco.mj_camlight(model, data)
    poses = urdf.fk(q)
    for link in ROBOT.links:
        p, r = poses[link.name]
        np.testing.assert_allclose(data.body(link.name).xpos, p, atol=1e-6, err_msg=link.name)
        np.testing.assert_allclose(data.body(link.name).xmat.reshape(3, 3), r, atol=1e-6)
    for pad in ROBOT.pads:  # every taxel collision sits where MuJoCo's taxel geom does
        lp, lr = poses[pad.link]
        colls = {c.get('name'): c for c in urdf.links[pad.link].findall('collision')}
        for g in pad.taxel_geoms():
            origin = _vec(colls[g.name].find('origin').get('xyz'))
            np.testing.assert_allclose(data.geom(g.name).xpos, lp + lr @ origin, atol=1e-6)
            np.testing.assert_allclose(data.site(g.name).xpos, lp + lr @ origin, atol=1e-6)
    tp, _ = poses['tcp']
    np.testing.assert_allclose(data.site('tcp').xpos, tp, atol=1e-6)
    for cam in ROBOT.cameras:
        mj_rot = data.cam(cam.name).xmat.reshape(3, 3)  # looks along -z, y up
        if cam.link == 'world':
            pose = _world_camera_pose(cam.name)
        else:
            pose = poses[f'{cam.name}_camera_link']
        np.testing.assert_allclose(data.cam(cam.name).xpos, pose[0], atol=1e-5)
        np.testing.assert_allclose(-mj_rot[:, 2], pose[1][:, 0], atol=1e-5)  # forward = gz x
        np.testing.assert_allclose(mj_rot[:, 1], pose[1][:, 2], atol=1e-5)   # up = gz z


def _world_camera_pose(name: str) -> tuple[np.ndarray, np.ndarray]:
    root = ET.parse(WORLD_PATH).getroot()
    model = root.find(f"world/model[@name='{name}_camera']")
    pose = _vec(model.find('pose').text)
    return pose[:3], _rpy(*pose[3:])


def test_camera_fov_and_size_agree(mj):
    model, _ = mj
    urdf_root = ET.parse(URDF_PATH).getroot()
    world_root = ET.parse(WORLD_PATH).getroot()
    sensors = {s.get('name'): s for root in (urdf_root, world_root)
               for s in root.iter('sensor') if s.get('type') == 'camera'}
    for cam in ROBOT.cameras:
        s = sensors[f'{cam.name}_camera']
        assert s.findtext('topic') == C.namespaced(C.camera_topic(cam.name))  # gz side
        w, h = int(s.findtext('camera/image/width')), int(s.findtext('camera/image/height'))
        hfov = float(s.findtext('camera/horizontal_fov'))
        fovy = 2 * math.degrees(math.atan(math.tan(hfov / 2) * h / w))
        assert fovy == pytest.approx(model.cam(cam.name).fovy[0], abs=1e-3)


def test_contact_sensors_cover_every_taxel():
    # the sensors list sdformat's names of the taxel collisions (test_sdformat.py checks them
    # against the real converter): <link>_fixed_joint_lump__<urdf name>_collision_<index>
    root = ET.parse(URDF_PATH).getroot()
    for pad in ROBOT.pads:
        sensor = root.find(f"gazebo[@reference='{pad.link}']/sensor[@type='contact']")
        names = [c.text for c in sensor.findall('contact/collision')]
        assert names == taxel_collision_names(pad)
        link = root.find(f"link[@name='{pad.link}']")
        index = {c.get('name'): i for i, c in enumerate(link.findall('collision'))}
        expected = [f'{pad.link}_fixed_joint_lump__{g.name}_collision_{index[g.name]}'
                    for g in pad.taxel_geoms()]
        assert names == expected and len(names) == pad.rows * pad.cols
    assert [(p.name, p.rows, p.cols) for p in ROBOT.pads] == list(C.DEFAULT_TACTILE_PADS)
