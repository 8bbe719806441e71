"""Multimodal synchronizer (ROS-free): streams at different rates -> time-aligned Frames.

Per-modality buffers indexed by stamp [ns]; ``assemble(t)`` picks, for a frame at time ``t``:
images nearest within the slop, the audio window ending at ``t``, tactile latest (or max/mean
over a window), joints interpolated to ``t``, and the latched command. Each modality is present
only when fresh (max age); a missing required modality raises :class:`MissingModalityError`
and the reason is counted in :attr:`MultimodalSynchronizer.stats`.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import numpy as np

from vla_ros.constants import Modality, image_key
from vla_ros.core.audio_window import NS_PER_S, AudioRing, mix_down
from vla_ros.core.buffers import AddResult, StampedBuffer
from vla_ros.core.frame import Frame, TactileLayout
from vla_ros.core.sync_config import (ALL_MODALITIES, CameraConfig, StampPolicy, SyncConfig,
                                      TactileMode, Trigger)
from vla_ros.errors import (JointNameError, LayoutError, MissingModalityError,
                            NonFiniteError, SampleRateError, StampError, SyncError,
                            VlaRosError)

__all__ = ['ALL_MODALITIES', 'AddResult', 'CameraConfig', 'ModalityStats',
           'MultimodalSynchronizer', 'StampPolicy', 'SyncConfig', 'SyncStats', 'TactileMode',
           'Trigger']

AUDIO, TACTILE, JOINTS, LANGUAGE = (m.value for m in (
    Modality.AUDIO, Modality.TACTILE, Modality.JOINTS, Modality.LANGUAGE))


@dataclass
class ModalityStats:
    """Counters of one modality key. ``rejected``: invalid input; ``dropped``: duplicate or
    too old; ``missing``: frames where it was absent."""

    received: int = 0
    accepted: int = 0
    rejected: int = 0
    dropped: int = 0
    out_of_order: int = 0
    present: int = 0
    missing: int = 0
    last_stamp_ns: int = 0


@dataclass
class SyncStats:
    """Synchronizer counters: per modality key, frames made / not made, reasons, clock jumps."""

    modalities: dict[str, ModalityStats] = field(default_factory=dict)
    frames: int = 0
    frames_dropped: int = 0
    clock_jumps: int = 0
    reasons: Counter = field(default_factory=Counter)


ClockJumpCallback = Callable[[int, int], None]


def _finite(x: np.ndarray) -> bool:
    """All finite (one reduction: NaN/Inf propagate through the dot product; values beyond
    ~1e150 also fail, which no sensor produces)."""
    flat = x.reshape(-1)
    return bool(np.isfinite(flat.dot(flat))) if flat.size else True


class MultimodalSynchronizer:
    """Aligns camera, audio, tactile, joint and language inputs into :class:`Frame` objects.

    Not thread-safe: call from one thread (the node's sensor callback group).

    Args:
        config: the :class:`SyncConfig`.
        clock: ``() -> ns`` used for arrival stamps (default ``time.monotonic_ns``; nodes pass
            their ROS clock so sim time works).
        on_clock_jump: called with (old_ns, new_ns) after a backwards jump cleared the buffers.
    """

    def __init__(self, config: SyncConfig, *, clock: Callable[[], int] | None = None,
                 on_clock_jump: ClockJumpCallback | None = None) -> None:
        self.config = config
        self._clock = clock or time.monotonic_ns
        self.on_clock_jump = on_clock_jump
        horizon = int(config.buffer_s * NS_PER_S)
        self._images = {c.name: StampedBuffer(horizon, 64) for c in config.cameras}
        self._audio = AudioRing(config.audio_rate, config.buffer_s)
        self._tactile: StampedBuffer = StampedBuffer(horizon, 1024)
        self._joints: StampedBuffer = StampedBuffer(horizon, 1024)
        self._command = ''
        self._command_stamp_ns = 0
        self._joint_index: dict[tuple[str, ...], np.ndarray] = {}
        self._zero_vel = np.zeros(len(config.joint_names))
        self._zero_vel.flags.writeable = False
        self._newest: dict[str, int] = {}
        self._last_frame_ns: int | None = None
        self._slop_ns = int(config.image_slop_s * NS_PER_S)
        self._clock_jump_ns = int(config.clock_jump_s * NS_PER_S)
        self._audio_n = int(round(config.audio_window_s * config.audio_rate))
        self._tactile_window_ns = int(config.tactile_window_s * NS_PER_S)
        self._max_age = {k: config.max_age_ns(k) for k in config.modality_keys}
        self._required = config.required_keys
        self._used = set(config.modalities)
        self.stats = SyncStats(modalities={k: ModalityStats() for k in config.modality_keys})

    # ------------------------------------------------------------------ bookkeeping
    def record_reject(self, key: str, reason: str) -> None:
        """Count an input rejected before it reached the synchronizer (conversion errors)."""
        st = self.stats.modalities.get(key)
        if st is not None:
            st.received += 1
            st.rejected += 1
        self.stats.reasons[f'{key}:{reason}'] += 1

    def _reject(self, key: str, error: VlaRosError) -> VlaRosError:
        self.record_reject(key, type(error).__name__)
        return error

    def _stamp(self, key: str, stamp_ns: int, arrival_ns: int | None) -> int:
        """Apply the stamp policy and clock-jump detection; returns the stamp to use."""
        if stamp_ns <= 0:
            if self.config.stamp_policy != StampPolicy.ARRIVAL:
                raise self._reject(key, StampError(
                    f'{key}: header stamp is {stamp_ns} (zero/missing) and stamp_policy is '
                    "'reject'"))
            stamp_ns = arrival_ns if arrival_ns is not None else self._clock()
        newest = self._newest.get(key)
        if newest is not None and stamp_ns < newest - self._clock_jump_ns:
            self._clock_jumped(newest, stamp_ns)
        if newest is None or stamp_ns > newest:
            self._newest[key] = stamp_ns
        return stamp_ns

    def _clock_jumped(self, old_ns: int, new_ns: int) -> None:
        self.stats.clock_jumps += 1
        self.reset()
        if self.on_clock_jump is not None:
            self.on_clock_jump(old_ns, new_ns)

    def _count(self, key: str, stamp_ns: int, result: AddResult) -> AddResult:
        st = self.stats.modalities[key]
        st.received += 1
        if result in (AddResult.DUPLICATE, AddResult.TOO_OLD):
            st.dropped += 1
            self.stats.reasons[f'{key}:{result.value}'] += 1
        else:
            st.accepted += 1
            if result == AddResult.OUT_OF_ORDER:
                st.out_of_order += 1
            elif stamp_ns > st.last_stamp_ns:
                st.last_stamp_ns = stamp_ns
        return result

    def reset(self) -> None:
        """Clear every buffer (not the command, not the counters)."""
        for buf in self._images.values():
            buf.clear()
        self._audio.clear()
        self._tactile.clear()
        self._joints.clear()
        self._newest.clear()
        self._last_frame_ns = None

    # ------------------------------------------------------------------ inputs
    def add_image(self, camera: str, stamp_ns: int, image: np.ndarray, *,
                  arrival_ns: int | None = None) -> AddResult:
        """Buffer one HxWx3 uint8 RGB image of ``camera`` taken at ``stamp_ns`` [ns]."""
        buf = self._images.get(camera)
        if buf is None:
            raise SyncError(f'unknown camera {camera!r}; configured: {list(self._images)}')
        key = image_key(camera)
        stamp_ns = self._stamp(key, stamp_ns, arrival_ns)
        return self._count(key, stamp_ns, buf.add(stamp_ns, image))

    def add_audio(self, stamp_ns: int, samples: np.ndarray, sample_rate: int, *,
                  arrival_ns: int | None = None) -> AddResult:
        """Buffer a chunk [n] or [n, channels] float32 in [-1, 1]; stamp = first sample [ns]."""
        if not sample_rate or sample_rate <= 0 or sample_rate > 1_000_000:
            raise self._reject(AUDIO, SampleRateError(
                f'audio sample_rate must be in (0, 1e6] Hz, got {sample_rate}'))
        if not _finite(samples):
            raise self._reject(AUDIO, NonFiniteError('audio chunk contains NaN or Inf'))
        stamp_ns = self._stamp(AUDIO, stamp_ns, arrival_ns)
        return self._count(AUDIO, stamp_ns, self._audio.add(stamp_ns, mix_down(samples),
                                                            int(sample_rate)))

    def add_tactile(self, stamp_ns: int, values: np.ndarray, layout: TactileLayout, *,
                    arrival_ns: int | None = None) -> AddResult:
        """Buffer one tactile reading: float32 values in ``layout`` order."""
        if not isinstance(values, np.ndarray) or values.dtype != np.float32:
            values = np.asarray(values, np.float32)
        if values.size != layout.size:
            raise self._reject(TACTILE, LayoutError(
                f'tactile: {values.size} values but the layout has {layout.size}'))
        if not _finite(values):
            raise self._reject(TACTILE, NonFiniteError('tactile values contain NaN or Inf'))
        stamp_ns = self._stamp(TACTILE, stamp_ns, arrival_ns)
        return self._count(TACTILE, stamp_ns, self._tactile.add(stamp_ns, (values, layout)))

    def add_joints(self, stamp_ns: int, names: Sequence[str], positions,
                   velocities=None, *, arrival_ns: int | None = None) -> AddResult:
        """Buffer a joint state; matched by name to ``config.joint_names`` (extras ignored)."""
        key_names = tuple(names)
        idx = self._joint_index.get(key_names)
        if idx is None:
            lookup = {n: i for i, n in enumerate(key_names)}
            missing = [n for n in self.config.joint_names if n not in lookup]
            if missing:
                raise self._reject(JOINTS, JointNameError(
                    f'joint state lacks required joints {missing}; got {list(key_names)}'))
            idx = np.array([lookup[n] for n in self.config.joint_names], np.intp)
            if len(self._joint_index) < 64:
                self._joint_index[key_names] = idx
        pos = np.asarray(positions, np.float64)
        if pos.shape != (len(key_names),):
            raise self._reject(JOINTS, LayoutError(
                f'joint state: {len(key_names)} names but {pos.size} positions'))
        pos = pos.take(idx)
        if velocities is not None and len(velocities):
            vel = np.asarray(velocities, np.float64)
            if vel.shape != (len(key_names),):
                raise self._reject(JOINTS, LayoutError(
                    f'joint state: {len(key_names)} names but {vel.size} velocities'))
            vel = vel.take(idx)
        else:
            vel = self._zero_vel
        if not (_finite(pos) and _finite(vel)):
            raise self._reject(JOINTS, NonFiniteError('joint state contains NaN or Inf'))
        stamp_ns = self._stamp(JOINTS, stamp_ns, arrival_ns)
        return self._count(JOINTS, stamp_ns, self._joints.add(stamp_ns, (pos, vel)))

    def set_command(self, text: str, stamp_ns: int = 0) -> None:
        """Latch the language command ('' clears it)."""
        self._command = str(text)
        self._command_stamp_ns = int(stamp_ns) if stamp_ns > 0 else self._clock()
        st = self.stats.modalities.get(LANGUAGE)
        if st is not None:
            st.received += 1
            st.accepted += 1
            st.last_stamp_ns = self._command_stamp_ns

    # ------------------------------------------------------------------ assembly
    def cameras_ready(self, stamp_ns: int) -> bool:
        """True when no camera can still deliver a better image for a frame at ``stamp_ns``:
        each has one within the slop, or a newer image past it."""
        if Modality.IMAGE.value not in self._used:
            return True
        for buf in self._images.values():
            newest = buf.newest_stamp
            if newest is None or newest < stamp_ns - self._slop_ns:
                return False
        return True

    def _fresh(self, key: str, age_ns: int) -> bool:
        max_age = self._max_age.get(key, 0)
        return max_age == 0 or age_ns <= max_age

    def assemble(self, stamp_ns: int) -> Frame:
        """Build the frame for time ``stamp_ns`` [ns]; raises :class:`MissingModalityError`."""
        last = self._last_frame_ns
        if last is not None and stamp_ns < last - self._clock_jump_ns:
            self._clock_jumped(last, stamp_ns)
        self._last_frame_ns = stamp_ns
        frame = Frame(stamp_ns=stamp_ns, audio_rate=self.config.audio_rate)
        present, stamps, why = frame.present, frame.source_stamps, {}
        used = self._used
        if Modality.IMAGE.value in used:
            for cam, buf in self._images.items():
                key = image_key(cam)
                hit = buf.nearest(stamp_ns)
                ok = False
                if hit is None:
                    why[key] = 'no data'
                elif abs(hit[0] - stamp_ns) > self._slop_ns:
                    why[key] = f'nearest image {(hit[0] - stamp_ns) / 1e6:+.1f} ms off'
                elif not self._fresh(key, stamp_ns - hit[0]):
                    why[key] = 'stale'
                else:
                    ok = True
                    frame.images[cam] = hit[1]
                    stamps[key] = hit[0]
                present[key] = ok
        if AUDIO in used:
            self._assemble_audio(frame, why)
        if TACTILE in used:
            self._assemble_tactile(frame, why)
        if JOINTS in used:
            self._assemble_joints(frame, why)
        if LANGUAGE in used:
            frame.command, frame.command_stamp_ns = self._command, self._command_stamp_ns
            ok = bool(self._command) and self._fresh(LANGUAGE, stamp_ns - self._command_stamp_ns)
            present[LANGUAGE] = ok
            stamps[LANGUAGE] = self._command_stamp_ns if ok else 0
            if not ok:
                why[LANGUAGE] = 'no command' if not self._command else 'stale'
        mods = self.stats.modalities
        for key, ok in present.items():
            st = mods[key]
            if ok:
                st.present += 1
            else:
                st.missing += 1
                stamps.setdefault(key, 0)
        for key in self._required:
            if not present.get(key, False):
                self.stats.frames_dropped += 1
                self.stats.reasons[f'missing:{key}'] += 1
                raise MissingModalityError(key, why.get(key, 'absent'))
        self.stats.frames += 1
        return frame

    def _assemble_audio(self, frame: Frame, why: dict) -> None:
        ring = self._audio
        frame.audio, frame.audio_gap_fraction = ring.window(frame.stamp_ns, self._audio_n)
        end = ring.last_end_ns
        ok = end is not None and frame.audio_gap_fraction < 1.0 and self._fresh(
            AUDIO, frame.stamp_ns - end)
        frame.present[AUDIO] = ok
        if ok:
            frame.source_stamps[AUDIO] = min(end, frame.stamp_ns)
        else:
            why[AUDIO] = 'no data' if end is None else 'stale or empty window'

    def _assemble_tactile(self, frame: Frame, why: dict) -> None:
        t = frame.stamp_ns
        hit = self._tactile.latest_at(t)
        if hit is None:
            hit = self._tactile.nearest(t)
        if hit is None or not self._fresh(TACTILE, abs(t - hit[0])):
            frame.present[TACTILE] = False
            why[TACTILE] = 'no data' if hit is None else 'stale'
            return
        values, layout = hit[1]
        if self.config.tactile_mode != TactileMode.LATEST:
            _, items = self._tactile.window(t - self._tactile_window_ns, t)
            same = [v for v, lay in items if lay.size == layout.size]
            if len(same) > 1:
                stack = np.stack(same)
                values = (stack.max(axis=0) if self.config.tactile_mode == TactileMode.MAX
                          else stack.mean(axis=0, dtype=np.float32))
        frame.tactile, frame.tactile_layout = values, layout
        frame.present[TACTILE] = True
        frame.source_stamps[TACTILE] = hit[0]

    def _assemble_joints(self, frame: Frame, why: dict) -> None:
        t = frame.stamp_ns
        before, after = self._joints.bracket(t)
        frame.joint_names = self.config.joint_names
        if before is not None and after is not None:
            (t0, (p0, v0)), (t1, (p1, v1)) = before, after
            w = (t - t0) / (t1 - t0)
            pos, vel = p0 + w * (p1 - p0), v0 + w * (v1 - v0)
            src, age = (t0 if w <= 0.5 else t1), min(t - t0, t1 - t)
        elif before is not None or after is not None:
            src, (pos, vel) = before if before is not None else after
            age = abs(t - src)
        else:
            frame.present[JOINTS] = False
            why[JOINTS] = 'no data'
            return
        if not self._fresh(JOINTS, age):
            frame.present[JOINTS] = False
            why[JOINTS] = f'stale ({age / 1e6:.0f} ms)'
            return
        frame.joint_positions, frame.joint_velocities = pos, vel
        frame.present[JOINTS] = True
        frame.source_stamps[JOINTS] = src
