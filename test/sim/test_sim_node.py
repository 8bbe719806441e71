"""
mujoco_sim as a child process: topic rates, controller topics, tactile, reset + clock jump.

Also the gripper max effort (``gripper_effort_controller/commands``): the squeeze follows it.
"""

from __future__ import annotations

import json
import math
import threading
import time

import numpy as np
import pytest
from vla_ros import constants as C
from vla_ros.harness.procs import NodeProcess, ros_args, wait_until

RATES = {'camera_rate_hz': 20.0, 'audio_chunk_rate_hz': 50.0, 'tactile_rate_hz': 100.0,
         'joint_rate_hz': 100.0, 'clock_rate_hz': 200.0, 'task_state_rate_hz': 10.0}
SIM = {'image_width': 32, 'image_height': 32, 'real_time_factor': 1.0, 'seed': 0,
       'speak_commands': True, **RATES}


class SimClient:
    """Subscribes to everything mujoco_sim publishes; publishes its command topics."""

    def __init__(self, rclpy) -> None:
        from rclpy.executors import SingleThreadedExecutor
        from rclpy.qos import DurabilityPolicy, QoSProfile, qos_profile_sensor_data
        from rosgraph_msgs.msg import Clock
        from sensor_msgs.msg import Image, JointState
        from std_msgs.msg import Float64MultiArray, String, UInt32
        from std_srvs.srv import Trigger
        from trajectory_msgs.msg import JointTrajectory
        from vla_ros_msgs.msg import AudioChunk, TactileArray

        self.node = n = rclpy.create_node('sim_test_client')
        self.lock = threading.Lock()
        self.msgs: dict[str, list] = {}
        subs = {'front': (Image, C.camera_topic('front')),
                'wrist': (Image, C.camera_topic('wrist')),
                'audio': (AudioChunk, C.AUDIO_TOPIC), 'tactile': (TactileArray, C.TACTILE_TOPIC),
                'joints': (JointState, C.JOINT_STATES_TOPIC)}
        for key, (typ, topic) in subs.items():
            n.create_subscription(typ, topic, self._add(key), qos_profile_sensor_data)
        n.create_subscription(Clock, '/clock', self._add('clock'), 100)
        n.create_subscription(String, '/sim/task_state', self._add('task_state'), QoSProfile(
            depth=1, durability=DurabilityPolicy.TRANSIENT_LOCAL))
        self.arm = n.create_publisher(Float64MultiArray, '/arm_controller/commands', 10)
        self.gripper = n.create_publisher(Float64MultiArray, '/gripper_controller/commands', 10)
        self.effort = n.create_publisher(Float64MultiArray,
                                         '/' + C.GRIPPER_EFFORT_COMMANDS_TOPIC, 10)
        self.traj = n.create_publisher(JointTrajectory, '/arm_controller/joint_trajectory', 10)
        self.reset_seed = n.create_publisher(UInt32, '/sim/reset_seed', 10)
        self.sound = n.create_publisher(String, '/sim/sound', 10)
        self.command = n.create_publisher(String, C.COMMAND_TOPIC, 10)
        self.reset_srv = n.create_client(Trigger, '/sim/reset')
        self.types = {'str': String, 'f64': Float64MultiArray, 'traj': JointTrajectory,
                      'u32': UInt32,
                      'trigger': Trigger}
        self.executor = SingleThreadedExecutor()
        self.executor.add_node(n)
        self.running = True
        self.thread = threading.Thread(target=self._spin, daemon=True)
        self.thread.start()

    def _spin(self) -> None:
        while self.running:
            self.executor.spin_once(timeout_sec=0.05)

    def _add(self, key):
        def cb(msg):
            with self.lock:
                self.msgs.setdefault(key, []).append((time.monotonic(), msg))
        return cb

    def get(self, key: str) -> list:
        with self.lock:
            return [m for _, m in self.msgs.get(key, [])]

    def clear(self) -> None:
        with self.lock:  # the latched task state is kept
            self.msgs = {k: v[-1:] for k, v in self.msgs.items() if k == 'task_state'}

    def task_state(self) -> dict:
        states = self.get('task_state')
        return json.loads(states[-1].data) if states else {}

    def joints(self) -> np.ndarray:
        return np.array(self.get('joints')[-1].position)

    def close(self) -> None:
        self.running = False
        self.thread.join()
        self.node.destroy_node()


