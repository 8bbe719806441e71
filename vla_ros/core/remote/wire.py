"""
What crosses the network when inference runs on another host (ROS-free).

``vla_policy`` in ``inference: remote`` mode sends each frame it wants a chunk for to
``vla_inference`` (docs/distributed.md). To keep the bytes down the robot shrinks the frame
first: every camera image is resized to the bundle's input size with the very resize the
runtime would apply (stretch, or letterbox for ``resize: pad``), so the server's preprocessing
finds the image at its size and leaves it alone -- a raw (rgb8) remote chunk equals the local
one bit for bit. Images may further be JPEG-compressed (``jpeg_quality`` > 0; lossy). Audio
is the window the sync core assembled for the bundle, as S16LE (what microphones deliver) or
F32LE. A request for a bundle with an ``action_prefix`` input also carries the actions the robot
commits while the chunk is computed (:func:`prefix_to_wire`); one without them is d = 0.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from enum import Enum

import cv2
import numpy as np
from vla_ros.core.bundle.contract import Manifest
from vla_ros.core.bundle.spec_fields import input_specs
from vla_ros.core.bundle.specs import ImageResize, ImageSpec
from vla_ros.core.features.image import _resize
from vla_ros.core.frame import Frame
from vla_ros.core.runtime.prefix import ActionPrefix
from vla_ros.core.runtime.preprocess import letterbox
from vla_ros.errors import ConfigError, ConversionError
from vla_ros.params.policy import POLICY_PARAMETERS

REMOTE_FRAME_TOPIC = 'vla/remote/frame'   # relative: resolved in the robot's namespace
REMOTE_CHUNK_TOPIC = 'vla/remote/chunk'
_P = POLICY_PARAMETERS
MAX_JPEG_QUALITY = int(_P['remote.jpeg_quality'].range[1])
MIN_AUTO_CHUNK_AGE_S = 0.5


class AudioWire(str, Enum):
    """Sample format of the audio window on the wire."""

    S16LE = 'S16LE'
    F32LE = 'F32LE'


@dataclass(frozen=True)
class RemoteConfig:
    """
    The robot side of a split (``vla_policy`` parameters ``remote.*``).

    :ivar max_chunk_age_s: hold when no chunk arrived for this long, and drop a chunk whose
        frame is older than this on arrival [s]. A hold past ``hold_latch_s`` needs a new
        command, as for lost sensor data. 0 = auto (:func:`chunk_age_limit`).
    :ivar jpeg_quality: 1..100 JPEG-compresses the resized images; 0 sends raw rgb8.
    :ivar audio: sample format of the audio window.
    """

    max_chunk_age_s: float = _P['remote.max_chunk_age_s'].default
    jpeg_quality: int = _P['remote.jpeg_quality'].default
    audio: AudioWire = AudioWire(_P['remote.audio'].default)

    def __post_init__(self) -> None:
        if not self.max_chunk_age_s >= 0:
            raise ConfigError(f'remote.max_chunk_age_s must be >= 0 (0 = auto), got '
                              f'{self.max_chunk_age_s}')
        if not 0 <= self.jpeg_quality <= MAX_JPEG_QUALITY:
            raise ConfigError(f'remote.jpeg_quality must be 0 (raw) .. {MAX_JPEG_QUALITY}, got '
                              f'{self.jpeg_quality}')
        try:
            object.__setattr__(self, 'audio', AudioWire(self.audio))
        except ValueError:
            raise ConfigError(f'remote.audio must be one of {[a.value for a in AudioWire]}, '
                              f'got {self.audio!r}') from None
        for name in ('max_chunk_age_s', 'jpeg_quality', 'audio'):  # the spec's range
            _P[f'remote.{name}'].check(getattr(self, name), label=f'remote.{name}')

    @classmethod
    def from_values(cls, values: Mapping[str, object]) -> RemoteConfig | None:
        """Return the split's settings when parameter ``inference`` is remote, else None."""
        mode = _P['inference'].check(values['inference'])
        if mode == 'local':
            return None
        names = ('max_chunk_age_s', 'jpeg_quality', 'audio')
        return cls(**{n: values[f'remote.{n}'] for n in names})


def chunk_age_limit(configured_s: float, horizon: int, dt_s: float, threshold: int) -> float:
    """
    Return the chunk age limit [s]: ``configured_s``, or for 0 the auto value.

    Auto: ``max(MIN_AUTO_CHUNK_AGE_S, 1.5 x (horizon - inference_threshold) x dt)`` -- half as
    long again as a healthy link leaves between chunks (the scheduler asks for the next one
    when fewer than ``inference_threshold`` actions remain). models/default (H 10, dt 0.1,
    threshold 8): 0.5 s; an ACT chunk of 100 at 50 Hz: 2.76 s (it is executed open loop for
    1.84 s in any case, as it would be locally).
    """
    if configured_s > 0:
        return configured_s
    return max(MIN_AUTO_CHUNK_AGE_S, 1.5 * max(0, horizon - threshold) * dt_s)


