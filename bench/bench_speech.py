"""
``BENCH speech``: spoken commands through the microphone -> VAD -> recognizer -> policy.

Commands are spoken by espeak-ng in two voices (the sim microphone's ``en`` at 160 wpm, and
``en-us+f3`` at 190 wpm), mixed with the sim microphone's ambient noise
(:class:`~vla_ros.sim.audio.MicrophoneSynth`, default level) and cut into 20 ms chunks as
``mujoco_sim`` publishes them: every training phrasing of the task suite and a fixed sample of
the held-out-words commands (:mod:`vla_ros.sim.language`), each with a colour drawn per
phrasing; plus non-commands (other sentences; noise; motor hum; a beep) that must not command.

Compared, on the same audio: two VADs (Silero's ONNX through onnxruntime, pocketsphinx's
WebRTC VAD) by utterances found / false triggers / cost, and recognizer set-ups
(:class:`~vla_ros.core.speech.RecognizerKind`; ``@lexicon``: the vocabulary of the task table
widened by the intent lexicon, :mod:`vla_ros.core.speech.vocabulary`; without: the training
phrasings) on the chosen VAD's utterances by word error rate, command accuracy and time.
What was heard is judged by the intent identifier ``vla_policy`` runs with ``command_tasks``
(config/command_tasks.yaml, WordNet, the bundle's encoder), as in ``bench eval``.

- ``word_error_rate``: of the chosen set-up over all command utterances (training + held-out);
- ``command_accuracy``: share of command utterances accepted (confidence >= threshold) whose
  text the intent identifier maps to the intended task and colour (``accuracy_training`` /
  ``accuracy_held_out`` per group); ``typed_accuracy``: the same on the typed texts;
  ``false_accepts`` / ``false_commands``: non-commands accepted by the recognizer / then
  identified as a task;
- ``asr_ms_p50``: recognition time per utterance on this CPU (median, wall); ``asr_cpu_ms_p50``
  the CPU time of it (the same on a loaded machine, where wall time includes the wait for a
  core);
- ``speech_success_ratio``: ``--episodes`` seeds per task kind, each with its training
  phrasing and a held-out-words command (:func:`vla_ros.sim.language.held_out_word_task`),
  each spoken (the two commands of a seed in different voices) and typed, in the lockstep
  rollout (vla_ros.eval.sim_rollout, the node's decisions without DDS; ``command_tasks`` +
  ``canonical`` as ``bench eval``): nothing heard or refused = no command, a failed episode.
  Success spoken / success typed on the same seeds, with Wilson 95 % intervals of both rates
  and of ``kept`` (typed successes that stayed successes spoken), per group and per voice.

Per-utterance results go to ``out/bench/speech_<time>.json``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import os
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))
import _smoke as S  # noqa: E402, I100
import numpy as np  # noqa: E402, I100
from vla_ros.core.speech import (DEFAULT_MIN_CONFIDENCE, intent_meaning,  # noqa: E402
                                 lexicon_vocabulary, make_vad, RecognizerKind, SAMPLE_RATE_HZ,
                                 SegmenterConfig, SpeechPipeline, SpeechRecognizer, Utterance,
                                 UtteranceSegmenter, VadKind, word_errors)
from vla_ros.sim.audio import MicConfig, MicrophoneSynth, speak  # noqa: E402

VOICES = (('en', 160), ('en-us+f3', 190))   # (espeak voice, words per minute)
CHOSEN_VAD, CHOSEN_RECOGNIZER = VadKind.SILERO, RecognizerKind.COMMANDS_GRAMMAR
CHOSEN_SETUP = f'{CHOSEN_RECOGNIZER.value}@lexicon'
CHUNK = SAMPLE_RATE_HZ // 50                 # 20 ms chunks, as the sim publishes audio
LEAD_S, TAIL_S = 0.8, 1.2                    # quiet before / after each command [s]
NON_COMMANDS = ('what a lovely day it is today', 'the meeting starts at nine',
                'turn on the radio')
HELD_OUT_SAMPLE = S.pick(24, 1)              # held-out-words commands (of ~250)
BENCH_OFFSET = 14_000                        # index into the test block reserved for it
NS = 1_000_000_000
LEXICON = 'lexicon'   # set-up suffix: the vocabulary widened by the lexicon
TASKS_FILE = ROOT / 'config' / 'command_tasks.yaml'
LEXICON_DIR = pathlib.Path('/usr/share/wordnet')   # Debian wordnet-base


@dataclasses.dataclass
class Sample:
    text: str           # what was spoken ('' for noise-only streams)
    kind: str           # task kind, or 'none' for non-commands
    colour: str
    group: str          # 'training', 'held_out', 'non_command', 'non_speech'
    voice: str
    chunks: list = dataclasses.field(repr=False, default_factory=list)
    span_s: tuple = (0.0, 0.0)


def mic_stream(text: str, voice: tuple[str, int], seed: int, *, speed: float = 0.0,
               beep: bool = False) -> tuple[list[np.ndarray], tuple[float, float]]:
    """20 ms chunks of the sim microphone with ``text`` spoken after LEAD_S; speech span [s]."""
    syn = MicrophoneSynth(MicConfig(), seed=seed)
    speech = (syn.config.speech_gain * speak(text, SAMPLE_RATE_HZ, voice=voice[0],
                                             words_per_minute=voice[1])
              if text else np.zeros(0, np.float32))
    n = int((LEAD_S + TAIL_S) * SAMPLE_RATE_HZ) + len(speech)
    chunks = []
    for i in range(n // CHUNK):
        if i == int(LEAD_S * SAMPLE_RATE_HZ) // CHUNK:
            if len(speech):
                syn.play(speech)
            if beep:
                syn.beep()
        chunks.append(syn.synthesize(CHUNK, speed, 0.0))
    return chunks, (LEAD_S, LEAD_S + len(speech) / SAMPLE_RATE_HZ)


def build_samples() -> list[Sample]:
    """Return the command utterances (two voices) and the non-commands, with their audio."""
    from vla_ros.sim.language import held_out_word_commands
    from vla_ros.sim.task_suite import COLOURS, TRAIN_PHRASES
    rng = np.random.default_rng(0)
    cmds = [(p.format(c=COLOURS[int(rng.integers(3))]), k.value) for k, ps in
            TRAIN_PHRASES.items() for p in ps]
    held = [(t, k.value, c) for k in TRAIN_PHRASES for c in ('red', 'green', 'blue')
            for t, _ in held_out_word_commands(k, c)]
    picks = rng.choice(len(held), HELD_OUT_SAMPLE, replace=False)
    if S.SMOKE:
        cmds = cmds[:1]
    items = [(t, k, next(c for c in COLOURS if c in t), 'training') for t, k in cmds]
    items += [(held[i][0], held[i][1], held[i][2], 'held_out') for i in sorted(picks)]
    out = []
    for j, (text, kind, colour, group) in enumerate(items):
        for v, voice in enumerate(VOICES):
            chunks, span = mic_stream(text, voice, seed=2 * j + v)
            out.append(Sample(text, kind, colour, group, voice[0], chunks, span))
    for j, text in enumerate(NON_COMMANDS[:S.pick(3, 1)]):
        chunks, span = mic_stream(text, VOICES[j % 2], seed=1000 + j)
        out.append(Sample(text, 'none', '', 'non_command', VOICES[j % 2][0], chunks, span))
    for name, speed, beep in (('noise', 0.0, False), ('hum', 0.8, False),
                              ('beep', 0.0, True)):
        chunks, _ = mic_stream('', VOICES[0], seed=2000, speed=speed, beep=beep)
        out.append(Sample('', name, '', 'non_speech', '', chunks, (0.0, 0.0)))
    return out


def segment(samples: list[Sample], vad: VadKind) -> tuple[list[list[Utterance]], float]:
    """Utterances per sample with ``vad``; VAD + segmentation cost [ms per s of audio]."""
    seg = UtteranceSegmenter(make_vad(vad), SegmenterConfig())
    out, t_audio, t_cpu = [], 0.0, 0.0
    for s in samples:
        seg.reset()
        t0 = time.process_time()
        utts = [u for i, c in enumerate(s.chunks) for u in seg.push(c, i * CHUNK * NS
                                                                    // SAMPLE_RATE_HZ)]
        last = seg.flush()
        t_cpu += time.process_time() - t0
        t_audio += len(s.chunks) * CHUNK / SAMPLE_RATE_HZ
        out.append(utts + ([last] if last else []))
    return out, 1e3 * t_cpu / t_audio


def vad_row(samples: list[Sample], utts: list[list[Utterance]], ms_per_s: float) -> dict:
    """Utterances found (exactly one, overlapping the speech), false triggers, span errors."""
    speech = [(s, u) for s, u in zip(samples, utts) if s.group != 'non_speech']
    found = [(s, u[0]) for s, u in speech if len(u) == 1
             and u[0].start_ns / NS < s.span_s[1] and u[0].end_ns / NS > s.span_s[0]]
    start_err = [abs(u.start_ns / NS - s.span_s[0]) * 1e3 for s, u in found]
    return {'found_ratio': round(len(found) / max(1, len(speech)), 3),
            'split_or_missed': len(speech) - len(found),
            'false_triggers': sum(len(u) for s, u in zip(samples, utts)
                                  if s.group == 'non_speech'),
            'start_err_ms_p50': round(float(np.median(start_err)), 1) if start_err else None,
            'ms_per_s_audio': round(ms_per_s, 2)}


def open_sim_intent(runtime):
    """Return the intent identifier ``vla_policy`` runs with the sim's ``command_tasks``."""
    from vla_ros.core.language.command_tasks import open_intent
    from vla_ros.core.language.intent import DEFAULT_MARGIN, DEFAULT_MIN_SCORE
    return open_intent(str(TASKS_FILE), encoder=runtime.text_encoder,
                       competence=runtime.competence, lexicon_dir=str(LEXICON_DIR),
                       min_score=DEFAULT_MIN_SCORE, margin=DEFAULT_MARGIN)


