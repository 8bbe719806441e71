"""
Synthesized microphone: ambient noise, motor hum, contact clicks, beeps, spoken commands.

ROS-free; used by the MuJoCo node and by the ``sim_microphone`` node (Gazebo). Output is mono
float32 in [-1, 1] at ``sample_rate``.
"""

from __future__ import annotations

from dataclasses import dataclass
import io
import shutil
import subprocess
import wave

import numpy as np
from vla_ros import constants as C
from vla_ros.errors import ConfigError, ProcessError


@dataclass(frozen=True)
class MicConfig:
    sample_rate: int = C.DEFAULT_SAMPLE_RATE_HZ  # [Hz]
    noise_level: float = 0.004      # ambient white-noise std
    hum_gain: float = 0.06          # motor hum amplitude at hum_full_speed
    hum_base_hz: float = 110.0      # hum pitch at rest [Hz]; rises 60 Hz per rad/s
    hum_full_speed: float = 1.5     # summed |joint speed| [rad/s] giving full hum
    click_gain: float = 0.5         # contact click amplitude
    click_threshold: float = 0.2    # summed pad force [N] whose onset makes a click
    beep_hz: float = 1000.0
    beep_s: float = 0.25
    beep_gain: float = 0.4
    speech_gain: float = 0.6

    def __post_init__(self) -> None:
        if not 4000 <= self.sample_rate <= 96000:
            raise ConfigError(f'sample_rate must be in [4000, 96000] Hz, got {self.sample_rate}')
        if self.noise_level < 0 or self.hum_gain < 0:
            raise ConfigError(f'gains must be >= 0, got noise_level={self.noise_level}, '
                              f'hum_gain={self.hum_gain}')


def tone(freq_hz: float, duration_s: float, sample_rate: int, gain: float) -> np.ndarray:
    """Return a sine tone with 5 ms fades, float32 [n]."""
    n = max(1, int(duration_s * sample_rate))
    t = np.arange(n) / sample_rate
    y = gain * np.sin(2 * np.pi * freq_hz * t)
    ramp = min(n // 2, int(0.005 * sample_rate))
    if ramp:
        env = np.linspace(0.0, 1.0, ramp)
        y[:ramp] *= env
        y[-ramp:] *= env[::-1]
    return y.astype(np.float32)


def speak(text: str, sample_rate: int, *, voice: str = 'en', words_per_minute: int = 160
          ) -> np.ndarray:
    """Speech for ``text`` from espeak-ng, resampled to ``sample_rate``, float32 [n]."""
    exe = shutil.which('espeak-ng')
    if exe is None:
        raise ProcessError('espeak-ng not found; install it (apt espeak-ng) for spoken commands')
    try:
        res = subprocess.run([exe, '-v', voice, '-s', str(words_per_minute), '--stdout', text],
                             capture_output=True, timeout=10, check=True)
    except (subprocess.SubprocessError, OSError) as e:
        raise ProcessError(f'espeak-ng failed for {text!r}: {e}') from e
    with wave.open(io.BytesIO(res.stdout)) as w:
        rate, width = w.getframerate(), w.getsampwidth()
        raw = w.readframes(w.getnframes())
    if width != 2:
        raise ProcessError(f'espeak-ng wrote {8 * width}-bit audio, expected 16-bit')
    y = np.frombuffer(raw, '<i2').astype(np.float32) / 32768.0
    n_out = int(len(y) * sample_rate / rate)
    return np.interp(np.arange(n_out) * rate / sample_rate, np.arange(len(y)), y
                     ).astype(np.float32)


class MicrophoneSynth:
    """Stateful synthesizer: call :meth:`synthesize` for consecutive chunks."""

    def __init__(self, config: MicConfig = MicConfig(), seed: int = 0) -> None:
        self.config = config
        self._speech_cache: dict[str, np.ndarray] = {}
        self.reset(seed)

    def reset(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.hum_phase = 0.0
        self.prev_force = 0.0
        self.sources: list[list] = []  # [samples, offset]

    def play(self, samples: np.ndarray) -> None:
        """Mix ``samples`` (float32 [n]) in, starting with the next chunk."""
        self.sources.append([np.asarray(samples, np.float32), 0])

    def beep(self, freq_hz: float | None = None, duration_s: float | None = None) -> None:
        c = self.config
        self.play(tone(freq_hz or c.beep_hz, duration_s or c.beep_s, c.sample_rate,
                       c.beep_gain))

    def say(self, text: str) -> None:
        """Queue ``text`` spoken by espeak-ng (cached per text)."""
        if text not in self._speech_cache:
            self._speech_cache[text] = speak(text, self.config.sample_rate)
        self.play(self.config.speech_gain * self._speech_cache[text])

    def synthesize(self, n: int, joint_speed: float, contact_force: float) -> np.ndarray:
        """Next ``n`` samples given summed |joint speed| [rad/s] and pad force [N]."""
        c = self.config
        out = self.rng.normal(0.0, c.noise_level, n).astype(np.float32)
        level = min(1.0, max(0.0, joint_speed) / c.hum_full_speed)
        if level > 1e-3:
            freq = c.hum_base_hz + 60.0 * joint_speed
            phase = self.hum_phase + 2 * np.pi * freq * np.arange(1, n + 1) / c.sample_rate
            out += (c.hum_gain * level * (np.sin(phase) + 0.3 * np.sin(3 * phase))
                    ).astype(np.float32)
            self.hum_phase = float(phase[-1] % (2 * np.pi))
        if contact_force >= c.click_threshold > self.prev_force:
            k = min(n, int(0.01 * c.sample_rate))
            click = self.rng.normal(0, 1, k) * np.exp(-np.arange(k) / (0.0015 * c.sample_rate))
            out[:k] += (c.click_gain * click).astype(np.float32)
        self.prev_force = contact_force
        alive = []
        for src in self.sources:
            samples, off = src
            k = min(n, len(samples) - off)
            out[:k] += samples[off:off + k]
            src[1] = off + k
            if src[1] < len(samples):
                alive.append(src)
        self.sources = alive
        return np.clip(out, -1.0, 1.0)