@dataclass(frozen=True)
class CameraWire:
    """How one camera travels: resized to ``size`` (height, width) by ``resize``."""

    size: tuple[int, int]
    resize: ImageResize


def camera_wires(manifest: Manifest) -> dict[str, CameraWire]:
    """
    Return camera -> its resize for the wire, from the bundle's image inputs.

    A camera read by two inputs of different sizes or resize modes travels unresized (the
    server resizes it for each input).
    """
    out: dict[str, CameraWire | None] = {}
    for spec in input_specs(manifest).values():
        if not isinstance(spec, ImageSpec):
            continue
        for cam in spec.cameras:
            wire = CameraWire(tuple(spec.size), spec.resize)
            out[cam] = wire if out.get(cam, wire) == wire else None
    return {c: w for c, w in out.items() if w is not None}


def shrink_image(image: np.ndarray, wire: CameraWire) -> np.ndarray:
    """Resize HxWx3 uint8 exactly as the runtime would for this input."""
    if image.shape[:2] == wire.size:
        return image
    if wire.resize is ImageResize.PAD:
        return letterbox(image, wire.size)
    return _resize(np.ascontiguousarray(image), wire.size)


def shrink_frame(frame: Frame, wires: dict[str, CameraWire],
                 modalities: tuple[str, ...] | None = None) -> Frame:
    """
    Return ``frame`` (and its history) as it travels: each camera at its wire size.

    With ``modalities`` (the bundle's), cameras, audio and tactile the bundle does not read are
    left out (their presence flags stay); joints always travel (delta chunks need them).
    """
    keep = None if modalities is None else set(modalities)
    images = {c: shrink_image(img, wires[c]) if c in wires else img
              for c, img in frame.images.items() if keep is None or f'image/{c}' in keep}
    more = {} if keep is None else {
        k: None for k in ('audio', 'tactile') if k not in keep}
    return replace(frame, images=images, **more,
                   history=tuple(shrink_frame(h, wires, modalities) for h in frame.history))


def encode_jpeg(image: np.ndarray, quality: int) -> bytes:
    """HxWx3 uint8 RGB -> JPEG bytes at ``quality`` (1..100)."""
    ok, buf = cv2.imencode('.jpg', np.ascontiguousarray(image[..., ::-1]),
                           [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise ConversionError(f'JPEG encoding of a {image.shape} image failed')
    return buf.tobytes()


def audio_bytes(audio: np.ndarray, wire: AudioWire) -> bytes:
    """Mono float audio in [-1, 1] -> little-endian samples of ``wire``."""
    x = np.asarray(audio, np.float32).reshape(-1)
    if wire is AudioWire.S16LE:
        return np.clip(np.round(x * 32768.0), -32768, 32767).astype('<i2').tobytes()
    return x.astype('<f4').tobytes()


@dataclass(frozen=True)
class PrefixWire:
    """
    An :class:`ActionPrefix` as the ``RemoteFrame`` fields ``prefix_*`` carry it.

    :ivar steps: d, the committed rows (0: nothing committed; an old robot sends 0).
    :ivar delay_steps: the delay the robot estimated [steps] (>= ``steps``).
    :ivar actions: ``steps x A`` values, row-major, the bundle's action space.
    :ivar tail: ``n x A`` values of the planned rest (``tail: planned`` bundles), or empty.
    """

    steps: int = 0
    delay_steps: int = 0
    actions: tuple[float, ...] = ()
    tail: tuple[float, ...] = ()


def prefix_to_wire(prefix: ActionPrefix | None) -> PrefixWire:
    """Return the wire fields of ``prefix`` (None: a request with nothing committed)."""
    if prefix is None:
        return PrefixWire()
    acts = np.asarray(prefix.actions, np.float64)
    tail = () if prefix.tail is None else tuple(np.asarray(prefix.tail, np.float64).ravel())
    return PrefixWire(int(acts.shape[0]), int(prefix.delay_steps), tuple(acts.ravel()), tail)


def prefix_from_wire(wire: PrefixWire, n_actions: int) -> ActionPrefix | None:
    """
    Return the :class:`ActionPrefix` of a request for a bundle of ``n_actions`` actions.

    None when nothing is committed (``steps`` 0: what the runtime feeds as d = 0). Raises
    :class:`ConversionError` when the value counts do not match ``steps`` x ``n_actions``.
    """
    if wire.steps == 0:
        return None
    if len(wire.actions) != wire.steps * n_actions:
        raise ConversionError(f'action prefix: {len(wire.actions)} values for {wire.steps} '
                              f'steps x {n_actions} actions')
    if len(wire.tail) % n_actions:
        raise ConversionError(f'action prefix tail: {len(wire.tail)} values is not a multiple '
                              f'of {n_actions} actions')
    tail = (np.asarray(wire.tail, np.float64).reshape(-1, n_actions) if wire.tail else None)
    return ActionPrefix(np.asarray(wire.actions, np.float64).reshape(wire.steps, n_actions),
                        max(int(wire.delay_steps), wire.steps), tail)
