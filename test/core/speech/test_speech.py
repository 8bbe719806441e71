"""The speech core on real espeak-ng audio: Silero / WebRTC VAD, segmentation, pocketsphinx."""

from __future__ import annotations

import numpy as np
import pytest
from vla_ros.core.speech import (agreement, make_vad, SAMPLE_RATE_HZ, SegmenterConfig,
                                 SileroVad, SpeechPipeline, SpeechRecognizer, WebRtcVad,
                                 word_errors)
from vla_ros.errors import ConfigError, ConversionError
from vla_ros.sim.audio import MicConfig, MicrophoneSynth
from vla_ros.sim.task_suite import COLOURS, TRAIN_PHRASES

CHUNK = SAMPLE_RATE_HZ // 50        # 20 ms, as the sim publishes
NS = 1_000_000_000
T0_NS = 5 * NS                      # stamp of the first chunk


@pytest.fixture(scope='module')
def recognizer() -> SpeechRecognizer:
    return SpeechRecognizer('commands+grammar', [p.format(c=c) for ps in TRAIN_PHRASES.values()
                                                 for p in ps for c in COLOURS])


def stream(pipe: SpeechPipeline, *, say: str = '', seconds: float = 3.0, speed: float = 0.0,
           beep: bool = False, at_s: float = 0.5):
    """Feed the sim microphone (noise, optional speech / hum / beep) through ``pipe``."""
    syn = MicrophoneSynth(MicConfig(), seed=3)
    heard = []
    for i in range(int(seconds * 50)):
        if i == int(at_s * 50):
            if say:
                syn.say(say)
            if beep:
                syn.beep()
        heard += pipe.push(syn.synthesize(CHUNK, speed, 0.0), T0_NS + i * CHUNK * NS // 16000)
    return heard + pipe.flush()


def test_spoken_training_command_is_recognized_with_its_span(recognizer):
    pipe = SpeechPipeline(make_vad('silero'), recognizer)
    heard = stream(pipe, say='push the green block to the left', seconds=4.0)
    assert len(heard) == 1
    h = heard[0]
    assert h.accepted and h.text == 'push the green block to the left'
    assert h.confidence >= pipe.min_confidence
    # speech starts at 0.5 s (espeak adds a few tens of ms of silence) and lasts > 1 s
    assert T0_NS + 0.4 * NS <= h.start_ns <= T0_NS + 0.7 * NS
    assert h.end_ns - h.start_ns > NS


def test_noise_hum_and_beep_command_nothing(recognizer):
    pipe = SpeechPipeline(make_vad('silero'), recognizer)
    assert stream(pipe, seconds=2.0, speed=0.8, beep=True) == []


def test_other_speech_is_refused_not_commanded(recognizer):
    pipe = SpeechPipeline(make_vad('silero'), recognizer)
    heard = stream(pipe, say='what a lovely day it is today')
    assert heard and not any(h.accepted for h in heard)
    assert all(h.reason for h in heard)


def test_webrtc_vad_fires_on_motor_hum_silero_does_not():
    """Why Silero is the default: the arm's hum is 'speech' to the WebRTC detector."""
    hum = MicrophoneSynth(MicConfig(), seed=1).synthesize(SAMPLE_RATE_HZ, 0.8, 0.0)
    for vad, expect in ((SileroVad(), 0.0), (WebRtcVad(), 1.0)):
        n = vad.frame_samples
        frames = hum[:len(hum) // n * n].reshape(-1, n)
        share = np.mean([vad.speech_prob(f) >= 0.5 for f in frames])
        assert share == pytest.approx(expect, abs=0.1), type(vad).__name__


def test_bad_input_is_a_clear_error():
    with pytest.raises(ConversionError, match='512'):
        SileroVad().speech_prob(np.zeros(100, np.float32))
    with pytest.raises(ConfigError, match='vad must be one of'):
        make_vad('nope')
    with pytest.raises(ConfigError, match='not in the pocketsphinx dictionary'):
        SpeechRecognizer('grammar', ['pick up the zzyzxq cube'])
    with pytest.raises(ConfigError, match='must exceed'):
        SegmenterConfig(max_utterance_s=0.1, min_speech_s=0.2)


def test_word_errors_and_agreement():
    assert word_errors('pick up the red cube', 'pick the red cube up') == (2, 5)
    assert word_errors('lift the cube', 'lift the cube') == (0, 3)
    assert agreement('lift the blue cube', 'lift the blue block') == pytest.approx(0.75)
    assert agreement('', 'lift') == 0.0


def test_segmenter_splits_at_the_hangover_and_drops_short_sounds():
    """Two commands 1.2 s apart are two utterances; a 0.25 s beep is none (min_speech_s)."""
    from vla_ros.core.speech import UtteranceSegmenter
    from vla_ros.sim.audio import speak, tone

    cfg = SegmenterConfig()
    gap = np.zeros(int(1.2 * SAMPLE_RATE_HZ), np.float32)
    say = 0.6 * speak('touch the blue cube', SAMPLE_RATE_HZ)
    beep = tone(1000.0, 0.25, SAMPLE_RATE_HZ, 0.4)
    audio = np.concatenate([gap, say, gap, say, gap, beep, gap])
    audio += np.random.default_rng(0).normal(0, 0.004, len(audio)).astype(np.float32)
    seg = UtteranceSegmenter(SileroVad(), cfg)
    utts = [u for i in range(0, len(audio), CHUNK)
            for u in seg.push(audio[i:i + CHUNK], T0_NS + i * NS // SAMPLE_RATE_HZ)]
    assert len(utts) == 2
    first = T0_NS + 1.2 * NS
    assert abs(utts[0].start_ns - first) < 0.15 * NS
    assert utts[1].start_ns - utts[0].start_ns == pytest.approx(
        (len(say) + len(gap)) / SAMPLE_RATE_HZ * NS, abs=0.1 * NS)
    assert all(not u.cut and u.speech_s > cfg.min_speech_s for u in utts)
