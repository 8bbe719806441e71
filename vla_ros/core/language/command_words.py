"""
What the words of a command stand for among the training words (ROS-free).

:class:`CommandWords` maps each word of a command onto the words of a :class:`TaskTable`'s
templates (training words) with the evidence for it: itself, through WordNet (when a lexicon
is given) a synonym, a hypernym or similar-to lemma, a word of a sense's gloss, a more general
verb or an adverb's stem, else the training words the text encoder puts near it. It finds the
colour a command names, the verbs its clauses open with and the actions no training word
stands for. :class:`~vla_ros.core.language.intent.IntentIdentifier` scores the tasks on it.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
from vla_ros.core.language.task_table import FUNCTION_WORDS, SLOT, TaskTable, words
from vla_ros.core.language.task_words import (GLOSS_W, RELATED_W, SENSE_DECAY, SYNONYM_W,
                                              task_meaning)
from vla_ros.core.language.wordnet import HYPERNYM_POINTERS, SIMILAR_POINTER, WordNet

MIN_REWRITE_W = 0.5  # weaker lexical evidence leaves the word as it is
# A word WordNet cannot map is compared with the training words by the encoder: the training
# words within WORD_SIM_BAND of the nearest count, when it is at least this near (cosine).
DEFAULT_WORD_SIMILARITY = 0.55
WORD_SIM_BAND = 0.05


class CommandWords:
    """
    Maps the words of a command onto the training words of ``table``.

    :param table: the tasks and their training templates.
    :param embed: ``text -> [D]`` the bundle's text encoder (None: WordNet evidence alone).
    :param semantic_dims: the first dims compared by cosine (0 = all).
    :param lexicon: WordNet, to map unseen words onto training words (None: no mapping).
    :param word_similarity: a word neither trained on nor mapped by WordNet stands for the
        training words the encoder puts within this cosine of it (1 = never; needs ``embed``).
    """

    def __init__(self, table: TaskTable, embed: Callable[[str], np.ndarray] | None, *,
                 semantic_dims: int = 0, lexicon: WordNet | None = None,
                 word_similarity: float = DEFAULT_WORD_SIMILARITY) -> None:
        self.table, self.lexicon = table, lexicon
        self._embed, self._dims = embed, semantic_dims
        self.vocab = table.vocabulary()
        self.content = self.vocab - FUNCTION_WORDS - set(table.colours) - set(table.objects)
        c0 = table.colours[0]
        self._templates = [(task, t.replace(SLOT, c0)) for task, ts in table.tasks.items()
                           for t in ts]
        self._template_words = [set(words(t)) & self.content for _, t in self._templates]
        self._task_words = {task: set().union(*(tw for (k, _), tw in zip(
            self._templates, self._template_words) if k == task)) for task in table.tasks}
        self._lex_cache: dict[tuple, dict[str, float]] = {}
        self.word_similarity = word_similarity
        self._content_list = sorted(self.content)
        self._word_bank = None if embed is None or word_similarity >= 1 else np.stack(
            [self._semantic(w) for w in self._content_list])
        meaning = task_meaning(table, self._task_words, lexicon)
        self.groups, self._needs, self._needed = meaning.groups, meaning.needs, meaning.needed
        self._phrasal, self._contrast = meaning.phrasal, meaning.contrast
        self._above, self._derived, self._explains = (meaning.above, meaning.derived,
                                                      meaning.explains)
        self._above = {w: v for w, v in self._above.items() if len(v) > 1}

    # -- words -------------------------------------------------------------------------------
    def candidates(self, word: str, *, gloss: bool = True) -> dict[str, float]:
        """
        Return the training words ``word`` may stand for, with the evidence [0, 1].

        A training word stands for itself (1); through WordNet: a lemma of one of its senses
        (1), of a hypernym / similar-to sense (0.8), a word of a sense's gloss (0.6, unless
        ``gloss`` is False); rarer senses count less (x0.85 per rank). A word a training adverb
        derives from stands for it (0.8: 'care' -> carefully).
        """
        if word in self.vocab:
            return {word: 1.0}
        direction = [p for p in self._contrast if word in (p + 'ward', p + 'wards')]
        if direction:
            return {direction[0]: SYNONYM_W}   # leftwards (WordNet has no -ward forms)
        if self.lexicon is None or word in FUNCTION_WORDS:
            return {}
        key = (word, gloss)
        if key not in self._lex_cache:
            out: dict[str, float] = {}
            for rank, s in enumerate(self.lexicon.synsets(word)):
                decay = SENSE_DECAY ** rank
                found = [(lemma, SYNONYM_W, s) for lemma in s.lemmas]
                for r in self.lexicon.related(s, HYPERNYM_POINTERS + (SIMILAR_POINTER,)):
                    found += [(lemma, RELATED_W, r) for lemma in r.lemmas]
                if gloss:
                    found += [(w, GLOSS_W, None) for w in words(s.gloss.split('"')[0])]
                for lemma, w, sense in found:
                    where = None if sense is None else (sense.pos, sense.offset)
                    if lemma in self._contrast and where not in self._contrast[lemma]:
                        continue   # 'correct' is 'right' as in no error, not the direction
                    phrase = self._phrasal.get(lemma)
                    if phrase and phrase not in (s.gloss if sense is None else sense.lemmas):
                        continue
                    if lemma in self.vocab and lemma not in FUNCTION_WORDS and lemma != word:
                        out[lemma] = max(out.get(lemma, 0.0), w * decay)
            for t in set().union(*(self._derived.get(f, ()) for f in self._forms(word))):
                out[t] = max(out.get(t, 0.0), RELATED_W)
            self._lex_cache[key] = out
        return self._lex_cache[key]

    def colour_of(self, ws: Sequence[str]) -> tuple[list[str], set[str]]:
        """
        Return the words with colour words replaced by training colours, and the colours.

        A colour word is a training colour or, through WordNet, a word whose sense has one as a
        synonym, hypernym or similar-to lemma (crimson -> red, navy -> blue), by at least
        ``MIN_REWRITE_W`` ('gentle' is 'blue' only as in blue-blooded, its sixth sense);
        glosses do not count (a gloss mentions colours of many things).
        """
        out, found = [], set()
        for w in ws:
            cand = {c: v for c, v in self.candidates(w, gloss=False).items()
                    if c in self.table.colours and v >= MIN_REWRITE_W}
            if cand and (w in self.table.colours or w not in self.vocab):
                c = max(cand, key=cand.__getitem__)
                found.add(c)
                out.append(c)
            else:
                out.append(w)
        return out, found

    def evidence(self, ws: Sequence[str]) -> list[dict[str, float]]:
        """Return, per content word of ``ws``, the training words it may be (with evidence)."""
        return [cand for _, cand in self.word_evidence(ws)]

    def word_evidence(self, ws: Sequence[str]) -> list[tuple[str, dict[str, float]]]:
        """Return (word, training words it may be) per content word of ``ws`` with any."""
        return [(w, cand) for w, cand, _ in self._evidence(ws)]

    def _evidence(self, ws: Sequence[str]) -> list[tuple[str, dict[str, float], bool]]:
        out = []
        for w in ws:
            if w in FUNCTION_WORDS or w in self.table.colours or w in self.table.objects:
                continue
            cand = {c: v for c, v in self.candidates(w).items() if c in self.content}
            general = {} if max(cand.values(), default=0.0) >= MIN_REWRITE_W else (
                self.general_words(w))
            cand = general or cand or self.similar_words(w)
            if cand:
                out.append((w, cand, bool(general)))
        return out

    def _forms(self, word: str) -> set[str]:
        return {word}.union(*(self.lexicon.base_forms(word, p) for p in 'nvar'))

    def general_words(self, word: str) -> dict[str, float]:
        """
        Return the training verbs ``word`` is more general than ('move' -> push, slide, lift).

        Only for a verb above two or more of them, by one of their first senses (0.8, x0.85
        per rank): it fits each of their tasks but names none (
        :meth:`~vla_ros.core.language.intent.IntentIdentifier.lexical_scores` counts it for
        precision, not recall). 'cut' is above tap only (cutting a thread), 'choose'
        above pick only (choosing): neither.
        """
        if self.lexicon is None or word in self.vocab or word in FUNCTION_WORDS:
            return {}
        out: dict[str, float] = {}
        for f in self._forms(word):
            for t, v in self._above.get(f, {}).items():
                out[t] = max(out.get(t, 0.0), v)
        return out

    def unknown_actions(self, ws: Sequence[str], known: set[str]) -> list[str]:
        """
        Return the words of ``ws`` that name an action no training word stands for.

        A word without evidence (not in ``known``) that WordNet knows mostly as a verb
        ('rotate', 'turn', 'put'): the command asks for something no task does, however well
        the rest ('the red cube left') fits a task.
        """
        if self.lexicon is None:
            return []
        skip = FUNCTION_WORDS | set(self.table.colours) | set(self.table.objects) | known
        return [w for w in ws if w not in skip and self.lexicon.mostly_verb(w)]

    def hinges(self, text: str) -> list[str]:
        """
        Return the verbs the clauses of ``text`` open with: the actions asked for.

        Per comma-separated clause, its first word past the polite words ('could you'), when
        it can be a verb: 'open' in 'open your hand over the cube'; none in 'the red cube'
        or 'gently ...' (an adverb).
        """
        out = []
        for clause in text.lower().split(','):
            first = next((w for w in words(clause) if w not in FUNCTION_WORDS), '')
            if (first and first not in self.table.objects and not self.colour_of([first])[1]
                    and (first in self.content or self.lexicon is not None
                         and self.lexicon.synsets(first, 'v'))):
                out.append(first)
        return out

    def similar_words(self, word: str) -> dict[str, float]:
        """Return the training words the encoder puts near ``word`` (cosine as evidence)."""
        if self._word_bank is None or word in FUNCTION_WORDS:
            return {}
        key = (word, False, 'encoder')
        if key not in self._lex_cache:
            sims = self._word_bank @ self._semantic(word)
            best = float(sims.max())
            # never a parameter: the encoder puts 'side' near 'left'
            self._lex_cache[key] = {} if best < self.word_similarity else {
                w: float(s) for w, s in zip(self._content_list, sims)
                if s >= best - WORD_SIM_BAND and w not in self._contrast}
        return self._lex_cache[key]

    def rewrite(self, ws: Sequence[str]) -> list[str]:
        """Return ``ws`` with unseen content words replaced by their best training word."""
        out = []
        for w in ws:
            cand = {} if w in self.vocab or w in FUNCTION_WORDS else {
                c: v for c, v in self.candidates(w).items() if c in self.content}
            best = max(cand, key=cand.__getitem__) if cand else ''
            out.append(best if best and cand[best] >= MIN_REWRITE_W else w)
        return out

    def _semantic(self, text: str) -> np.ndarray:
        v = np.asarray(self._embed(text), np.float32)
        v = v[:self._dims or len(v)]
        return v / max(float(np.linalg.norm(v)), 1e-12)
