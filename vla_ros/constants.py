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


# Default topic names: the same defaults in the simulator, the fake sensors, the sync node and
# the Gazebo bridge config (tests enforce that they agree).
CAMERA_TOPIC_FMT = '/camera/{name}/image_raw'
AUDIO_TOPIC = '/audio/chunk'
TACTILE_TOPIC = '/tactile/array'
JOINT_STATES_TOPIC = '/joint_states'
COMMAND_TOPIC = '/vla/command'
ESTOP_TOPIC = '/vla/estop'

DEFAULT_CAMERAS = ('front', 'wrist')
DEFAULT_SAMPLE_RATE_HZ = 16000
DEFAULT_TACTILE_PADS = (('left_finger', 4, 4), ('right_finger', 4, 4))
DEFAULT_ARM_JOINTS = (
    'shoulder_pan_joint', 'shoulder_lift_joint', 'elbow_joint',
    'wrist_1_joint', 'wrist_2_joint', 'wrist_3_joint',
)
DEFAULT_GRIPPER_JOINT = 'gripper_joint'


def camera_topic(name: str) -> str:
    """Return the default image topic of a camera."""
    return CAMERA_TOPIC_FMT.format(name=name)
