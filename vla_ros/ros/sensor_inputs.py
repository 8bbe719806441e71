"""
Embeddable sensor front end: subscriptions -> conversions -> synchronizer -> Frames.

Used in-process by ``multimodal_sync`` and by ``vla_policy``: images are converted to views of
the received message buffers and handed on as numpy arrays, never re-serialized. Every bad
message is counted, logged (throttled) and dropped; nothing else is lost.
"""

from __future__ import annotations

from collections.abc import Callable
import importlib
import threading
import time

from diagnostic_msgs.msg import DiagnosticStatus, KeyValue
from rclpy.clock import Clock, ClockType
from rclpy.node import Node
from sensor_msgs.msg import CompressedImage, Image, JointState
from std_msgs.msg import Float32MultiArray, String
from vla_ros.constants import image_key, Modality
from vla_ros.core import convert
from vla_ros.core.frame import Frame
from vla_ros.core.sync import SyncConfig, Trigger
from vla_ros.core.sync.buffers import AddResult
from vla_ros.core.sync.config import sync_config_from_values
from vla_ros.core.sync.synchronizer import MultimodalSynchronizer
from vla_ros.errors import (CommandTooLongError, ConfigError, ConversionError,
                            MissingModalityError, SyncError, VlaRosError)
from vla_ros.params.sync import AUDIO_MSG_TYPES, SYNC_PARAMETERS, TACTILE_MSG_TYPES
from vla_ros.qos import LATCHED_QOS, SENSOR_QOS
from vla_ros.ros.params import declare_table, read_table
from vla_ros_msgs.msg import AudioChunk, TactileArray

__all__ = ['SensorInputs', 'declare_sync_parameters']

LOG_THROTTLE_S = 5.0
# Commands longer than this are rejected by the front end unseen (the policy has its own,
# smaller max_command_chars); they are logged truncated to LOG_COMMAND_CHARS.
MAX_COMMAND_CHARS = 4096
LOG_COMMAND_CHARS = 80


def declare_sync_parameters(node: Node, *, prefix: str = '') -> SyncConfig:
    """
    Declare every sync parameter on ``node`` and return the validated :class:`SyncConfig`.

    Names are prefixed by ``prefix``. Raises :class:`ConfigError` quoting bad values.
    """
    declare_table(node, SYNC_PARAMETERS.values(), prefix=prefix)
    return sync_config_from_values(read_table(node, SYNC_PARAMETERS.values(), prefix=prefix))


