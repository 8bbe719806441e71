"""
What the words of a task table mean beyond themselves, from the table and WordNet (ROS-free).

:func:`task_meaning` finds, once per table, what
:class:`~vla_ros.core.language.intent.IntentIdentifier` needs to decide *which* task a command
asks for and to refuse the rest: the words a command must name for a task (its parameter
``left`` / ``right``, its cue ``beep``, its manner ``gently``), the phrasal verbs the
templates use ('pick up'), the WordNet senses that are a direction, and the words that stand
for a training word from above (a verb more general than it, an adverb's stem).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from vla_ros.core.language.task_table import TaskTable
from vla_ros.core.language.wordnet import HYPERNYM_POINTERS, WordNet

SYNONYM_W, RELATED_W, GLOSS_W = 1.0, 0.8, 0.6    # lexical evidence by WordNet relation
SENSE_DECAY = 0.85   # each later (rarer) sense of a word counts this much less
GENERAL_SENSES = 3   # a verb more general than one of these first senses of a training verb


@dataclass(frozen=True)
class TaskMeaning:
    """
    What :func:`task_meaning` found.

    ``groups``: parameter groups ({left, right}); ``needs``: task -> the groups a command must
    name a word of; ``needed``: their union; ``phrasal``: word -> its phrasal verb ('pick' ->
    'pick up'); ``contrast``: parameter word -> its (pos, offset) senses that contrast it with
    the others (antonyms); ``above``: word -> training verbs it is more general than, with the
    evidence (only for two or more); ``derived``: word -> training adverbs derived from it;
    ``explains``: task -> its words and those of the tasks it is made of (keyword: pick's).
    """

    groups: tuple[frozenset[str], ...]
    needs: Mapping[str, list[frozenset[str]]]
    needed: frozenset[str]
    phrasal: Mapping[str, str]
    contrast: Mapping[str, frozenset[tuple[str, int]]]
    above: Mapping[str, Mapping[str, float]]
    derived: Mapping[str, set[str]]
    explains: Mapping[str, frozenset[str]]


def task_meaning(table: TaskTable, task_words: Mapping[str, set[str]],
                 lexicon: WordNet | None) -> TaskMeaning:
    """
    Return what the words of ``table`` mean (``task_words``: task -> its content words).

    Without a lexicon: the table's own groups only (a task's manner words are all its own
    words; no phrasal verbs, senses or words from above).
    """
    vocab = table.vocabulary()
    content = set().union(*task_words.values())
    # words that alone set tasks apart (left / right): named as a colour is, never read
    # from a gloss, and through WordNet only by a sense that contrasts them (antonyms)
    groups = table.parameter_groups()
    # ... and the words that define a task ('beep'): a task needs one word of each
    needs = {t: [g for g in groups if table.needs(t, g)] + [
        g for g in table.defining_words(t) if not any(g <= p for p in groups)]
        for t in table.tasks}
    # ... and a task that is another done some way (gentle: pick + gently) one of its
    # manner words: the inserted ones and their WordNet neighbours among its own (softly)
    for t in table.tasks:
        mods = table.modifiers(t)
        own = task_words[t] - set().union(*(v for k, v in task_words.items() if k != t))
        if mods:
            needs[t].append(frozenset(mods | {
                u for u in own if lexicon is None or mods & lexicon.neighbours(u)}))
    needed = frozenset().union(*(g for gs in needs.values() for g in gs))
    explains = {t: frozenset(task_words[t].union(*(
        task_words[k] for k in table.tasks if table.contains(t, k)))) for t in table.tasks}
    if lexicon is None:
        return TaskMeaning(groups, needs, needed, {}, {p: frozenset() for g in groups
                                                       for p in g}, {}, {}, explains)
    # 'pick' means 'pick up' here: a sense of bare 'pick' (clean, as a chicken) is no pick
    phrasal = table.phrasal(lambda p: bool(lexicon.synsets(p)))
    contrast = {p: lexicon.contrast_senses(p, g - {p}) for g in groups for p in g}
    # words that stand for a training word from above: a manner adverb's stem ('care' ->
    # carefully), a verb one of its first senses is a kind of ('move' -> push, slide)
    above: dict[str, dict[str, float]] = {}
    derived: dict[str, set[str]] = {}
    for t in sorted(content - set(contrast)):
        for rank, sense in enumerate(lexicon.synsets(t, 'v')[:GENERAL_SENSES]):
            for h in {h for r in lexicon.related(sense, HYPERNYM_POINTERS) for h in r.lemmas
                      if h not in vocab}:
                above.setdefault(h, {})[t] = max(above.get(h, {}).get(t, 0.0),
                                                 RELATED_W * SENSE_DECAY ** rank)
        for d in lexicon.derived_forms(t):
            derived.setdefault(d, set()).add(t)
    above = {w: v for w, v in above.items() if len(v) > 1}
    return TaskMeaning(groups, needs, needed, phrasal, contrast, above, derived, explains)
