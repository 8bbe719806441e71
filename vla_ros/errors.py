"""
The one exception hierarchy of vla_ros.

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


class NodeFailedError(ProcessError):
    """A child node exited or logged a configuration error; the message quotes the node."""


class DatasetError(VlaRosError):
    """A recording or dataset lacks what a conversion needs (topics, features, frames)."""


class LeRobotEnvError(VlaRosError):
    """The LeRobot tooling environment is missing or a step in it failed."""


class NoNodeError(VlaRosError):
    """The node a command talks to is not on the ROS graph (wrong ROS_DOMAIN_ID, not started)."""


class ServingError(VlaRosError):
    """The Ray Serve cluster is unreachable, serves another bundle, or a request failed."""


class UsageError(VlaRosError):
    """A command-line argument is invalid (the CLI exits with status 2)."""


# --- Bundle / runtime specifics (RUNTIME workstream) ---------------------------------------

class BundleMissingFileError(BundleError):
    """A file named by the bundle (bundle.yaml, policy.onnx, ...) does not exist."""


class BundleHashError(BundleError):
    """A bundle file's sha256 differs from the one recorded in bundle.yaml."""


class BundleManifestError(BundleError):
    """bundle.yaml is malformed or disagrees with the ONNX graph (names, shapes, dtypes)."""


class UnsupportedOpsetError(BundleError):
    """The ONNX graph uses an opset (or format version) this runtime does not support."""


class UnsupportedProviderError(BundleError):
    """An execution provider name is unknown to onnxruntime or none could be created."""


class ParityError(BundleError):
    """Export check failed: onnxruntime and PyTorch outputs differ by more than atol."""


class BundleIncompleteError(BundleManifestError):
    """bundle.yaml still holds ``FILL_IN`` placeholders drafted by ``vla-ros bundle init``."""


class FormatVersionError(BundleManifestError):
    """A format-version-2 field in a bundle.yaml that says ``format_version: 1``."""


class TextTokensSpecError(BundleManifestError):
    """A ``text_tokens`` / ``token_mask`` input: tokenizer, max_length, padding or prompt."""


class NoiseSpecError(BundleManifestError):
    """A ``noise`` input: distribution, seed, scale or dtype."""


class ImageSpecError(BundleManifestError):
    """An image input: value_range, dtype, layout, resize, stack or its shape."""


class StateSpecError(BundleManifestError):
    """A ``joints`` input: ``pad_to`` or its shape."""


class ActionSpecError(BundleManifestError):
    """The action section: ``slice`` over a padded output or ``reference`` / ``delta_joints``."""


class HistorySpecError(BundleManifestError):
    """The ``history`` section, an input's ``history: true`` or a ``history_mask`` input."""


class PrefixSpecError(BundleManifestError):
    """An ``action_prefix`` / ``prefix_mask`` input: shape, ``max_delay`` or its reference."""


class ContractCheckError(BundleError):
    """``vla-ros bundle check``: the contract and the graph disagree when run on frames."""


class InputMismatchError(InferenceError):
    """A model input built from a frame does not match the manifest (shape, dtype, values)."""


# --- conversion failures (workstream SYNC): one subclass per bad-input class -------------------

class UnsupportedEncodingError(ConversionError):
    """An image/audio encoding or compressed format that cannot be decoded."""


class ImageSizeError(ConversionError):
    """Zero or absurd width/height, ``step`` too small, or data shorter than height * step."""


class MessageTooLargeError(ConversionError):
    """A message larger than the configured byte limit (rejected before conversion)."""


class NonFiniteError(ConversionError):
    """NaN or Inf in tactile, audio or joint values."""


class SampleRateError(ConversionError):
    """An audio sample rate of zero or out of range."""


class ChannelMismatchError(ConversionError):
    """Channel count zero, or data length not a multiple of channels * sample size."""


class LayoutError(ConversionError):
    """Tactile values disagree with the pad layout, or array lengths disagree."""


class JointNameError(ConversionError):
    """A joint state lacks a required joint name (unknown/missing names)."""


class StampError(ConversionError):
    """A zero or missing header stamp under the 'reject' stamp policy."""


class StampOutlierError(StampError):
    """
    A stamp far ahead of this node's clock, or far behind its stream.

    Far behind only counts while the clock has not jumped (one bad message must not clear every
    buffer).
    """


class ValueRangeError(ConversionError):
    """
    Finite values beyond what the sensor can produce.

    Joint, tactile or audio magnitudes past their bound; they would overflow float32 in the
    policy.
    """


class CommandTooLongError(ConversionError):
    """A language command longer than the front end accepts (rejected before any work)."""


class MissingModalityError(SyncError):
    """A required modality is missing or stale; ``.modality`` and ``.reason`` say which/why."""

    def __init__(self, modality: str, reason: str) -> None:
        super().__init__(f'required modality {modality!r} missing: {reason}')
        self.modality = modality
        self.reason = reason