@pytest.fixture(scope='module')
def sim(tmp_path_factory):
    import rclpy

    log = tmp_path_factory.mktemp('sim') / 'mujoco_sim.log'
    proc = NodeProcess('mujoco_sim', ros_args(params=SIM), log_path=log).start()
    rclpy.init()
    client = SimClient(rclpy)
    try:
        assert wait_until(lambda: len(client.get('joints')) > 5, 30.0), proc.log_tail()
        yield client, proc
    finally:
        client.close()
        rclpy.try_shutdown()
        code = proc.stop()
        assert code == 0, f'mujoco_sim exited with {code}:\n{proc.log_tail()}'


def _stamp(msg) -> float:
    return msg.header.stamp.sec + 1e-9 * msg.header.stamp.nanosec


@pytest.mark.timeout(60)
def test_every_topic_at_its_configured_rate(sim):
    client, proc = sim
    client.clear()
    t0 = time.monotonic()
    time.sleep(2.5)
    wall = time.monotonic() - t0
    expected = {'front': 'camera_rate_hz', 'wrist': 'camera_rate_hz',
                'audio': 'audio_chunk_rate_hz', 'tactile': 'tactile_rate_hz',
                'joints': 'joint_rate_hz', 'clock': 'clock_rate_hz',
                'task_state': 'task_state_rate_hz'}
    for key, param in expected.items():
        msgs = client.get(key)
        assert len(msgs) > 5, f'{key}: only {len(msgs)} messages'
        if key == 'clock':
            stamps = [m.clock.sec + 1e-9 * m.clock.nanosec for m in msgs]
        elif key == 'task_state':
            stamps = [json.loads(m.data)['sim_time'] for m in msgs]
        else:
            stamps = [_stamp(m) for m in msgs]
        # Rate in sim time, counting the periods each gap spans: a message the loaded
        # machine's DDS drops (best effort) widens one gap to two periods, and must not read
        # as a slower publisher (CI measured tactile at 88 Hz that way).
        gaps = np.diff(stamps)
        periods = np.maximum(1.0, np.rint(gaps / np.median(gaps))).sum()
        sim_rate = periods / (stamps[-1] - stamps[0])
        assert sim_rate == pytest.approx(RATES[param], rel=0.1), key      # in sim time
        assert len(msgs) / wall > 0.6 * RATES[param], (key, len(msgs) / wall)  # real time
    img = client.get('front')[-1]
    assert (img.width, img.height, img.encoding, len(img.data)) == (32, 32, 'rgb8', 32 * 32 * 3)
    audio = client.get('audio')[-1]
    assert audio.sample_rate == 16000 and len(audio.data) == 2 * 320
    tactile = client.get('tactile')[-1]
    assert [(p.name, p.rows, p.cols) for p in tactile.pads] == list(C.DEFAULT_TACTILE_PADS)
    assert len(tactile.values) == 32
    assert list(client.get('joints')[-1].name) == [*C.DEFAULT_ARM_JOINTS, C.DEFAULT_GRIPPER_JOINT]


@pytest.mark.timeout(60)
def test_forward_and_trajectory_commands_move_the_joints(sim):
    client, _ = sim
    from builtin_interfaces.msg import Duration
    from trajectory_msgs.msg import JointTrajectoryPoint

    q0 = client.joints()
    target = q0[:6] + np.array([0.3, -0.2, 0.2, 0.0, 0.2, 0.4])
    client.arm.publish(client.types['f64'](data=target.tolist()))
    client.gripper.publish(client.types['f64'](data=[0.01]))
    assert wait_until(lambda: np.allclose(client.joints()[:6], target, atol=0.02)
                      and abs(client.joints()[6] - 0.01) < 0.003, 10.0), client.joints()
    msg = client.types['traj']()
    msg.joint_names = ['elbow_joint', 'shoulder_pan_joint']   # partial, any order
    for t, (elbow, pan) in ((0.5, (1.0, 0.0)), (1.0, (0.9, -0.3))):
        msg.points.append(JointTrajectoryPoint(
            positions=[elbow, pan], time_from_start=Duration(sec=0, nanosec=int(t * 1e9))))
    client.traj.publish(msg)
    expect = target.copy()
    expect[[2, 0]] = (0.9, -0.3)
    assert wait_until(lambda: np.allclose(client.joints()[:6], expect, atol=0.02), 10.0), \
        client.joints()


