"""The one exception hierarchy of vla_ros.

Messages say what was expected and what came. Third-party errors are wrapped at the boundary
with ``raise ... from e``.
"""


class VlaRosError(Exception):
    """Base class of every error raised by vla_ros."""


class ConfigError(VlaRosError):
    """A parameter or configuration value is invalid."""


class ConversionError(VlaRosError):
    """A ROS message cannot be converted to an array (bad encoding, size, values)."""


class SyncError(VlaRosError):
    """A multimodal frame cannot be assembled."""


class BundleError(VlaRosError):
    """A policy bundle is missing, corrupt or disagrees with its ONNX graph."""


class InferenceError(VlaRosError):
    """The policy failed to run or produced unusable output."""


class SafetyError(VlaRosError):
    """The safety filter refused a command."""


class ProcessError(VlaRosError):
    """A child process (node, simulator) failed to start or died."""
