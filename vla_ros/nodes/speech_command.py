"""
Node ``speech_command``: spoken commands from the microphone to ``vla/command``.

Subscribes ``audio/chunk`` (``AudioChunk``, what ``mujoco_sim`` / ``sim_microphone`` / a real
microphone driver publish), runs voice activity detection and utterance segmentation in the
audio callback and recognition (:mod:`vla_ros.core.speech`) on a worker thread, so a
recognition never blocks the audio. A recognition at or above ``min_confidence`` is published
as a ``std_msgs/String`` on ``vla/command`` (the policy's own competence check then judges the
words); every utterance, accepted or not, goes to ``~/status`` (``SpeechStatus``: text,
confidence, speech span, accepted, reason). A bad audio message is counted (``/diagnostics``),
logged (throttled) and dropped. All names are relative.
"""

from __future__ import annotations

import queue
import threading
import time

from builtin_interfaces.msg import Time
from diagnostic_msgs.msg import DiagnosticArray, DiagnosticStatus, KeyValue
from rclpy.node import Node
from std_msgs.msg import String
from vla_ros import constants as C
from vla_ros.core.bundle import load_bundle
from vla_ros.core.convert import audio_chunk_to_array, stamp_to_ns
from vla_ros.core.language import IntentIdentifier, load_task_table, WordNet
from vla_ros.core.speech import (Heard, intent_meaning, lexicon_vocabulary, make_vad,
                                 SegmenterConfig, SpeechPipeline, SpeechRecognizer, to_mono_16k,
                                 Utterance)
from vla_ros.errors import ConfigError, ConversionError, InferenceError
from vla_ros.harness.locate import find_default_bundle
from vla_ros.qos import LATCHED_QOS, SENSOR_QOS
from vla_ros.ros.params import declare_node_parameters, warn_unknown_parameters
from vla_ros_msgs.msg import AudioChunk, SpeechStatus

STATUS_TOPIC = '~/status'
LOG_THROTTLE_S = 5.0
QUEUE_DEPTH = 4          # utterances waiting for the recognizer; older ones are dropped
NS = 1_000_000_000


def bundle_commands(path: str) -> list[str]:
    """Return the training commands of a bundle's competence check (ConfigError without one)."""
    bundle = load_bundle(path or find_default_bundle(), verify_hashes=False)
    comp = (bundle.manifest.text_encoder or {}).get('competence') or {}
    if not comp.get('commands'):
        raise ConfigError(f'bundle {bundle.path} lists no training commands '
                          '(text_encoder.competence); set the phrases parameter')
    return list(comp['commands'])


def _time(ns: int) -> Time:
    sec, nsec = divmod(max(0, int(ns)), NS)
    return Time(sec=sec, nanosec=nsec)


