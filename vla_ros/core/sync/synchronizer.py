"""
Multimodal synchronizer (ROS-free): streams at different rates -> time-aligned Frames.

Per-modality buffers indexed by stamp [ns]; ``assemble(t)`` picks, for a frame at time ``t``:
images nearest within the slop, the audio window ending at ``t``, tactile latest (or max/mean
over a window), joints interpolated to ``t``, and the latched command. Each modality is present
only when fresh (max age); a missing required modality raises :class:`MissingModalityError`
and the reason is counted in :attr:`MultimodalSynchronizer.stats`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from vla_ros.constants import image_key, Modality
from vla_ros.core.frame import Frame, TactileLayout
from vla_ros.core.sync.assemble import (assemble_audio, assemble_images, assemble_joints,
                                        assemble_tactile)
from vla_ros.core.sync.audio_ring import AudioRing, mix_down, NS_PER_S
from vla_ros.core.sync.buffers import AddResult, StampedBuffer
from vla_ros.core.sync.checks import audio_error, joints_error, tactile_error
from vla_ros.core.sync.config import StampPolicy, SyncConfig
from vla_ros.core.sync.state import JUMP_CONFIRM, ModalityStats, NO_STAMP, StreamState, SyncStats
from vla_ros.errors import (JointNameError, LayoutError, MissingModalityError, StampError,
                            StampOutlierError, SyncError, VlaRosError)

IMAGE, AUDIO, TACTILE, JOINTS, LANGUAGE = (m.value for m in (
    Modality.IMAGE, Modality.AUDIO, Modality.TACTILE, Modality.JOINTS, Modality.LANGUAGE))


ClockJumpCallback = Callable[[int, int], None]
_OK, _OUT_OF_ORDER = AddResult.OK, AddResult.OUT_OF_ORDER
_F32 = np.dtype(np.float32)
SILENT_CAMERA_NS = NS_PER_S  # a camera without max age and no image for this long is silent
JOINT_CACHE_SIZE = 8  # joint-name orders remembered (drivers send one; fuzzers send many)


class MultimodalSynchronizer:
    """
    Aligns camera, audio, tactile, joint and language inputs into :class:`Frame` objects.

    Not thread-safe: call from one thread (the node's sensor callback group).

    :param config: the :class:`SyncConfig`.
    :param clock: ``() -> ns``, the clock the stamps are on: the node's ROS clock (wall or sim
        time), a bag's log time, a simulator's time. Required: it checks that no stamp is in
        the future and tells a clock jump from an outlier, and stamps zero stamps under the
        ``arrival`` policy; a default (the machine's uptime) rejected every stream stamped
        ahead of it.
    :param on_clock_jump: called with (old_ns, new_ns) after a backwards jump cleared the buffers.
    """

    def __init__(self, config: SyncConfig, *, clock: Callable[[], int],
                 on_clock_jump: ClockJumpCallback | None = None) -> None:
        self.config = config
        self._clock = clock
        self.on_clock_jump = on_clock_jump
        horizon = int(config.buffer_s * NS_PER_S)
        image_horizon = int(config.image_horizon_s * NS_PER_S)
        self._images = {c.name: StampedBuffer(image_horizon, 64) for c in config.cameras}
        self._audio = AudioRing(config.audio_rate, config.buffer_s)
        self._tactile: StampedBuffer = StampedBuffer(horizon, 1024)
        self._joints: StampedBuffer = StampedBuffer(horizon, 1024)
        self._command = ''
        self._command_stamp_ns = 0
        self._joint_index: dict[tuple[str, ...], np.ndarray | None] = {}
        n_joints = len(config.joint_names)
        self._zero_vel = np.zeros(n_joints)
        self._zero_vel.flags.writeable = False
        self._last_frame_ns: int | None = None
        self._first_image_ns: int | None = None  # first image since start/reset [ns]
        self._future_ok_ns = NO_STAMP  # stamps up to this are not in the future [ns]
        self._slop_ns = int(config.image_slop_s * NS_PER_S)
        self._clock_jump_ns = int(config.clock_jump_s * NS_PER_S)
        self._audio_n = int(round(config.audio_window_s * config.audio_rate))
        self._tactile_window_ns = int(config.tactile_window_s * NS_PER_S)
        self._max_age = {k: config.max_age_ns(k) for k in config.modality_keys}
        self._required = config.required_keys
        self._used = set(config.modalities)
        self.stats = SyncStats(modalities={k: ModalityStats() for k in config.modality_keys})
        mods = self.stats.modalities

        def stream(key: str, buf) -> StreamState:
            return StreamState(key, buf, mods.get(key), self._max_age.get(key, 0))

        self._cams = {c: stream(image_key(c), buf) for c, buf in self._images.items()}
        self._s_audio = stream(AUDIO, self._audio)
        self._s_tactile = stream(TACTILE, self._tactile)
        self._s_joints = stream(JOINTS, self._joints)
        self._streams = (*self._cams.values(), self._s_audio, self._s_tactile, self._s_joints)
        self._layout_shapes: tuple | None = None  # cache of the last TactileLayout's size
        self._history_n = config.history_frames - 1  # past frames per Frame (bundle history)
        self._history_ns = int(round(config.history_spacing_s * NS_PER_S))
        self._layout_size = 0

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

    def _zero_stamp(self, key: str, stamp_ns: int, arrival_ns: int | None) -> int:
        """Stamp policy for a zero/missing stamp: the arrival time, or reject."""
        if self.config.stamp_policy != StampPolicy.ARRIVAL:
            raise self._reject(key, StampError(
                f'{key}: header stamp is {stamp_ns} (zero/missing) and stamp_policy is '
                "'reject'"))
        return arrival_ns if arrival_ns is not None else self._clock()

    def _accept(self, s: StreamState, stamp_ns: int, item) -> AddResult:
        """Clock-jump detection, buffer insert and counters of one valid sample."""
        self._advance(s, stamp_ns)
        result = s.buf.add(stamp_ns, item)
        st = s.st
        if result is _OK and st is not None:
            st.received += 1
            st.accepted += 1
            if stamp_ns > st.last_stamp_ns:
                st.last_stamp_ns = stamp_ns
            return result
        return self._count(s, stamp_ns, result)

    def _advance(self, s: StreamState, stamp_ns: int) -> None:
        """
        Track the stream's newest stamp and tell a clock jump from an outlier.

        A stamp more than ``clock_jump_s`` ahead of the node's clock is rejected. A stamp that
        far behind the stream's newest is a clock jump (every buffer cleared) only when the
        node's clock went back too (sim reset with ``/clock``), or, while the node has no
        clock yet, after ``JUMP_CONFIRM`` such messages in a row; otherwise it is rejected,
        so bad messages cannot wipe the other streams.
        """
        newest, jump = s.newest, self._clock_jump_ns
        if stamp_ns > newest:
            # Every new newest stamp is checked against the clock (small steps ahead must not
            # ratchet a stream into the future); the clock is read again only when a stamp
            # passes the limit of the last reading (the clock only moves on).
            if stamp_ns > self._future_ok_ns:
                now = self._clock()
                if now > 0:
                    self._future_ok_ns = now + jump
                    if stamp_ns > now + jump:
                        raise self._reject(s.key, StampOutlierError(
                            f'{s.key}: stamp {(stamp_ns - now) / 1e9:.3f} s ahead of the '
                            'node clock (are the clocks synchronized? use_sim_time?)'))
            s.newest = stamp_ns
            s.behind = 0
        elif stamp_ns < newest - jump:
            now = self._clock()
            s.behind += 1
            # Believed when the node's clock went back too (sim reset on /clock). Without a
            # running clock (sim time before the first /clock) only a sustained run of such
            # stamps is believed; with one that did not jump, never: frames stamped that far
            # behind the clock would be stale anyway, so they are outliers (a fuzzer's 3 old
            # stamps in a row must not clear every buffer).
            if (0 < now < newest - jump) or (now <= 0 and s.behind >= JUMP_CONFIRM):
                self._clock_jumped(newest, stamp_ns)
                s.newest = stamp_ns
                return
            raise self._reject(s.key, StampOutlierError(
                f'{s.key}: stamp {(newest - stamp_ns) / 1e9:.3f} s behind the stream while '
                'the clock did not jump (rejected as an outlier)'))
        else:
            s.behind = 0

    def _clock_jumped(self, old_ns: int, new_ns: int) -> None:
        self.stats.clock_jumps += 1
        self.reset()
        if self.on_clock_jump is not None:
            self.on_clock_jump(old_ns, new_ns)

    def _count(self, s: StreamState, stamp_ns: int, result: AddResult) -> AddResult:
        st = s.st
        if st is None:
            raise KeyError(s.key)
        st.received += 1
        if result is _OK:
            st.accepted += 1
            if stamp_ns > st.last_stamp_ns:
                st.last_stamp_ns = stamp_ns
        elif result is _OUT_OF_ORDER:
            st.accepted += 1
            st.out_of_order += 1
        else:  # duplicate or too old
            st.dropped += 1
            self.stats.reasons[f'{s.key}:{result.value}'] += 1
        return result

    def reset(self) -> None:
        """Clear every buffer (not the command, not the counters)."""
        for s in self._streams:
            s.buf.clear()
            s.newest = NO_STAMP
            s.behind = 0
            if s.st is not None:
                # the newest stamp belongs to the old timeline (it triggers frames and ages)
                s.st.last_stamp_ns = 0
        self._last_frame_ns = None
        self._first_image_ns = None
        self._future_ok_ns = NO_STAMP  # read the clock again: it may have jumped too

    # ------------------------------------------------------------------ inputs
    def add_image(self, camera: str, stamp_ns: int, image: np.ndarray, *,
                  arrival_ns: int | None = None) -> AddResult:
        """Buffer one HxWx3 uint8 RGB image of ``camera`` taken at ``stamp_ns`` [ns]."""
        s = self._cams.get(camera)
        if s is None:
            raise SyncError(f'unknown camera {camera!r}; configured: {list(self._images)}')
        if stamp_ns <= 0:
            stamp_ns = self._zero_stamp(s.key, stamp_ns, arrival_ns)
        result = self._accept(s, stamp_ns, image)
        if self._first_image_ns is None:
            self._first_image_ns = stamp_ns
        return result

    def add_audio(self, stamp_ns: int, samples: np.ndarray, sample_rate: int, *,
                  arrival_ns: int | None = None) -> AddResult:
        """Buffer a chunk [n] or [n, channels] float32 in [-1, 1]; stamp = first sample [ns]."""
        ndim = samples.ndim
        mono = samples if ndim == 1 else (
            samples[:, 0] if ndim == 2 and samples.shape[1] == 1 else None)  # same values
        error = audio_error(samples, samples if mono is None else mono, sample_rate,
                            self.config.buffer_s)
        if error is not None:
            raise self._reject(AUDIO, error)
        if mono is None:
            mono = mix_down(samples)
        elif mono.dtype is not _F32:
            mono = np.asarray(mono, np.float32)
        if stamp_ns <= 0:
            stamp_ns = self._zero_stamp(AUDIO, stamp_ns, arrival_ns)
        s = self._s_audio
        self._advance(s, stamp_ns)
        return self._count(s, stamp_ns, self._audio.add(stamp_ns, mono, int(sample_rate)))

    def add_tactile(self, stamp_ns: int, values: np.ndarray, layout: TactileLayout, *,
                    arrival_ns: int | None = None) -> AddResult:
        """Buffer one tactile reading: float32 values in ``layout`` order."""
        if not isinstance(values, np.ndarray) or values.dtype != np.float32:
            values = np.asarray(values, np.float32)
        shapes = layout.shapes
        if shapes is self._layout_shapes or (shapes.__class__ is tuple
                                             and shapes == self._layout_shapes):
            size = self._layout_size
        else:
            size = layout.size
            if shapes.__class__ is tuple:
                self._layout_shapes, self._layout_size = shapes, size
        error = tactile_error(values, size, layout, self.config.tactile_layout,
                              self.config.tactile_size)
        if error is not None:
            raise self._reject(TACTILE, error)
        if stamp_ns <= 0:
            stamp_ns = self._zero_stamp(TACTILE, stamp_ns, arrival_ns)
        return self._accept(self._s_tactile, stamp_ns, (values, layout))

    def add_joints(self, stamp_ns: int, names: Sequence[str], positions,
                   velocities=None, *, arrival_ns: int | None = None) -> AddResult:
        """Buffer a joint state; matched by name to ``config.joint_names`` (extras ignored)."""
        key_names = names if names.__class__ is tuple else tuple(names)
        try:
            idx = self._joint_index[key_names]
        except KeyError:
            idx = self._joint_lookup(key_names)
        n = len(key_names)
        pos = np.asarray(positions, np.float64)
        if pos.shape != (n,):
            raise self._reject(JOINTS, LayoutError(
                f'joint state: {n} names but {pos.size} positions'))
        pos = pos.copy() if idx is None else pos.take(idx)
        if velocities is not None and len(velocities):
            vel = np.asarray(velocities, np.float64)
            if vel.shape != (n,):
                raise self._reject(JOINTS, LayoutError(
                    f'joint state: {n} names but {vel.size} velocities'))
            vel = vel.copy() if idx is None else vel.take(idx)
            error = joints_error(pos, vel)
        else:
            vel = self._zero_vel
            error = joints_error(pos, None)
        if error is not None:
            raise self._reject(JOINTS, error)
        if stamp_ns <= 0:
            stamp_ns = self._zero_stamp(JOINTS, stamp_ns, arrival_ns)
        return self._accept(self._s_joints, stamp_ns, (pos, vel))

    def _joint_lookup(self, key_names: tuple[str, ...]) -> np.ndarray | None:
        """Index of each configured joint in ``key_names`` (None: same order, no extras)."""
        lookup = {n: i for i, n in enumerate(key_names)}
        missing = [n for n in self.config.joint_names if n not in lookup]
        if missing:
            raise self._reject(JOINTS, JointNameError(
                f'joint state lacks required joints {missing}; got {list(key_names)}'))
        idx = np.array([lookup[n] for n in self.config.joint_names], np.intp)
        if key_names == self.config.joint_names:
            idx = None
        if len(self._joint_index) >= JOINT_CACHE_SIZE:
            self._joint_index.clear()  # bounded: hostile name lists cannot grow memory
        if len(key_names) <= 4 * len(self.config.joint_names) + 16:
            self._joint_index[key_names] = idx
        return idx

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
        """
        Tell whether no camera can still deliver a better image for a frame at ``stamp_ns``.

        True when each has one within the slop, or a newer image past it.
        """
        if Modality.IMAGE.value not in self._used:
            return True
        for s in self._cams.values():
            newest = s.buf.newest_stamp
            if newest is None or newest < stamp_ns - self._slop_ns:
                # silent camera (nothing for longer than its max age, also since the first
                # image of any camera): waiting cannot help this frame
                last = newest if newest is not None else self._first_image_ns
                if last is not None and stamp_ns - last > (s.max_age or SILENT_CAMERA_NS):
                    continue
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
        frame = Frame(stamp_ns, audio_rate=self.config.audio_rate)
        present, stamps, why = frame.present, frame.source_stamps, {}
        self._fill(frame, why)
        mods = self.stats.modalities
        for key, ok in present.items():
            if ok:
                mods[key].present += 1
            else:
                mods[key].missing += 1
                stamps.setdefault(key, 0)
        for key in self._required:
            if not present.get(key, False):
                self.stats.frames_dropped += 1
                self.stats.reasons[f'missing:{key}'] += 1
                raise MissingModalityError(key, why.get(key, 'absent'))
        self.stats.frames += 1
        if self._history_n:  # past frames from the same buffers, not counted in stats
            frame.history = tuple(self._past(stamp_ns - i * self._history_ns)
                                  for i in range(self._history_n, 0, -1))
        return frame

    def _past(self, stamp_ns: int) -> Frame:
        frame = Frame(stamp_ns, audio_rate=self.config.audio_rate)
        self._fill(frame, {})
        return frame

    def _fill(self, frame: Frame, why: dict[str, str]) -> None:
        """Fill every modality of ``frame`` from the buffers (presence and source stamps)."""
        stamp_ns, present, stamps, used = frame.stamp_ns, frame.present, frame.source_stamps, \
            self._used
        if IMAGE in used:
            assemble_images(frame, why, self._cams, self._slop_ns)
        if AUDIO in used:
            assemble_audio(frame, why, self._audio, self._audio_n, self._s_audio.max_age)
        if TACTILE in used:
            assemble_tactile(frame, why, self._tactile, self._s_tactile.max_age,
                             self.config.tactile_mode, self._tactile_window_ns)
        if JOINTS in used:
            assemble_joints(frame, why, self._joints, self.config.joint_names,
                            self._s_joints.max_age)
        if LANGUAGE in used:
            frame.command, frame.command_stamp_ns = self._command, self._command_stamp_ns
            ok = bool(self._command) and self._fresh(LANGUAGE, stamp_ns - self._command_stamp_ns)
            present[LANGUAGE] = ok
            stamps[LANGUAGE] = self._command_stamp_ns if ok else 0
            if not ok:
                why[LANGUAGE] = 'no command' if not self._command else 'stale'
