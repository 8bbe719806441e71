"""
Voice activity detection on 16 kHz mono audio, one fixed-size frame at a time (ROS-free).

Two detectors behind one small interface (:class:`Vad`: ``frame_samples``, ``speech_prob``,
``reset``):

- :class:`SileroVad`: the Silero VAD network as the ``silero-vad`` wheel ships it
  (``silero_vad/data/silero_vad.onnx``), run by onnxruntime directly; the package itself (which
  imports torch) is never imported, only its data file is read. 512-sample frames (32 ms) with
  the 64 samples before them as context and a recurrent state [2, 1, 128].
- :class:`WebRtcVad`: pocketsphinx's port of the WebRTC GMM voice detector (energy + spectral
  shape), 480-sample frames (30 ms); its decision is 0 or 1.
"""

from __future__ import annotations

from enum import Enum
import importlib.util
from pathlib import Path
from typing import Protocol

import numpy as np
import onnxruntime as ort
import pocketsphinx
from vla_ros.errors import ConfigError, ConversionError

SAMPLE_RATE_HZ = 16000             # both detectors and the recognizer run at this rate
SILERO_FRAME = 512                 # samples per Silero frame at 16 kHz (32 ms)
SILERO_CONTEXT = 64                # samples of the previous frame Silero sees first
SILERO_STATE_SHAPE = (2, 1, 128)
SILERO_MODEL_FILE = 'silero_vad.onnx'
WEBRTC_FRAME_S = 0.03              # WebRTC VAD frame [s] (480 samples at 16 kHz)


class VadKind(str, Enum):
    SILERO = 'silero'   # Silero ONNX network (silero-vad wheel's data file, onnxruntime)
    WEBRTC = 'webrtc'   # pocketsphinx's WebRTC-style VAD


class Vad(Protocol):
    """A frame-wise voice detector: float32 [frame_samples] in [-1, 1] -> P(speech)."""

    frame_samples: int

    def speech_prob(self, frame: np.ndarray) -> float:
        ...

    def reset(self) -> None:
        ...


def silero_model_path() -> Path:
    """Return the ONNX file inside the installed ``silero-vad`` wheel (ConfigError if none)."""
    spec = importlib.util.find_spec('silero_vad')  # locates it without running its torch import
    locs = list(spec.submodule_search_locations or []) if spec else []
    for loc in locs:
        path = Path(loc) / 'data' / SILERO_MODEL_FILE
        if path.is_file():
            return path
    raise ConfigError(f'the silero-vad wheel (data/{SILERO_MODEL_FILE}) is not installed: '
                      'pip install silero-vad (requirements/tools.txt), or use vad webrtc')


def _check_frame(frame: np.ndarray, n: int) -> np.ndarray:
    x = np.asarray(frame, np.float32)
    if x.shape != (n,):
        raise ConversionError(f'VAD frame must be float32 [{n}], got shape {x.shape}')
    return x


class SileroVad:
    """Silero VAD via onnxruntime: one session, 1 thread, explicit CPU provider."""

    frame_samples = SILERO_FRAME

    def __init__(self, model_path: str | Path | None = None) -> None:
        opts = ort.SessionOptions()
        opts.intra_op_num_threads = opts.inter_op_num_threads = 1
        path = Path(model_path) if model_path else silero_model_path()
        self._session = ort.InferenceSession(str(path), opts,
                                             providers=['CPUExecutionProvider'])
        names = {i.name for i in self._session.get_inputs()}
        if names != {'input', 'state', 'sr'}:
            raise ConfigError(f'{path}: expected Silero inputs input/state/sr, got {names}')
        self._sr = np.array(SAMPLE_RATE_HZ, np.int64)
        self.reset()

    def reset(self) -> None:
        self._state = np.zeros(SILERO_STATE_SHAPE, np.float32)
        self._context = np.zeros(SILERO_CONTEXT, np.float32)

    def speech_prob(self, frame: np.ndarray) -> float:
        x = _check_frame(frame, SILERO_FRAME)
        inp = np.concatenate([self._context, x])[None, :]
        out, self._state = self._session.run(None, {'input': inp, 'state': self._state,
                                                    'sr': self._sr})
        self._context = x[-SILERO_CONTEXT:]
        return float(out[0, 0])


class WebRtcVad:
    """pocketsphinx's WebRTC VAD; ``mode`` 0 (loose) .. 3 (strict); returns 0.0 or 1.0."""

    def __init__(self, mode: int = 0) -> None:
        if mode not in range(4):
            raise ConfigError(f'webrtc VAD mode must be 0..3, got {mode}')
        self._vad = pocketsphinx.Vad(mode, SAMPLE_RATE_HZ, WEBRTC_FRAME_S)
        self.frame_samples = self._vad.frame_bytes // 2

    def reset(self) -> None:
        pass  # stateless per frame

    def speech_prob(self, frame: np.ndarray) -> float:
        x = _check_frame(frame, self.frame_samples)
        pcm = (np.clip(x, -1.0, 1.0) * 32767).astype('<i2').tobytes()
        return 1.0 if self._vad.is_speech(pcm) else 0.0


def make_vad(kind: VadKind | str) -> Vad:
    """Build the detector named ``kind`` (ConfigError for an unknown one)."""
    try:
        kind = VadKind(kind)
    except ValueError as e:
        raise ConfigError(f'vad must be one of {[k.value for k in VadKind]}, got {kind!r}'
                          ) from e
    return SileroVad() if kind is VadKind.SILERO else WebRtcVad()
