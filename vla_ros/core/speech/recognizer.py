"""
Offline speech recognition with pocketsphinx and the English model its wheel ships (ROS-free).

Set-ups (:class:`RecognizerKind`), all on pocketsphinx's en-us acoustic model:

- ``general``: its general English trigram LM (``en-us.lm.bin``, ~130 k words).
- ``commands``: a trigram LM built at start-up from the robot's command phrasings (the
  bundle's training commands) with a dictionary of just their words: any order of those words
  decodes, nothing else does.
- ``grammar``: a JSGF grammar of exactly those phrasings.
- ``commands+grammar`` (default): both; the text is the ``commands`` hypothesis and the
  confidence the word agreement of the two (1 - word error rate between them, 0 when either
  heard nothing). A command the robot knows decodes the same way under both constraints;
  noise, other speech and unknown words come out as different word salads.

With a :class:`~vla_ros.core.speech.vocabulary.CommandVocabulary` (the phrasings widened by
the intent lexicon) instead of phrases, the LM is trained on its sentences and the grammar is
its templates with their slots and polite frames. Given ``meaning`` (text -> what it asks,
e.g. (task, colour) from the intent identifier; None = nothing it knows), ``commands+grammar``
also counts two decodes that read as the same command as agreeing: the confidence is 1 when
both hypotheses mean the same known command, else their word agreement ("the vermilion cube
please lift it" and "lift the vermilion cube" differ in words, not in what they ask).

The single-search set-ups report pocketsphinx's posterior probability of the best path as
their confidence (``Decoder.get_prob``). Input: float32 [n] mono 16 kHz in [-1, 1].
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Sequence
from dataclasses import dataclass
from enum import Enum
import io
from pathlib import Path
import re
import tempfile
import time

import numpy as np
import pocketsphinx
from pocketsphinx.lm import ArpaBoLM
from vla_ros.core.speech.vocabulary import CommandVocabulary, DICT_FILE, GRAMMAR_NAME
from vla_ros.errors import ConfigError, InferenceError

LOG_LEVEL = 'FATAL'                      # pocketsphinx logs every utterance otherwise


class RecognizerKind(str, Enum):
    GENERAL = 'general'
    COMMANDS = 'commands'
    GRAMMAR = 'grammar'
    COMMANDS_GRAMMAR = 'commands+grammar'


@dataclass(frozen=True)
class Recognition:
    """What was heard: lower-case words ('' = nothing), confidence in [0, 1], times [ms]."""

    text: str
    confidence: float
    recognize_ms: float      # wall time
    cpu_ms: float = 0.0      # CPU time of the recognizing thread (wall minus waiting for a core)


def words(text: str) -> list[str]:
    """Return the lower-case words of ``text`` (letters and apostrophes)."""
    return re.findall(r"[a-z']+", text.lower())


def word_errors(reference: str, hypothesis: str) -> tuple[int, int]:
    """(substitutions + insertions + deletions, reference words): the WER numerator/denominator."""
    ref, hyp = words(reference), words(hypothesis)
    row = list(range(len(hyp) + 1))
    for i, r in enumerate(ref, 1):
        prev, row[0] = row[0], i
        for j, h in enumerate(hyp, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (r != h))
    return row[-1], len(ref)


def agreement(a: str, b: str) -> float:
    """1 - word edit distance / longer length, in [0, 1]; 0 when either is empty."""
    if not words(a) or not words(b):
        return 0.0
    edits, _ = word_errors(a, b)
    return max(0.0, 1.0 - edits / max(len(words(a)), len(words(b))))


def pronunciations(vocabulary: Sequence[str]) -> str:
    """Return the wheel's CMU dictionary lines of ``vocabulary`` (ConfigError if missing)."""
    want = set(vocabulary)
    lines = []
    path = Path(pocketsphinx.get_model_path(DICT_FILE))
    with path.open(encoding='utf-8') as f:
        for line in f:
            head = line.split(' ', 1)[0]
            if head.split('(', 1)[0] in want:
                lines.append(line.rstrip('\n'))
    missing = want - {ln.split(' ', 1)[0].split('(', 1)[0] for ln in lines}
    if missing:
        raise ConfigError(f'command words not in the pocketsphinx dictionary: {sorted(missing)}')
    return '\n'.join(lines) + '\n'


def _sentences(phrases: Sequence[str]) -> list[str]:
    out = sorted({' '.join(words(p)) for p in phrases} - {''})
    if not out:
        raise ConfigError('the recognizer needs at least one command phrasing')
    return out


