"""
Offline comparison: the recognizer's vocabulary from the training phrasings vs the lexicon.

``lexicon-words``: the lexicon vocabulary, confidence = word agreement of the two decodes only;
``lexicon``: also meaning agreement (as ``speech_command`` with ``command_tasks``).

Same utterances as ``bench speech`` (every training phrasing + the held-out-words sample, two
voices, the sim's noise, Silero VAD), each recognized with both vocabularies; the heard text
is judged by the intent identifier ``vla_policy`` runs with ``command_tasks``
(config/command_tasks.yaml, WordNet, the default bundle's encoder). Prints one row per
utterance (said, heard, confidence, verdict) and the totals; JSON to
``out/bench/speech_vocab_<time>.json``.
"""

from __future__ import annotations

import json
import pathlib
import sys
import time

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))
import bench_speech as B  # noqa: E402, I100


def main() -> int:
    """Recognize the bench's utterances with both vocabularies; print and save the rows."""
    from vla_ros.core.runtime.policy_runtime import PolicyRuntime
    runtime = PolicyRuntime.from_bundle(str(ROOT / 'models' / 'default'))
    intent = B.open_sim_intent(runtime)
    samples = B.build_samples()
    utts, _ = B.segment(samples, B.CHOSEN_VAD)
    out = {}
    for name in ('phrasings', 'lexicon-words', 'lexicon'):
        rec = B.make_recognizer(B.CHOSEN_RECOGNIZER, lexicon=name != 'phrasings',
                                meaning=name == 'lexicon')
        rows = []
        for s, us in zip(samples, utts):
            heard = [rec.recognize(u.samples) for u in us]
            text = ' '.join(h.text for h in heard if h.text)
            conf = min((h.confidence for h in heard), default=0.0)
            accepted = bool(text) and conf >= B.DEFAULT_MIN_CONFIDENCE and len(heard) == 1
            got = B.identify(intent, text) if accepted else None
            want = (s.kind, s.colour)
            verdict = ('refused' if not accepted else 'ok' if got == want else
                       'intent refused' if got is None else f'wrong {got}')
            rows.append({'said': s.text, 'group': s.group, 'voice': s.voice, 'heard': text,
                         'confidence': round(conf, 3), 'verdict': verdict})
        out[name] = rows
    for name, rows in out.items():
        print(f'== {name}')
        for r in rows:
            print(f"{r['group'][:8]:8s} {r['voice'][:8]:8s} {r['confidence']:.2f} "
                  f"{r['verdict'][:24]:24s} said={r['said']!r} heard={r['heard']!r}")
    for name, rows in out.items():
        for g in ('training', 'held_out', 'non_command', 'non_speech'):
            rs = [r for r in rows if r['group'] == g]
            n = {v: sum(r['verdict'].startswith(v) for r in rs)
                 for v in ('ok', 'wrong', 'refused', 'intent refused')}
            print(f'{name:10s} {g:12s} n={len(rs)} ' + ' '.join(f'{k}={v}' for k, v in n.items()))
    path = ROOT / 'out' / 'bench' / f'speech_vocab_{time.strftime("%Y%m%d_%H%M%S")}.json'
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(out, indent=1))
    return 0


if __name__ == '__main__':
    sys.exit(main())
