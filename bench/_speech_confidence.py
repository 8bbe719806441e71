"""
Which confidence for the speech recognizer: decision schemes compared on ``bench speech``'s audio.

``python bench/_speech_confidence.py`` decodes every utterance of ``bench_speech.build_samples``
(Silero VAD) with four pocketsphinx searches over the command vocabulary: the command trigram
LM (``lm``, language weight 6.5), the same LM at weight 3 (``lm3``), a unigram LM of the words
(``uni``: no order) and the exact-phrasing JSGF grammar (``gram``). A scheme takes its text
from one search and its confidence from the word agreement with others; for thresholds 0.6 to
1 it prints the command utterances whose text the default bundle's competence check maps to
the intended task (ok), to another task (wrong: the worst outcome), or that are refused, and
the non-commands the policy would have accepted (fa). Slow (~4 decodes per utterance).
"""

from __future__ import annotations

import io
import pathlib
import sys
import tempfile

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / 'bench'))
import bench_speech as B  # noqa: E402, I100
import numpy as np  # noqa: E402, I100
import pocketsphinx  # noqa: E402
from pocketsphinx.lm import ArpaBoLM  # noqa: E402
from vla_ros.core.runtime.policy_runtime import PolicyRuntime  # noqa: E402
from vla_ros.core.speech import agreement, VadKind  # noqa: E402
from vla_ros.core.speech import recognizer as R  # noqa: E402
from vla_ros.sim.task_suite import COLOURS, TRAIN_PHRASES  # noqa: E402

SCHEMES = {'lm | lm~gram (default)': ('lm', ('gram',)), 'gram | lm~gram': ('gram', ('lm',)),
           'lm | lm~uni': ('lm', ('uni',)), 'lm | lm~lm3': ('lm', ('lm3',)),
           'gram | gram~uni': ('gram', ('uni',))}
THRESHOLDS = (0.6, 0.75, 0.85, 1.0)


def decoders(tmp: pathlib.Path) -> dict[str, pocketsphinx.Decoder]:
    """Return the four searches over the training phrasings' vocabulary."""
    sents = R._sentences([p.format(c=c) for ps in TRAIN_PHRASES.values() for p in ps
                          for c in COLOURS])
    vocab = sorted({w for s in sents for w in s.split()})
    dic, lm, uni = tmp / 'c.dict', tmp / 'c.arpa', tmp / 'u.arpa'
    dic.write_text(R.pronunciations(vocab))
    lm.write_text(R._arpa(sents))
    u = ArpaBoLM(add_start=True, text='\n'.join(vocab))
    u.compute()
    buf = io.StringIO()
    u.write(buf)
    uni.write_text(buf.getvalue())
    kw = {'dict': str(dic), 'loglevel': R.LOG_LEVEL}
    g = pocketsphinx.Decoder(lm=None, **kw)
    g.add_jsgf_string('c', R._jsgf(sents))
    g.activate_search('c')
    return {'lm': pocketsphinx.Decoder(lm=str(lm), **kw),
            'lm3': pocketsphinx.Decoder(lm=str(lm), lw=3.0, **kw),
            'uni': pocketsphinx.Decoder(lm=str(uni), **kw), 'gram': g}


def main() -> int:
    """Decode, then print the decision table per scheme and threshold."""
    rt = PolicyRuntime.from_bundle(ROOT / 'models' / 'default')
    samples = B.build_samples()
    utts, _ = B.segment(samples, VadKind.SILERO)
    with tempfile.TemporaryDirectory() as tmp:
        decs = decoders(pathlib.Path(tmp))
        rows = []
        for s, us in zip(samples, utts):
            row = {'n': len(us)}
            for name, d in decs.items():
                hyps = []
                for u in us:
                    d.start_utt()
                    d.process_raw((np.clip(u.samples, -1, 1) * 32767).astype('<i2').tobytes(),
                                  full_utt=True)
                    d.end_utt()
                    hyps.append(d.hyp().hypstr if d.hyp() else '')
                row[name] = ' '.join(hyps)
            rows.append((s, row))
    for name, (text_from, others) in SCHEMES.items():
        for tau in THRESHOLDS:
            n = dict.fromkeys(('ok', 'wrong', 'refused', 'fa'), 0)
            for s, r in rows:
                conf = min(agreement(r[text_from], r[o]) for o in others) if r['n'] == 1 else 0
                task = B.intended(rt, r[text_from]) if conf >= tau and r[text_from] else None
                if s.group in ('training', 'held_out'):
                    n['refused' if task is None else
                      'ok' if task == (s.kind, s.colour) else 'wrong'] += 1
                elif task is not None:
                    n['fa'] += 1
            print(f'{name:24s} threshold {tau:.2f}: ' + ' '.join(f'{k}={v}' for k, v in n.items()))
    return 0


if __name__ == '__main__':
    sys.exit(main())
