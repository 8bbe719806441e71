"""The parameters of ``speech_command`` (spoken commands from the microphone)."""

from __future__ import annotations

from vla_ros.params.spec import as_mapping, ParamSpec, ParamType, spec

B, D, S = ParamType.BOOL, ParamType.DOUBLE, ParamType.STRING
SA = ParamType.STRING_ARRAY
VADS = ('silero', 'webrtc')                     # vla_ros.core.speech.VadKind
RECOGNIZERS = ('commands+grammar', 'commands', 'grammar', 'general')  # RecognizerKind

_TABLE = (
    spec('bundle', S, '', "policy bundle whose training commands are the recognizer's "
         "vocabulary ('' = the default bundle)"),
    spec('phrases', SA, [], "command phrasings to recognize instead of the bundle's training "
         "commands (empty = the bundle's)"),
    spec('command_tasks', S, '', "task table (YAML, as vla_policy command_tasks; the sim's "
         'is config/command_tasks.yaml): the vocabulary is its phrasings widened by '
         'command_lexicon (synonyms the intent layer maps back, polite frames, object first) '
         "instead of the bundle's training commands ('' = bundle / phrases)"),
    spec('command_lexicon', S, '/usr/share/wordnet', 'with command_tasks: WordNet 3.0 '
         "database directory (Debian wordnet-base) that widens the vocabulary ('' = the "
         "table's words only)"),
    spec('recognizer', S, 'commands+grammar', 'pocketsphinx set-up: commands+grammar (the '
         'command LM; confidence = agreement with the exact-phrasing grammar; with '
         'command_tasks also 1 when both read as the same task and colour), commands, '
         'grammar, general (en-us LM)', choices=RECOGNIZERS),
    spec('vad', S, 'silero', 'voice activity detector: silero (ONNX, onnxruntime) or webrtc '
         '(pocketsphinx; fires on motor hum)', choices=VADS),
    spec('min_confidence', D, 0.75, 'recognitions below this confidence are reported on '
         '~/status and not commanded', range=(0.0, 1.0)),
    spec('vad_threshold', D, 0.5, 'P(speech) at or above which a VAD frame is speech',
         range=(0.01, 0.99)),
    spec('start_s', D, 0.09, 'speech this long in a row starts an utterance [s]',
         range=(0.0, 2.0)),
    spec('hangover_s', D, 0.45, 'non-speech this long ends an utterance [s]',
         range=(0.05, 5.0)),
    spec('pre_roll_s', D, 0.2, 'audio kept before the utterance start [s]', range=(0.0, 2.0)),
    spec('min_speech_s', D, 0.35, 'shorter utterances are dropped (clicks, beeps) [s]',
         range=(0.0, 5.0)),
    spec('max_utterance_s', D, 8.0, 'longer utterances are cut and recognized [s]',
         range=(1.0, 60.0)),
    spec('diagnostics_rate_hz', D, 1.0, '/diagnostics publish rate [Hz]',
         range=(0.01, 100.0)),
)
SPEECH_COMMAND_PARAMETERS: dict[str, ParamSpec] = as_mapping(_TABLE)
