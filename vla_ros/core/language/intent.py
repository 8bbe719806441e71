"""
Which task a command asks for: task kind + colour, or a refusal with the reason (ROS-free).

The competence check (:mod:`vla_ros.core.bundle.competence`) asks "is this near *some* training
command?"; a command near a training command of the wrong task passes it, and the robot does a
different task than asked. :class:`IntentIdentifier` decides *which* task of a
:class:`TaskTable` (task -> training templates with a ``{c}`` colour slot) the command asks
for, and refuses when none matches or when two tasks come close:

0. a negation ('do not', "don't", 'never', 'stop') -> refused: no command to do anything;
1. words no training phrasing contains are mapped onto training words through WordNet (when a
   lexicon is given): a synonym (same synset), a hypernym or similar-to lemma, or a word of
   the sense's gloss ("seize: take hold of; grab" -> grab; "crimson" -> red);
2. the colour is the one training colour the command names (directly or through step 1);
   none or several -> refused; so is a parameter, a word that alone sets two tasks apart
   (:meth:`TaskTable.parameter_groups`: left / right), named only by itself or by a sense
   WordNet contrasts with the others (starboard -> right; 'correct' is no direction);
3. each task scores the best of its templates: the text encoder's cosine (semantic dims)
   blended with the word overlap (F1 of content words), both on the rewritten command;
4. accepted when the best task scores >= ``min_score`` and leads the second by >= ``margin``,
   names what the task needs (its parameter, a word that defines it: 'beep'), and no word
   of the command stands strongly for another task only ('lift it and push it left').

An accepted command names its canonical instruction: the task's first template with the
colour, a phrasing the policy was trained on.

Steps 1 and 2 (what each word of the command stands for among the training words) are
:class:`~vla_ros.core.language.command_words.CommandWords`'s, which the identifier extends.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
import re

import numpy as np
from vla_ros.core.bundle.competence import REFUSAL_PREFIX
from vla_ros.core.language.command_words import (CommandWords, DEFAULT_WORD_SIMILARITY,
                                                 MIN_REWRITE_W)
from vla_ros.core.language.task_table import TaskTable, words
from vla_ros.core.language.wordnet import WordNet
from vla_ros.errors import ConfigError

DEFAULT_MIN_SCORE = 0.45
DEFAULT_MARGIN = 0.06
DEFAULT_LEXICAL_WEIGHT = 0.7
# A command that says not to do something is no command to do it.
NEGATION = re.compile(r"\b(not|never|nor|neither|cannot|dont|don't|stop)\b|n't\b")
# A word this strongly (synonym / hypernym, no gloss) a training word of another task than the
# one identified makes the command two tasks at once ('lift the cube and push it left').
EXPLAIN_MIN = 0.8


@dataclass(frozen=True)
class Intent:
    """
    The verdict on one command.

    ``task`` / ``colour`` / ``canonical`` are set when ``understood``; ``score`` is the best
    task's, ``runner_up`` / ``second`` the next task and its score; ``rewritten`` the command in
    training words (what was scored); ``reason`` says why it was refused.
    """

    understood: bool
    task: str = ''
    colour: str = ''
    canonical: str = ''
    score: float = 0.0
    runner_up: str = ''
    second: float = 0.0
    rewritten: str = ''
    reason: str = ''


class IntentIdentifier(CommandWords):
    """
    Decides which task of ``table`` a command asks for.

    :param table: the tasks and their training templates.
    :param embed: ``text -> [D]`` the bundle's text encoder (None: word evidence alone).
    :param semantic_dims: the first dims compared by cosine (0 = all).
    :param lexicon: WordNet, to map unseen words onto training words (None: no mapping).
    :param min_score: the best task's score must reach this [0, 1].
    :param margin: ... and lead the second task's by this much.
    :param lexical_weight: weight of the word evidence in a score (1 - it: the cosine).
    :param colour_head: ``text -> colour or None``, asked when no colour word is recognized
        (a grounded encoder's colour part,
        :func:`~vla_ros.core.language.command_tasks.hue_colour`).
    :param word_similarity: a word neither trained on nor mapped by WordNet stands for the
        training words the encoder puts within this cosine of it (1 = never; needs ``embed``).
    """

    def __init__(self, table: TaskTable, embed: Callable[[str], np.ndarray] | None, *,
                 semantic_dims: int = 0, lexicon: WordNet | None = None,
                 min_score: float = DEFAULT_MIN_SCORE, margin: float = DEFAULT_MARGIN,
                 lexical_weight: float = DEFAULT_LEXICAL_WEIGHT,
                 colour_head: Callable[[str], str | None] | None = None,
                 word_similarity: float = DEFAULT_WORD_SIMILARITY) -> None:
        if not 0 <= lexical_weight <= 1 or (embed is None and lexical_weight != 1):
            raise ConfigError(f'lexical_weight must be in [0, 1] (1 without an encoder), got '
                              f'{lexical_weight!r}')
        super().__init__(table, embed, semantic_dims=semantic_dims, lexicon=lexicon,
                         word_similarity=word_similarity)
        self.min_score, self.margin, self.lexical_weight = min_score, margin, lexical_weight
        self._colour_head = colour_head
        # a word's information: log(tasks / tasks using it); 'cube' (every task) carries none
        n = len(table.tasks)
        self.idf = {w: float(np.log(n / sum(w in tw for tw in self._task_words.values())))
                    for w in self.content}
        self._bank = None if embed is None else np.stack(
            [self._semantic(t) for _, t in self._templates])

    # -- scoring ----------------------------------------------------------------------------
    def lexical_scores(self, evidence: Sequence[Mapping[str, float]], *,
                       general: Sequence[bool] = ()) -> dict[str, float]:
        """
        Return task -> word evidence [0, 1]: F0.5 of precision and recall, idf-weighted.

        Precision: how much of the command's information the task's words explain (a word no
        template of the task uses speaks against it); recall: how much of the task's best
        template the command covers. Precision weighs more (F0.5): an extra word of another
        task ('gently') must count more than a missing one. A ``general`` word (one flag per
        evidence; :meth:`general_words`) counts for precision only: 'move' names no task.
        """
        return {t: 0.0 if p + r == 0 else 1.25 * p * r / (0.25 * p + r)
                for t, (p, r) in self.precision_recall(evidence, general=general).items()}

    def precision_recall(self, evidence: Sequence[Mapping[str, float]], *,
                         general: Sequence[bool] = ()) -> dict[str, tuple[float, float]]:
        """Return task -> (precision, recall) of :meth:`lexical_scores`."""
        info = [max(self.idf[c] for c in cand) for cand in evidence]
        named = [cand for cand, g in zip(evidence, list(general) + [False] * len(evidence))
                 if not g]
        total = sum(info)
        out: dict[str, tuple[float, float]] = {}
        for task, tw in self._task_words.items():
            got = sum(a * max((v for c, v in cand.items() if c in tw), default=0.0)
                      for a, cand in zip(info, evidence))
            rec = 0.0
            for (k, _), words_t in zip(self._templates, self._template_words):
                need = sum(self.idf[w] for w in words_t)
                if k == task and need > 0:
                    have = sum(self.idf[w] * max((cand.get(w, 0.0) for cand in named),
                                                 default=0.0) for w in words_t)
                    rec = max(rec, have / need)
            out[task] = (got / total if total > 0 else 0.0, rec)
        return out

    def scores(self, ws: Sequence[str]) -> dict[str, float]:
        """Return task -> score of the command words ``ws`` (colour words already mapped)."""
        ev = self._evidence(ws)
        lex = self.lexical_scores([c for _, c, _ in ev], general=[g for _, _, g in ev])
        if self._bank is None or self.lexical_weight >= 1:
            return lex
        c0 = self.table.colours[0]
        text = ' '.join(c0 if w in self.table.colours else w for w in self.rewrite(ws))
        cos: dict[str, float] = {}
        for (task, _), c in zip(self._templates, self._bank @ self._semantic(text)):
            cos[task] = max(cos.get(task, -1.0), float(c))
        w = self.lexical_weight
        return {t: w * lex[t] + (1 - w) * cos[t] for t in lex}

    def identify(self, text: str) -> Intent:
        """Return the task ``text`` asks for, or a refusal with the reason."""
        negated = NEGATION.search(text.lower())
        if negated:
            return Intent(False, reason=f'{REFUSAL_PREFIX}: it says "{negated.group(0)}" (a '
                          'command not to do something is no command to do it)')
        ws, colours = self.colour_of(words(text))
        if not colours and self._colour_head is not None:
            heard = self._colour_head(text)
            colours = {heard} if heard else colours
        if not colours:
            return Intent(False, reason=f'{REFUSAL_PREFIX}: it names no colour I know '
                          f'({", ".join(self.table.colours)})')
        if len(colours) > 1:
            return Intent(False, reason=f'{REFUSAL_PREFIX}: it names more than one colour '
                          f'({", ".join(sorted(colours))})')
        colour = colours.pop()
        ev = self.word_evidence(ws)
        known = {w for w, c in ev if max(c.values()) >= MIN_REWRITE_W}
        hinges = self.hinges(text)
        unknown = [w for w in hinges if w not in known] or self.unknown_actions(ws, known)
        if unknown:
            return Intent(False, colour=colour, reason=f'{REFUSAL_PREFIX}: no task of mine is '
                          f'to "{" ".join(unknown)}"')
        named = {c for _, cand in ev for c in cand if c in self._needed}
        for g in self.groups:
            if len(named & g) > 1:
                return Intent(False, reason=f'{REFUSAL_PREFIX}: it names more than one of '
                              f'{", ".join(sorted(g))} ({", ".join(sorted(named & g))})')
        ranked = sorted(self.scores(ws).items(), key=lambda kv: -kv[1])
        shown = ' '.join(self.rewrite(ws))
        (task, best), (second_task, second) = (ranked + [('', 0.0)])[:2]
        common = {'score': best, 'runner_up': second_task, 'second': second,
                  'rewritten': shown, 'colour': colour}
        # a task whose parameter (left / right) the command does not name cannot be done
        missing = sorted(set().union(*(g for g in self._needs[task] if not named & g)))
        if missing and best >= self.min_score:
            return Intent(False, reason=f'{REFUSAL_PREFIX}: it reads as {task} but names none '
                          f'of {", ".join(missing)}; read as "{shown}"', **common)
        if best < self.min_score:
            return Intent(False, reason=f'{REFUSAL_PREFIX}: no task matches (best: {task} '
                          f'{best:.2f} < {self.min_score:.2f}; read as "{shown}")', **common)
        if best - second < self.margin:
            return Intent(False, reason=f'{REFUSAL_PREFIX}: it could be {task} ({best:.2f}) '
                          f'or {second_task} ({second:.2f}); read as "{shown}"', **common)
        own = self._explains[task]
        off = [w for w, cand in ev if w in hinges and not set(cand) & own]
        if off:
            return Intent(False, reason=f'{REFUSAL_PREFIX}: it reads as {task}, but "'
                          f'{" ".join(off)}" is not how {task} goes; read as "{shown}"', **common)
        extra = [w for w, cand in ev if max(cand.values()) >= EXPLAIN_MIN
                 and not set(cand) & own]
        if extra:
            return Intent(False, reason=f'{REFUSAL_PREFIX}: it reads as {task}, but "'
                          f'{" ".join(extra)}" asks for something else too; read as "{shown}"',
                          **common)
        return Intent(True, task=task, canonical=self.table.canonical(task, colour), **common)