class SpeechCommand(Node):

    def __init__(self, **kwargs) -> None:
        super().__init__('speech_command', **kwargs)
        v = declare_node_parameters(self, 'speech_command')
        warn_unknown_parameters(self)
        if v['command_tasks']:   # the table widened by the lexicon the intent layer uses
            lexicon = WordNet(str(v['command_lexicon'])) if v['command_lexicon'] else None
            table = load_task_table(str(v['command_tasks']))
            vocab = lexicon_vocabulary(table, lexicon)
            # two decodes that read as the same task and colour agree (word evidence only)
            meaning = intent_meaning(IntentIdentifier(table, None, lexicon=lexicon,
                                                      lexical_weight=1.0))
            recognizer = SpeechRecognizer(str(v['recognizer']), vocabulary=vocab,
                                          meaning=meaning)
            described = (f'{len(vocab.templates)} templates, {len(vocab.vocabulary())} words '
                         f'from {v["command_tasks"]}')
        else:
            phrases = list(v['phrases']) or bundle_commands(str(v['bundle']))
            recognizer = SpeechRecognizer(str(v['recognizer']), phrases)
            described = f'{len(phrases)} phrasings'
        seg = SegmenterConfig(threshold=float(v['vad_threshold']), start_s=float(v['start_s']),
                              hangover_s=float(v['hangover_s']),
                              pre_roll_s=float(v['pre_roll_s']),
                              min_speech_s=float(v['min_speech_s']),
                              max_utterance_s=float(v['max_utterance_s']))
        self.pipeline = SpeechPipeline(make_vad(str(v['vad'])),
                                       recognizer,
                                       segmenter=seg, min_confidence=float(v['min_confidence']))
        self.recognizer_name = str(v['recognizer'])
        self.counts = {'chunks': 0, 'bad_messages': 0, 'utterances': 0, 'accepted': 0,
                       'refused': 0, 'dropped_utterances': 0, 'failed': 0}
        self.last_error = ''
        self.last_frame_id = 'microphone'
        # as every command source (vla-ros command, the e-stop): reliable + transient local
        self.command_pub = self.create_publisher(String, C.COMMAND_TOPIC, LATCHED_QOS)
        self.status_pub = self.create_publisher(SpeechStatus, STATUS_TOPIC, LATCHED_QOS)
        self.diag_pub = self.create_publisher(DiagnosticArray, C.DIAGNOSTICS_TOPIC, 10)
        self.create_subscription(AudioChunk, C.AUDIO_TOPIC, self._on_audio, SENSOR_QOS)
        self.create_timer(1.0 / float(v['diagnostics_rate_hz']), self._publish_diagnostics)
        # Recognition takes ~0.1-1 s per utterance: a worker thread keeps the audio callback
        # (VAD + segmentation, ~5 ms per second of audio) real-time.
        self._queue: queue.Queue[Utterance | None] = queue.Queue(QUEUE_DEPTH)
        self._worker = threading.Thread(target=self._recognize_loop, name='speech_recognizer',
                                        daemon=True)
        self._worker.start()
        self.get_logger().info(f'speech_command: {described}, recognizer '
                               f'{self.recognizer_name}, vad {v["vad"]}, min confidence '
                               f'{self.pipeline.min_confidence}')

    def _on_audio(self, msg: AudioChunk) -> None:
        try:
            samples, rate = audio_chunk_to_array(msg)
            mono = to_mono_16k(samples, rate)
            stamp = stamp_to_ns(msg.header.stamp)
        except ConversionError as e:
            self.counts['bad_messages'] += 1
            self.last_error = str(e)
            self.get_logger().warning(f'bad audio message dropped: {e}',
                                      throttle_duration_sec=LOG_THROTTLE_S)
            return
        self.counts['chunks'] += 1
        self.last_frame_id = msg.header.frame_id or self.last_frame_id
        for utt in self.pipeline.segmenter.push(mono, stamp):
            try:
                self._queue.put_nowait(utt)
            except queue.Full:
                self.counts['dropped_utterances'] += 1
                self.get_logger().warning('recognizer busy: utterance dropped',
                                          throttle_duration_sec=LOG_THROTTLE_S)

    def _recognize_loop(self) -> None:
        while True:
            utt = self._queue.get()
            if utt is None:
                return
            try:
                heard = self.pipeline.hear(utt)
            except InferenceError as e:
                self.counts['failed'] += 1
                self.get_logger().error(f'recognition failed: {e}',
                                        throttle_duration_sec=LOG_THROTTLE_S)
                continue
            self._publish(heard)

    def _publish(self, heard: Heard) -> None:
        self.counts['utterances'] += 1
        self.counts['accepted' if heard.accepted else 'refused'] += 1
        if heard.accepted:
            self.command_pub.publish(String(data=heard.text))
        st = SpeechStatus(text=heard.text, confidence=float(heard.confidence),
                          speech_start=_time(heard.start_ns), speech_end=_time(heard.end_ns),
                          accepted=heard.accepted, reason=heard.reason,
                          recognizer=self.recognizer_name,
                          recognize_ms=float(heard.recognize_ms))
        st.header.stamp = self.get_clock().now().to_msg()
        st.header.frame_id = self.last_frame_id
        self.status_pub.publish(st)
        self.get_logger().info(f'heard "{heard.text}" ({heard.confidence:.2f}): '
                               f'{"commanded" if heard.accepted else heard.reason}')

    def _publish_diagnostics(self) -> None:
        c = self.counts
        level = DiagnosticStatus.WARN if c['bad_messages'] or c['failed'] else DiagnosticStatus.OK
        msg = DiagnosticArray()
        msg.header.stamp = self.get_clock().now().to_msg()
        msg.status = [DiagnosticStatus(
            level=level, name=f"{self.get_fully_qualified_name().lstrip('/')}: speech",
            hardware_id=self.get_fully_qualified_name(),
            message=f"{c['accepted']} commands, {c['refused']} refused, "
                    f"{c['bad_messages']} bad audio messages",
            values=[KeyValue(key=k, value=str(n)) for k, n in c.items()]
            + [KeyValue(key='last_error', value=self.last_error)])]
        self.diag_pub.publish(msg)

    def destroy_node(self) -> None:
        try:
            self._queue.put(None, timeout=1.0)
        except queue.Full:
            pass
        t0 = time.monotonic()
        self._worker.join(timeout=5.0)
        if self._worker.is_alive():
            self.get_logger().warning(f'recognizer still busy after {time.monotonic() - t0:.1f} s')
        super().destroy_node()
