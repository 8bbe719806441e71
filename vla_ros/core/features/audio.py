"""
Log-mel audio features (numpy; ROS- and torch-free).

The ONE mel front end of vla_ros: training (``vla_ros.model``) computes its audio inputs with
:func:`log_mel` and the runtime calls the same function with the parameters recorded in the
bundle, so the two can never drift apart.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
import functools

import numpy as np
from vla_ros.errors import ConfigError


@dataclass(frozen=True)
class MelConfig:
    """Log-mel parameters. Frames are not centre-padded: ``1 + (n - n_fft) // hop`` frames."""

    sample_rate: int = 16000     # [Hz]
    window_s: float = 1.0        # audio window fed to the model [s]
    n_fft: int = 400             # FFT / frame length [samples] (25 ms at 16 kHz)
    hop_length: int = 160        # [samples] (10 ms at 16 kHz)
    n_mels: int = 64
    fmin: float = 0.0            # [Hz]
    fmax: float = 8000.0         # [Hz]
    log_floor: float = 1e-6      # power floor before log

    def __post_init__(self) -> None:
        if self.sample_rate <= 0:
            raise ConfigError(f'sample_rate must be > 0, got {self.sample_rate!r}')
        if self.n_fft <= 0 or self.hop_length <= 0:
            raise ConfigError(f'n_fft and hop_length must be > 0, got {self.n_fft!r}, '
                              f'{self.hop_length!r}')
        if self.n_samples < self.n_fft:
            raise ConfigError(f'window_s={self.window_s!r} is shorter than n_fft={self.n_fft}')
        if not 0 <= self.fmin < self.fmax <= self.sample_rate / 2:
            raise ConfigError(f'need 0 <= fmin < fmax <= sample_rate/2, got fmin={self.fmin!r} '
                              f'fmax={self.fmax!r}')
        if self.n_mels <= 0:
            raise ConfigError(f'n_mels must be > 0, got {self.n_mels!r}')

    @property
    def n_samples(self) -> int:
        """Return the number of samples in one model window."""
        return int(round(self.window_s * self.sample_rate))

    @property
    def n_frames(self) -> int:
        """Mel frames produced from one window."""
        return 1 + (self.n_samples - self.n_fft) // self.hop_length

    def to_dict(self) -> dict:
        return asdict(self)


def _hz_to_mel(f: np.ndarray) -> np.ndarray:
    return 2595.0 * np.log10(1.0 + f / 700.0)


def _mel_to_hz(m: np.ndarray) -> np.ndarray:
    return 700.0 * (10.0 ** (m / 2595.0) - 1.0)


@functools.lru_cache(maxsize=8)
def mel_filterbank(cfg: MelConfig) -> np.ndarray:
    """Triangular HTK-mel filters, n_mels x (n_fft // 2 + 1) float32."""
    n_bins = cfg.n_fft // 2 + 1
    freqs = np.linspace(0.0, cfg.sample_rate / 2, n_bins)
    mels = np.linspace(_hz_to_mel(np.float64(cfg.fmin)), _hz_to_mel(np.float64(cfg.fmax)),
                       cfg.n_mels + 2)
    edges = _mel_to_hz(mels)
    lower, centre, upper = edges[:-2, None], edges[1:-1, None], edges[2:, None]
    up = (freqs[None, :] - lower) / np.maximum(centre - lower, 1e-9)
    down = (upper - freqs[None, :]) / np.maximum(upper - centre, 1e-9)
    fb = np.maximum(0.0, np.minimum(up, down))
    fb.setflags(write=False)
    return fb.astype(np.float32)


@functools.lru_cache(maxsize=8)
def _window(n_fft: int) -> np.ndarray:
    return np.hanning(n_fft + 1)[:-1].astype(np.float32)  # periodic Hann


def fit_window(samples: np.ndarray | None, cfg: MelConfig) -> np.ndarray:
    """Return the last ``cfg.n_samples`` samples, zero-padded at the start when short (float32)."""
    n = cfg.n_samples
    if samples is None:
        return np.zeros(n, np.float32)
    x = np.asarray(samples, np.float32).reshape(-1)
    if x.size >= n:
        return x[-n:]
    return np.concatenate([np.zeros(n - x.size, np.float32), x])


def log_mel(samples: np.ndarray, cfg: MelConfig = MelConfig()) -> np.ndarray:
    """
    Log-mel spectrogram of a mono window.

    :param samples: mono float32 samples in [-1, 1] at ``cfg.sample_rate``; fitted to the window
        with :func:`fit_window`.
    :param cfg: mel parameters.

    :return: n_mels x n_frames float32, natural log of mel power (floored at ``log_floor``).
    """
    x = fit_window(samples, cfg)
    frames = np.lib.stride_tricks.sliding_window_view(x, cfg.n_fft)[::cfg.hop_length]
    spec = np.fft.rfft(frames * _window(cfg.n_fft), axis=-1)
    power = (spec.real ** 2 + spec.imag ** 2).astype(np.float32)  # frames x bins
    mel = mel_filterbank(cfg) @ power.T
    return np.log(np.maximum(mel, cfg.log_floor)).astype(np.float32)