def identify(intent, text: str) -> tuple[str, str] | None:
    """(task, colour) the intent identifier reads from ``text``; None when it refuses."""
    if not text:
        return None
    v = intent.identify(text)
    return (v.task, v.colour) if v.understood else None


def make_recognizer(kind: RecognizerKind, *, lexicon: bool,
                    meaning: bool = True) -> SpeechRecognizer:
    """Return the recognizer on the training phrasings, or (``lexicon``) the lexicon's."""
    from vla_ros.core.language import IntentIdentifier, load_task_table, WordNet
    from vla_ros.sim.task_suite import COLOURS, TRAIN_PHRASES
    if lexicon:   # as speech_command with command_tasks + command_lexicon
        table, wordnet = load_task_table(TASKS_FILE), WordNet(LEXICON_DIR)
        same = intent_meaning(IntentIdentifier(table, None, lexicon=wordnet,
                                               lexical_weight=1.0)) if meaning else None
        return SpeechRecognizer(kind, vocabulary=lexicon_vocabulary(table, wordnet),
                                meaning=same)
    return SpeechRecognizer(kind, [p.format(c=c) for ps in TRAIN_PHRASES.values()
                                   for p in ps for c in COLOURS])


def recognizer_row(setup: str, samples: list[Sample], utts: list[list[Utterance]],
                   intent, min_conf: float) -> tuple[dict, list[dict]]:
    """WER, command accuracy, false accepts and time of one set-up on the same utterances."""
    kind, _, vocab = setup.partition('@')
    rec = make_recognizer(RecognizerKind(kind), lexicon=vocab == LEXICON)
    rows, ms, cpu = [], [], []
    for s, us in zip(samples, utts):
        heard = [rec.recognize(u.samples) for u in us]
        ms += [h.recognize_ms for h in heard]
        cpu += [h.cpu_ms for h in heard]
        text = ' '.join(h.text for h in heard if h.text)
        conf = min((h.confidence for h in heard), default=0.0)
        accepted = bool(text) and conf >= min_conf and len(heard) == 1
        rows.append({'text': s.text, 'group': s.group, 'kind': s.kind, 'voice': s.voice,
                     'heard': text, 'confidence': round(conf, 3), 'accepted': accepted,
                     'heard_as': identify(intent, text),
                     'maps_ok': s.kind != 'none' and len(heard) == 1
                     and identify(intent, text) == (s.kind, s.colour)})
        rows[-1]['task_ok'] = accepted and rows[-1]['maps_ok']
    cmd = [r for r in rows if r['group'] in ('training', 'held_out')]
    out = {'recognizer': setup, 'asr_ms_p50': round(float(np.median(ms)), 1) if ms else None,
           'asr_cpu_ms_p50': round(float(np.median(cpu)), 1) if cpu else None}
    for g in ('training', 'held_out'):
        rs = [r for r in cmd if r['group'] == g]
        e = [word_errors(r['text'], r['heard']) for r in rs]
        out[f'wer_{g}'] = round(sum(a for a, _ in e) / max(1, sum(b for _, b in e)), 3)
        out[f'accuracy_{g}'] = round(sum(r['task_ok'] for r in rs) / max(1, len(rs)), 3)
    e = [word_errors(r['text'], r['heard']) for r in cmd]
    out['word_error_rate'] = round(sum(a for a, _ in e) / max(1, sum(b for _, b in e)), 3)
    out['command_accuracy'] = round(sum(r['task_ok'] for r in cmd) / max(1, len(cmd)), 3)
    # the same without the confidence threshold: what the words alone would have commanded
    out['accuracy_any_confidence'] = round(sum(r['maps_ok'] for r in cmd) / max(1, len(cmd)), 3)
    out['accepted_ratio'] = round(sum(r['accepted'] for r in cmd) / max(1, len(cmd)), 3)
    # non-commands accepted by the recognizer, and those the policy would then run
    out['false_accepts'] = sum(r['accepted'] for r in rows
                               if r['group'] in ('non_command', 'non_speech'))
    out['false_commands'] = sum(r['accepted'] and r['heard_as'] is not None for r in rows
                                if r['group'] in ('non_command', 'non_speech'))
    out['wrong_task'] = sum(r['accepted'] and r['heard_as'] is not None and not r['maps_ok']
                            for r in cmd)
    return out, rows


