"""Named constants shared by nodes, core and tools (ROS-free)."""

from enum import Enum


class Modality(str, Enum):
    """Modality kinds. Image keys are ``image/<camera>``."""

    IMAGE = 'image'
    AUDIO = 'audio'
    TACTILE = 'tactile'
    JOINTS = 'joints'
    LANGUAGE = 'language'


def image_key(camera: str) -> str:
    """Modality key of one camera, e.g. ``image/front``."""
    return f'{Modality.IMAGE.value}/{camera}'


# Default topic names, relative (ROS 2 convention, as nav2 does): they resolve in the node's
# namespace, so a robot launched in ``/robot1`` uses ``/robot1/camera/front/image_raw``, and
# the root namespace gives the absolute names ``/camera/front/image_raw`` etc. The same
# defaults in the simulator, the fake sensors, the sync node, the policy and the Gazebo bridge
# config (tests enforce that they agree). Bags store the root-namespace form: bag_topic().
CAMERA_TOPIC_FMT = 'camera/{name}/image_raw'
AUDIO_TOPIC = 'audio/chunk'
TACTILE_TOPIC = 'tactile/array'
JOINT_STATES_TOPIC = 'joint_states'
COMMAND_TOPIC = 'vla/command'
ESTOP_TOPIC = 'vla/estop'
# ros2_control controllers of the default robot (vla_policy's outputs, mujoco_sim's inputs)
ARM_TRAJECTORY_TOPIC = 'arm_controller/joint_trajectory'
ARM_COMMANDS_TOPIC = 'arm_controller/commands'
GRIPPER_COMMANDS_TOPIC = 'gripper_controller/commands'
# the gripper's max effort per finger [N] (one value; GripperActionController's max_effort)
GRIPPER_EFFORT_COMMANDS_TOPIC = 'gripper_effort_controller/commands'
TWIST_TOPIC = 'cmd_vel'
# the simulator's task interface (mujoco_sim; sim_microphone takes sounds too)
SIM_TASK_STATE_TOPIC = 'sim/task_state'
SIM_RESET_SERVICE = 'sim/reset'
SIM_RESET_SEED_TOPIC = 'sim/reset_seed'
SIM_SOUND_TOPIC = 'sim/sound'
# Global on purpose, one per ROS graph whatever the namespace: the simulation clock (every
# node with use_sim_time reads /clock) and /diagnostics (each status names its node's fully
# qualified name, so two robots stay distinguishable). No vla_ros node uses /tf.
CLOCK_TOPIC = '/clock'
DIAGNOSTICS_TOPIC = '/diagnostics'
GLOBAL_TOPICS = (CLOCK_TOPIC, DIAGNOSTICS_TOPIC)

DEFAULT_CAMERAS = ('front', 'wrist')
DEFAULT_SAMPLE_RATE_HZ = 16000
DEFAULT_TACTILE_PADS = (('left_finger', 4, 4), ('right_finger', 4, 4))
DEFAULT_ARM_JOINTS = (
    'shoulder_pan_joint', 'shoulder_lift_joint', 'elbow_joint',
    'wrist_1_joint', 'wrist_2_joint', 'wrist_3_joint',
)
DEFAULT_GRIPPER_JOINT = 'gripper_joint'
# Optional bundle action after the gripper opening: the max effort each finger may push with
# [N] (how hard to squeeze); bundles without it leave the effort as it is.
GRIPPER_EFFORT_ACTION = 'gripper_max_effort'
GRIPPER_EFFORT_UNIT = 'N'
# the sim gripper's effort limit [N] (vla_ros/sim/robot.py, tested): the max effort in force
# after a reset, and before a recording's first effort command
DEFAULT_GRIPPER_MAX_EFFORT = 20.0


def action_unit(name: str) -> str:
    """Return the unit of an action by name: N (gripper effort), m (gripper opening), else rad."""
    if name == GRIPPER_EFFORT_ACTION:
        return GRIPPER_EFFORT_UNIT
    return 'm' if 'gripper' in name else 'rad'


def camera_topic(name: str) -> str:
    """Return the default image topic of a camera."""
    return CAMERA_TOPIC_FMT.format(name=name)


def bag_topic(topic: str) -> str:
    """
    Return the name a bag stores ``topic`` under: its root-namespace absolute form.

    ``'vla/command'`` -> ``'/vla/command'``; absolute names are kept. A recorder in namespace
    ``/robot1`` writes ``/robot1/vla/command`` as ``/vla/command``, so bags of every robot read
    alike.
    """
    return topic if topic.startswith('/') else '/' + topic


def namespaced(topic: str, namespace: str = '') -> str:
    """
    Resolve ``topic`` in ``namespace`` as ROS does (no ``~``, no substitutions).

    ``namespaced('vla/command', 'robot1')`` -> ``'/robot1/vla/command'``; an absolute topic is
    kept; ``''`` or ``'/'`` is the root namespace.
    """
    if topic.startswith('/'):
        return topic
    ns = namespace.strip().strip('/')
    return f'/{ns}/{topic}' if ns else '/' + topic