def _arpa(sentences: list[str]) -> str:
    lm = ArpaBoLM(add_start=True, text='\n'.join(sentences))
    lm.compute()
    buf = io.StringIO()
    lm.write(buf)
    return buf.getvalue()


def _jsgf(sentences: list[str]) -> str:
    alts = ' | '.join(f'( {s} )' for s in sentences)
    return f'#JSGF V1.0;\ngrammar {GRAMMAR_NAME};\npublic <command> = {alts};\n'


class SpeechRecognizer:
    """One or two pocketsphinx decoders for one set-up; :meth:`recognize` one utterance."""

    def __init__(self, kind: RecognizerKind | str = RecognizerKind.COMMANDS_GRAMMAR,
                 phrases: Sequence[str] = (), *,
                 vocabulary: CommandVocabulary | None = None,
                 meaning: Callable[[str], Hashable | None] | None = None) -> None:
        self.meaning = meaning
        try:
            self.kind = RecognizerKind(kind)
        except ValueError as e:
            raise ConfigError(f'recognizer must be one of {[k.value for k in RecognizerKind]}, '
                              f'got {kind!r}') from e
        self._decoders: list[pocketsphinx.Decoder] = []
        try:
            if self.kind is RecognizerKind.GENERAL:
                self._decoders.append(pocketsphinx.Decoder(loglevel=LOG_LEVEL))
            elif vocabulary is not None:
                self._decoders += self._command_decoders(
                    vocabulary.sentences(), sorted(vocabulary.vocabulary()), vocabulary.jsgf())
            else:
                sentences = _sentences(phrases)
                self._decoders += self._command_decoders(
                    sentences, sorted({w for s in sentences for w in s.split()}),
                    _jsgf(sentences))
        except (RuntimeError, ValueError) as e:
            raise ConfigError(f'pocketsphinx failed to start ({self.kind.value}): {e}') from e

    def _command_decoders(self, sentences: list[str], vocab: list[str],
                          grammar: str) -> list[pocketsphinx.Decoder]:
        out = []
        with tempfile.TemporaryDirectory(prefix='vla_speech_') as tmp:
            dic = Path(tmp) / 'commands.dict'
            dic.write_text(pronunciations(vocab))
            if self.kind in (RecognizerKind.COMMANDS, RecognizerKind.COMMANDS_GRAMMAR):
                lm = Path(tmp) / 'commands.arpa'
                lm.write_text(_arpa(sentences))
                out.append(pocketsphinx.Decoder(lm=str(lm), dict=str(dic), loglevel=LOG_LEVEL))
            if self.kind in (RecognizerKind.GRAMMAR, RecognizerKind.COMMANDS_GRAMMAR):
                d = pocketsphinx.Decoder(lm=None, dict=str(dic), loglevel=LOG_LEVEL)
                d.add_jsgf_string(GRAMMAR_NAME, grammar)
                d.activate_search(GRAMMAR_NAME)
                out.append(d)
        return out

    def recognize(self, samples: np.ndarray) -> Recognition:
        """Decode one utterance: float32 [n] mono 16 kHz audio in [-1, 1]."""
        x = np.asarray(samples, np.float32).reshape(-1)
        if not len(x) or not np.all(np.isfinite(x)):
            raise InferenceError(f'recognizer input must be finite, non-empty audio, got '
                                 f'{len(x)} samples')
        pcm = (np.clip(x, -1.0, 1.0) * 32767).astype('<i2').tobytes()
        t0, c0 = time.monotonic(), time.thread_time()
        hyps = []
        # the posterior (a lattice pass: seconds on a noisy utterance) only where it is the
        # confidence; commands+grammar's is the agreement of the two hypotheses
        posterior = self.kind is not RecognizerKind.COMMANDS_GRAMMAR
        for d in self._decoders:
            d.start_utt()
            d.process_raw(pcm, full_utt=True)
            d.end_utt()
            h = d.hyp()
            hyps.append(((h.hypstr if h is not None else '').strip(),
                         float(d.get_prob()) if posterior else 0.0))
        ms, cpu = (time.monotonic() - t0) * 1e3, (time.thread_time() - c0) * 1e3
        text = ' '.join(words(hyps[0][0]))
        if self.kind is RecognizerKind.COMMANDS_GRAMMAR:
            conf = agreement(hyps[0][0], hyps[1][0])
            if conf < 1.0 and self.meaning is not None and text:
                m = self.meaning(text)
                if m is not None and m == self.meaning(' '.join(words(hyps[1][0]))):
                    conf = 1.0
            return Recognition(text, conf, ms, cpu)
        return Recognition(text, float(np.clip(hyps[0][1], 0.0, 1.0)) if text else 0.0, ms,
                           cpu)