def closed_loop(runtime, intent, episodes: int, min_conf: float) -> list[dict]:
    """
    Per seed: the training phrasing and a held-out-words command, spoken and typed.

    ``episodes`` seeds per task kind; the two commands of a seed are spoken in different
    voices (alternating by seed). vla_policy runs with ``command_tasks`` + ``canonical`` (as
    ``bench eval``): an episode's outcome depends on the seed and on what the identifier reads
    from the command, so one rollout per (seed, identified task) is played and shared by the
    episodes that read the same; a command nothing or a refusal came of fails without one.
    """
    from vla_ros.eval.sim_rollout import lockstep_world, rollout
    from vla_ros.sim.language import held_out_word_task
    from vla_ros.sim.task_suite import episode_seed, make_task
    from vla_ros.eval.kinds import kinds_of
    if episodes <= 0:
        return []
    world, rates = lockstep_world(runtime)
    rec = make_recognizer(CHOSEN_RECOGNIZER, lexicon=True)
    overrides = {'command_tasks': str(TASKS_FILE), 'command_instruction': 'canonical'}
    kinds = kinds_of(runtime.manifest.provenance)
    played: dict[tuple, dict] = {}

    def outcome(task, seed: int, text: str) -> tuple[bool, str]:
        got = identify(intent, text)
        if got is None:
            return False, 'refused' if text else 'nothing heard'
        key = (seed, got)
        if key not in played:
            t = dataclasses.replace(task, command=text)
            if S.SMOKE:
                t = dataclasses.replace(t, timeout_s=1.0)
            played[key] = {'success': bool(rollout(world, runtime, t, seed, rates=rates,
                                                   policy_overrides=overrides).success),
                           'command': text}
        return played[key]['success'], f'{got[0]} {got[1]}'

    rows = []
    for i in range(episodes):
        for j, kind in enumerate(kinds[:S.pick(len(kinds), 1)]):
            seed = episode_seed('test', BENCH_OFFSET, i, kind)
            for g, task in enumerate((make_task(kind, seed), held_out_word_task(kind, seed))):
                voice = VOICES[(i + j + g) % 2]
                pipe = SpeechPipeline(make_vad(CHOSEN_VAD), rec, min_confidence=min_conf)
                chunks, _ = mic_stream(task.command, voice, seed=seed + g)
                heard = [h for k, c in enumerate(chunks)
                         for h in pipe.push(c, k * CHUNK * NS // SAMPLE_RATE_HZ)] + pipe.flush()
                said = [h for h in heard if h.accepted]
                typed, typed_as = outcome(task, seed, task.command)
                spoken, spoken_as = outcome(task, seed, said[0].text if said else '')
                rows.append({'seed': seed, 'kind': kind, 'colour': task.colour,
                             'group': 'held_out' if g else 'training',
                             'variant': task.variant or 'training', 'voice': voice[0],
                             'command': task.command,
                             'heard': ' | '.join(h.text for h in heard),
                             'confidence': [round(h.confidence, 3) for h in heard],
                             'accepted': said[0].text if said else '',
                             'typed_as': typed_as, 'spoken_as': spoken_as,
                             'typed': typed, 'spoken': spoken})
    return rows


def loop_summary(rows: list[dict]) -> dict:
    """Success spoken / typed with Wilson 95 % intervals, overall and per group and voice."""
    from vla_ros.eval.stats import wilson_interval

    def part(rs: list[dict]) -> dict:
        n, sp, ty = len(rs), sum(r['spoken'] for r in rs), sum(r['typed'] for r in rs)
        kept = sum(r['spoken'] and r['typed'] for r in rs)
        return {'n': n, 'spoken': sp, 'typed': ty,
                'spoken_ci': [round(x, 3) for x in wilson_interval(sp, n)],
                'typed_ci': [round(x, 3) for x in wilson_interval(ty, n)],
                'ratio': round(sp / ty, 3) if ty else None,
                # paired: typed successes that stayed successes when spoken
                'kept_ci': [round(x, 3) for x in wilson_interval(kept, ty)]}
    out = {'all': part(rows)}
    for key in ('group', 'voice'):
        for v in sorted({r[key] for r in rows}):
            out[f'{key}={v}'] = part([r for r in rows if r[key] == v])
    return out


def main() -> int:
    """Run the comparison and the closed loop; print the summary line."""
    p = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    p.add_argument('--bundle', default=str(ROOT / 'models' / 'default'))
    p.add_argument('--episodes', type=int, default=S.pick(5, 1),
                   help='seeds per task kind for speech_success_ratio; each seed plays its '
                        'training phrasing and a held-out-words command, spoken (one voice '
                        'each) and typed (5: 60 spoken episodes, 30 per voice)')
    p.add_argument('--min-confidence', type=float, default=DEFAULT_MIN_CONFIDENCE)
    p.add_argument('--recognizers', default=S.pick(
        f'{CHOSEN_SETUP},commands+grammar', CHOSEN_SETUP),
        help='set-ups to compare: a RecognizerKind, @lexicon = the vocabulary widened by '
             'the intent lexicon (general is slow: ~1 s per utterance)')
    args = p.parse_args()
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime
    runtime = PolicyRuntime.from_bundle(args.bundle)
    intent = open_sim_intent(runtime)
    load0 = os.getloadavg()[0]
    samples = build_samples()
    vads, utts = {}, {}
    for v in VadKind:
        utts[v], ms = segment(samples, v)
        vads[v.value] = vad_row(samples, utts[v], ms)
    recs, rows = {}, {}
    for name in args.recognizers.split(','):
        recs[name], rows[name] = recognizer_row(name, samples, utts[CHOSEN_VAD], intent,
                                                args.min_confidence)
    typed = [s for s in samples if s.group in ('training', 'held_out')]
    typed_acc = sum(identify(intent, s.text) == (s.kind, s.colour) for s in typed) / len(typed)
    t0 = time.monotonic()
    episodes = closed_loop(runtime, intent, args.episodes, args.min_confidence)
    loop_s = time.monotonic() - t0
    summary = loop_summary(episodes) if episodes else {}
    load = max(load0, os.getloadavg()[0])
    for name, row in vads.items():
        print(f'vad {name:8s} ' + ' '.join(f'{k}={v}' for k, v in row.items()))
    for name, row in recs.items():
        print(f'asr {name:26s} ' + ' '.join(f'{k}={v}' for k, v in row.items()
                                            if k != 'recognizer'))
    for name, row in summary.items():
        print(f'loop {name:16s} ' + ' '.join(f'{k}={v}' for k, v in row.items()))
    best = recs.get(CHOSEN_SETUP) or next(iter(recs.values()))
    out = S.out_dir(ROOT / 'out' / 'bench')
    out.mkdir(parents=True, exist_ok=True)
    path = out / f'speech_{time.strftime("%Y%m%d_%H%M%S")}.json'
    path.write_text(json.dumps({'vad': vads, 'recognizers': recs, 'utterances': rows,
                                'typed_accuracy': typed_acc, 'episodes': episodes,
                                'loop': summary, 'load': load, 'loop_s': loop_s,
                                'min_confidence': args.min_confidence}, indent=1))
    a = summary.get('all', {})
    ssr = 'nan' if a.get('ratio') is None else f'{a["ratio"]:.3f}'
    per = ' '.join(f'ratio_{k.split("=")[1]}={v["ratio"]}' for k, v in summary.items()
                   if k != 'all')
    print(f'BENCH speech word_error_rate={best["word_error_rate"]:.3f} '
          f'command_accuracy={best["command_accuracy"]:.3f} '
          f'accuracy_training={best["accuracy_training"]:.3f} '
          f'accuracy_held_out={best["accuracy_held_out"]:.3f} typed_accuracy={typed_acc:.3f} '
          f'asr_ms_p50={best["asr_ms_p50"]} asr_cpu_ms_p50={best["asr_cpu_ms_p50"]} '
          f'speech_success_ratio={ssr} spoken={a.get("spoken")}/{a.get("n")} '
          f'spoken_ci={a.get("spoken_ci")} typed={a.get("typed")}/{a.get("n")} '
          f'typed_ci={a.get("typed_ci")} kept_ci={a.get("kept_ci")} {per} '
          f'episodes={len(episodes)} false_accepts={best["false_accepts"]} '
          f'false_commands={best["false_commands"]} utterances={len(typed)} '
          f'vad={CHOSEN_VAD.value} recognizer={best["recognizer"]} '
          f'load={load:.2f} json={path.name}{S.tag()}')
    return 0


if __name__ == '__main__':
    sys.exit(main())