class SensorInputs:
    """
    Subscribes to the configured sensor topics and calls ``on_frame(frame)`` per trigger.

    :param node: the owning node (its clock stamps arrivals, so ``use_sim_time`` works).
    :param config: from :func:`declare_sync_parameters`.
    :param callback_group: group of every subscription/timer (use a mutually exclusive one).
    :param on_frame: called with each assembled :class:`Frame`, in the callback thread.
    :param on_reject: called with (key, reason) when a message is rejected (key: the modality
        key) or when no frame could be built (key ``'frame'``).
    :param on_clock_jump: called when the sensor stamps jump backwards (a simulator reset).
    :param on_joint_state: called with (names, positions) of every accepted joint state (the
        newest measured pose, for holds).
    :param subscribe_command: subscribe to the command topic (False: the owner handles
        commands and passes accepted ones to :meth:`set_command`).
    """

    def __init__(self, node: Node, config: SyncConfig, *, callback_group=None,
                 on_frame: Callable[[Frame], None],
                 on_reject: Callable[[str, str], None] | None = None,
                 on_clock_jump: Callable[[], None] | None = None,
                 on_joint_state: Callable[[tuple, object], None] | None = None,
                 subscribe_command: bool = True) -> None:
        self.node = node
        self.config = config
        self.on_frame = on_frame
        self.on_reject = on_reject
        self.on_clock_jump = on_clock_jump
        self.on_joint_state = on_joint_state
        self._subscribe_command = subscribe_command
        self._log = node.get_logger()
        self._clock = node.get_clock()
        self.sync = MultimodalSynchronizer(config, clock=self._now_ns,
                                           on_clock_jump=self._on_clock_jump)
        self._lock = threading.Lock()
        self._pending: int | None = None   # frame time waiting for the other cameras [ns]
        self._pending_since = 0.0          # monotonic time the trigger came [s]
        self.last_frame_stamp_ns = 0
        self._last_log: dict[str, float] = {}
        self._diag_prev: tuple[float, dict[str, int], int] | None = None
        self._subs = []
        self._create_subscriptions(callback_group)
        self._timer = None
        if config.trigger == Trigger.TIMER:
            self._timer = node.create_timer(1.0 / config.timer_rate_hz, self._on_timer,
                                            callback_group=callback_group)
        elif len(config.cameras) > 1 and Modality.IMAGE.value in config.modalities:
            # A pending trigger is otherwise only resolved by the next message: when the
            # streams stop, the last image would never become a frame. Steady clock: the
            # wait is measured in wall time (time.monotonic), also under use_sim_time. With
            # one camera nothing is ever waited for (and no timer wakes the executor).
            period = min(max(config.max_wait_s / 2, 0.005), 0.05)
            self._timer = node.create_timer(period, self._on_wait_timer,
                                            callback_group=callback_group,
                                            clock=Clock(clock_type=ClockType.STEADY_TIME))

    # ------------------------------------------------------------------ wiring
    def _create_subscriptions(self, group) -> None:
        sub, used, cfg = self.node.create_subscription, set(self.config.modalities), self.config
        qos = SENSOR_QOS
        if Modality.IMAGE.value in used:
            for cam in cfg.cameras:
                msg_type = CompressedImage if cam.compressed else Image
                cb = self._make_image_cb(cam.name, cam.compressed)
                self._subs.append(sub(msg_type, cam.topic, cb, qos, callback_group=group))
        if Modality.AUDIO.value in used:
            if cfg.audio_msg_type == AUDIO_MSG_TYPES[0]:
                audio_type = AudioChunk
            else:
                try:
                    audio_type = importlib.import_module('audio_common_msgs.msg').AudioData
                except ImportError as e:
                    raise ConfigError(f'audio_msg_type {cfg.audio_msg_type!r} needs '
                                      'audio_common_msgs, which is not installed') from e
            self._subs.append(sub(audio_type, cfg.audio_topic, self._on_audio, qos,
                                  callback_group=group))
        if Modality.TACTILE.value in used:
            tac_type = TactileArray if cfg.tactile_msg_type == TACTILE_MSG_TYPES[0] \
                else Float32MultiArray
            self._subs.append(sub(tac_type, cfg.tactile_topic, self._on_tactile, qos,
                                  callback_group=group))
        if Modality.JOINTS.value in used:
            self._subs.append(sub(JointState, cfg.joint_states_topic, self._on_joints, qos,
                                  callback_group=group))
        if Modality.LANGUAGE.value in used and self._subscribe_command:
            self._subs.append(sub(String, cfg.command_topic, self._on_command, LATCHED_QOS,
                                  callback_group=group))

    def _now_ns(self) -> int:
        return self._clock.now().nanoseconds

    def _stamp(self, msg) -> int:
        header = getattr(msg, 'header', None)
        return convert.stamp_to_ns(header.stamp) if header is not None else 0

    # ------------------------------------------------------------------ errors
    def _bad(self, key: str, error: VlaRosError, *, counted: bool) -> None:
        """Count, log (throttled per reason: each reason is logged on its own) and report."""
        if not counted:
            self.sync.record_reject(key, type(error).__name__)
        # The counter key the synchronizer uses for this reason.
        tag = (f'missing:{error.modality}' if isinstance(error, MissingModalityError)
               else f'{key}:{type(error).__name__}')
        now = time.monotonic()
        if now - self._last_log.get(tag, -1e9) >= LOG_THROTTLE_S:
            self._last_log[tag] = now
            total = self.sync.stats.reasons.get(tag, 0)
            what = 'no frame' if key == 'frame' else f'dropped {key} input'
            self._log.warning(f'{what} ({tag}: {total} so far): {error}')
        if self.on_reject is not None:
            self.on_reject(key, f'{key}: {error}')

    def _on_clock_jump(self, old_ns: int, new_ns: int) -> None:
        self._pending = None
        self._log.warning(f'clock jumped backwards from {old_ns / 1e9:.3f} s to '
                          f'{new_ns / 1e9:.3f} s: sync buffers cleared')
        if self.on_clock_jump is not None:
            self.on_clock_jump()

    # ------------------------------------------------------------------ callbacks
    def _make_image_cb(self, camera: str, compressed: bool):
        key = image_key(camera)
        primary = (self.config.trigger == Trigger.PRIMARY_CAMERA
                   and camera == self.config.primary_camera)
        to_rgb = convert.compressed_to_rgb8 if compressed else convert.image_to_rgb8
        max_bytes = self.config.max_message_bytes

        def callback(msg) -> None:
            try:
                image = to_rgb(msg, max_bytes=max_bytes)
            except ConversionError as e:
                self._bad(key, e, counted=False)
                return
            with self._lock:
                try:
                    result = self.sync.add_image(camera, self._stamp(msg), image,
                                                 arrival_ns=self._now_ns())
                except VlaRosError as e:
                    self._bad(key, e, counted=True)
                    return
                if primary and result == AddResult.OK:  # a new newest primary image
                    self._trigger(self.sync.stats.modalities[key].last_stamp_ns)
                else:
                    self._poll()

        return callback

    def _on_audio(self, msg) -> None:
        cfg = self.config
        try:
            if isinstance(msg, AudioChunk):
                samples, rate = convert.audio_chunk_to_array(msg,
                                                             max_bytes=cfg.max_message_bytes)
            else:
                samples, rate = convert.audio_data_to_array(
                    msg, sample_rate=cfg.audio_data_rate, channels=cfg.audio_data_channels,
                    encoding=cfg.audio_data_encoding, max_bytes=cfg.max_message_bytes)
        except ConversionError as e:
            self._bad(Modality.AUDIO.value, e, counted=False)
            return
        self._add(Modality.AUDIO.value, self.sync.add_audio, self._stamp(msg), samples, rate)

    def _on_tactile(self, msg) -> None:
        try:
            if isinstance(msg, TactileArray):
                values, layout = convert.tactile_to_array(msg)
            else:
                values, layout = convert.multiarray_to_tactile(msg, self.config.tactile_layout)
        except ConversionError as e:
            self._bad(Modality.TACTILE.value, e, counted=False)
            return
        self._add(Modality.TACTILE.value, self.sync.add_tactile, self._stamp(msg), values,
                  layout)

    def _on_joints(self, msg) -> None:
        try:
            names, pos, vel = convert.joint_state_to_arrays(msg)
        except ConversionError as e:
            self._bad(Modality.JOINTS.value, e, counted=False)
            return
        result = self._add(Modality.JOINTS.value, self.sync.add_joints, self._stamp(msg), names,
                           pos, vel)
        if result is AddResult.OK and self.on_joint_state is not None:  # a newest sample
            self.on_joint_state(names, pos)

    def _on_command(self, msg: String) -> None:
        text = msg.data
        if len(text) > MAX_COMMAND_CHARS:
            self._bad(Modality.LANGUAGE.value, CommandTooLongError(
                f'command of {len(text)} characters > {MAX_COMMAND_CHARS}: '
                f'{text[:LOG_COMMAND_CHARS]!r}...'), counted=False)
            return
        with self._lock:
            self.sync.set_command(text, self._now_ns())

    def _add(self, key: str, add, stamp: int, *args) -> AddResult | None:
        """Hand one converted sample to the synchronizer; None when it was rejected."""
        with self._lock:
            try:
                result = add(stamp, *args, arrival_ns=self._now_ns())
            except VlaRosError as e:
                self._bad(key, e, counted=True)
                return None
            self._poll()
        return result

    # ------------------------------------------------------------------ triggering
    def _trigger(self, stamp_ns: int) -> None:
        if self._pending is not None and self._pending != stamp_ns:
            self._assemble(self._pending)  # a newer trigger: emit the older one as it is
        self._pending, self._pending_since = stamp_ns, time.monotonic()
        self._poll()

    def _poll(self) -> None:
        """Emit the pending frame once every camera is resolved or the wait is over."""
        t = self._pending
        if t is None:
            return
        if (self.sync.cameras_ready(t)
                or time.monotonic() - self._pending_since >= self.config.max_wait_s):
            self._pending = None
            self._assemble(t)

    def _on_timer(self) -> None:
        with self._lock:
            self._assemble(self._now_ns())

    def _on_wait_timer(self) -> None:
        if self._pending is not None:
            with self._lock:
                self._poll()

    def _assemble(self, stamp_ns: int) -> None:
        try:
            frame = self.sync.assemble(stamp_ns)
        except SyncError as e:
            self._bad('frame', e, counted=True)
            return
        self.last_frame_stamp_ns = stamp_ns
        self.on_frame(frame)

    # ------------------------------------------------------------------ API
    def set_command(self, text: str) -> None:
        """Latch the language command of the frames ('' clears it)."""
        with self._lock:
            self.sync.set_command(text, self._now_ns())

    def reset(self) -> None:
        """Clear every buffer and any pending trigger (keeps the command and counters)."""
        with self._lock:
            self.sync.reset()
            self._pending = None

    def diagnostics(self) -> list[DiagnosticStatus]:
        """One status per modality key (rate, age, drop/reject counts) plus one for frames."""
        now_mono, now_ns = time.monotonic(), self._now_ns()
        stats = self.sync.stats
        counts = {k: st.accepted for k, st in stats.modalities.items()}
        prev = self._diag_prev
        dt = (now_mono - prev[0]) if prev else 0.0
        self._diag_prev = (now_mono, counts, stats.frames)
        fqn = self.node.get_fully_qualified_name()  # /diagnostics is global: say which robot
        name = fqn.lstrip('/')
        out = []
        required = set(self.config.required_keys)
        for key, st in stats.modalities.items():
            rate = (counts[key] - prev[1].get(key, 0)) / dt if prev and dt > 0 else 0.0
            age = (now_ns - st.last_stamp_ns) / 1e9 if st.last_stamp_ns else float('inf')
            max_age = self.config.max_age_ns(key) / 1e9
            stale = st.last_stamp_ns == 0 or (max_age > 0 and age > max_age)
            level = DiagnosticStatus.OK
            msg = 'ok'
            if stale and key != Modality.LANGUAGE.value:
                level = DiagnosticStatus.ERROR if key in required else DiagnosticStatus.WARN
                msg = 'no data' if st.last_stamp_ns == 0 else f'stale ({age:.2f} s)'
            elif st.rejected:
                msg = f'ok, {st.rejected} rejected'
            out.append(_status(f'{name}: sync {key}', fqn, level, msg, {
                'rate_hz': f'{rate:.2f}', 'age_s': f'{age:.3f}', 'received': st.received,
                'accepted': st.accepted, 'dropped': st.dropped, 'rejected': st.rejected,
                'out_of_order': st.out_of_order, 'present_frames': st.present,
                'missing_frames': st.missing}))
        frame_rate = (stats.frames - prev[2]) / dt if prev and dt > 0 else 0.0
        reasons = ', '.join(f'{k}={v}' for k, v in stats.reasons.most_common(5))
        out.append(_status(f'{name}: sync frames', fqn, DiagnosticStatus.OK if stats.frames
                           else DiagnosticStatus.WARN, 'ok' if stats.frames else 'no frames', {
                               'rate_hz': f'{frame_rate:.2f}', 'frames': stats.frames,
                               'frames_dropped': stats.frames_dropped,
                               'clock_jumps': stats.clock_jumps, 'reasons': reasons}))
        return out


def _status(name: str, hardware_id: str, level, message: str, values: dict
            ) -> DiagnosticStatus:
    return DiagnosticStatus(level=level, name=name, message=message, hardware_id=hardware_id,
                            values=[KeyValue(key=k, value=str(v)) for k, v in values.items()])