@pytest.mark.timeout(90)
def test_pressing_a_cube_registers_on_the_pads_and_reset_jumps_the_clock(sim):
    client, proc = sim
    from builtin_interfaces.msg import Duration
    from trajectory_msgs.msg import JointTrajectoryPoint

    from vla_ros.sim.ik import IkSolver, grasp_yaw, top_down_rotation
    from vla_ros.sim.world import SimWorld, WorldConfig

    world = SimWorld(WorldConfig(image_width=32, image_height=32), seed=3)  # same layout
    client.reset_seed.publish(client.types['u32'](data=3))
    assert wait_until(lambda: client.task_state().get('seed') == 3, 10.0)
    state = client.task_state()
    p = np.array(state['objects']['red_cube']['initial_position'])
    np.testing.assert_allclose(p, world.object_positions()['red_cube'], atol=1e-4)
    ik = IkSolver(world.model)
    rot = top_down_rotation(grasp_yaw(world.object_yaw('red_cube'), math.atan2(p[1], p[0])))
    above = ik.solve(p + [0, 0, 0.1], rot, world.home)
    at = ik.solve(p, rot, above.q)
    world.close()
    msg = client.types['traj']()
    msg.joint_names = list(C.DEFAULT_ARM_JOINTS)
    for t, q in ((1.5, above.q), (2.5, at.q)):
        msg.points.append(JointTrajectoryPoint(
            positions=q.tolist(), time_from_start=Duration(sec=int(t), nanosec=int(t % 1 * 1e9))))
    client.traj.publish(msg)
    assert wait_until(lambda: client.task_state().get('sim_time', 0) > 2.8, 15.0)
    assert sum(client.get('tactile')[-1].values) == 0.0
    client.gripper.publish(client.types['f64'](data=[0.0]))
    assert wait_until(lambda: min(client.task_state()['pad_force'].values()) > 1.0, 10.0)
    values = np.array(client.get('tactile')[-1].values).reshape(2, 16)
    assert np.all(values.sum(axis=1) > 1.0), values
    assert client.task_state()['predicates']['red_cube_grasped']
    # the max effort command limits the squeeze (full effort: ~6 N, the servo's pull at this
    # opening); malformed ones are ignored
    assert wait_until(lambda: min(client.task_state()['pad_force'].values()) > 4.0, 10.0)
    f64 = client.types['f64']
    client.effort.publish(f64(data=[1.0]))
    assert wait_until(lambda: max(client.task_state()['pad_force'].values()) < 1.5, 10.0), \
        client.task_state()['pad_force']
    for bad in ([], [5.0, 5.0], [float('nan')]):
        client.effort.publish(f64(data=bad))
    time.sleep(0.5)
    assert max(client.task_state()['pad_force'].values()) < 1.5
    assert 'ignored effort command' in proc.log_tail()   # logged (throttled) and counted
    client.effort.publish(f64(data=[0.5]))
    assert wait_until(lambda: max(client.task_state()['pad_force'].values()) < 0.8, 10.0)

    before = client.task_state()
    client.clear()
    assert client.reset_srv.wait_for_service(5.0)
    future = client.reset_srv.call_async(client.types['trigger'].Request())
    assert wait_until(future.done, 10.0) and future.result().success
    client.clear()
    assert wait_until(lambda: len(client.get('clock')) > 3, 5.0)
    clock = client.get('clock')[-1].clock
    assert clock.sec + 1e-9 * clock.nanosec < 1.0 < before['sim_time']   # jumped backwards
    assert wait_until(lambda: client.task_state()['episode'] == before['episode'] + 1, 5.0)
    after = client.task_state()
    assert after['seed'] == 0
    assert not after['predicates']['red_cube_touched']
    assert wait_until(lambda: np.allclose(client.joints()[:6], world.home, atol=0.05), 5.0)


@pytest.mark.timeout(60)
def test_beeps_and_spoken_commands_reach_the_microphone(sim):
    client, _ = sim
    client.clear()
    assert wait_until(lambda: len(client.get('audio')) > 10, 5.0)
    quiet = _audio_rms(client.get('audio')[-10:])
    client.sound.publish(client.types['str'](data='beep:1000:0.5'))
    client.command.publish(client.types['str'](data='pick up the red cube'))
    assert wait_until(lambda: {e['name'] for e in client.task_state()['events']}
                      >= {'beep', 'say'}, 10.0), client.task_state()['events']
    say = [e for e in client.task_state()['events'] if e['name'] == 'say'][0]
    assert say['text'] == 'pick up the red cube'
    time.sleep(0.3)
    loud = max(_audio_rms([m]) for m in client.get('audio')[-40:])
    assert loud > 5 * quiet, (loud, quiet)


def _audio_rms(msgs) -> float:
    x = np.concatenate([np.frombuffer(bytes(m.data), '<i2') for m in msgs]) / 32768.0
    return float(np.sqrt(np.mean(x ** 2)))
