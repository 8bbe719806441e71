"""
Held-out command language built by rule: words that no training phrasing contains (ROS-free).

Each held-out command is a training phrasing (:data:`~vla_ros.sim.task_suite.TRAIN_PHRASES`)
changed by exactly one rule, named by its variant, so success can be broken down per rule:

- ``colour``: the colour named by a synonym (crimson / scarlet for red, ...);
- ``noun``: the object called by another noun (box, cuboid, brick);
- ``verb``: the first verb replaced by another verb (lift -> raise / elevate, pick -> hoist, ...);
- ``polite``: a polite form around the command ('please ...', 'could you ...');
- ``reorder``: the object named first, the action after ('the red cube, lift it').

The ``multi_word`` rule (:func:`multi_word_command`) is a held-out rule of its own: all of them
at once -- verb, noun and colour synonyms inside a polite frame, reordered on a coin flip
('the scarlet brick, could you hoist it up'), drawn reproducibly from the seed.

Every substituted word is in :data:`HELD_OUT_WORDS`, none of which appears in any training
phrasing (``test/sim/test_language.py`` checks it); ``reorder`` adds no word, only order.
Training must never use these words, not even as augmentation.
"""

from __future__ import annotations

import re

import numpy as np
from vla_ros.sim.task_suite import (_rng, COLOURS, make_task, OBJECT_NOUNS, TaskKind,
                                    TaskSpec, TRAIN_PHRASES)

VARIANTS = ('colour', 'noun', 'verb', 'polite', 'reorder')
MULTI_WORD = 'multi_word'   # the combined rule (not one of VARIANTS: drawn on its own)
COLOUR_SYNONYMS: dict[str, tuple[str, ...]] = {'red': ('crimson', 'scarlet'),
                                               'green': ('emerald', 'jade'),
                                               'blue': ('navy', 'azure')}
NOUN_SYNONYMS = ('box', 'cuboid', 'brick')
TRAIN_NOUNS = OBJECT_NOUNS
VERB_SYNONYMS: dict[str, tuple[str, ...]] = {
    'pick': ('hoist',), 'lift': ('raise', 'elevate'), 'grab': ('seize',), 'grasp': ('clutch',),
    'push': ('shove',), 'slide': ('nudge',), 'touch': ('contact',), 'tap': ('pat',),
    'hold': ('clasp',)}
POLITE_FORMS = ('please {}', 'could you {}', 'would you kindly {}')
# Function words a held-out command may share with training phrasings.
STOP_WORDS = frozenset({'the', 'a', 'it', 'to', 'and', 'then', 'up', 'you', 'at', 'when',
                        'until'})


def words(text: str) -> list[str]:
    """Return the lower-case words of ``text`` (letters only)."""
    return re.findall(r'[a-z]+', text.lower())


HELD_OUT_WORDS = frozenset(
    [w for ws in COLOUR_SYNONYMS.values() for w in ws] + list(NOUN_SYNONYMS)
    + [w for ws in VERB_SYNONYMS.values() for w in ws]
    + [w for f in POLITE_FORMS for w in words(f.format(''))]) - STOP_WORDS


def training_vocabulary() -> frozenset[str]:
    """Return every word of every training phrasing, with every colour filled in."""
    return frozenset(w for ps in TRAIN_PHRASES.values() for p in ps for c in COLOURS
                     for w in words(p.format(c=c)))


def _sub_word(text: str, old: str, new: str) -> str:
    return re.sub(rf'\b{old}\b', new, text, count=1)


def _reorder(template: str, colour: str) -> str | None:
    m = re.match(r'^(?P<pre>.*?)the \{c\} (?P<noun>\w+)(?P<post>.*)$', template)
    if not m or not m['pre'].strip():
        return None
    pre, post = m['pre'].strip(), m['post']
    if pre.endswith(' up'):        # 'pick up the red cube' -> 'pick it up'
        action = pre[:-3] + ' it up'
    elif post.startswith(' up'):   # 'pick the red block up' -> 'pick it up'
        action, post = pre + ' it up', post[3:]
    else:
        action = pre + ' it'
    return f'the {colour} {m["noun"]}, {action}{post}'


def held_out_word_commands(kind: TaskKind | str, colour: str) -> list[tuple[str, str]]:
    """
    Return every held-out command for ``kind`` and ``colour`` as (command, variant) pairs.

    Each is a training phrasing of ``kind`` changed by one rule of :data:`VARIANTS`; the order
    is fixed (templates, then rules, then synonyms).
    """
    kind = TaskKind(kind)
    out: list[tuple[str, str]] = []
    for t in TRAIN_PHRASES[kind]:
        plain = t.format(c=colour)
        out += [(t.format(c=syn), 'colour') for syn in COLOUR_SYNONYMS[colour]]
        noun = next((n for n in TRAIN_NOUNS if n in words(plain)), None)
        if noun:
            out += [(_sub_word(plain, noun, syn), 'noun') for syn in NOUN_SYNONYMS]
        verb = next((w for w in words(plain) if w in VERB_SYNONYMS), None)
        if verb:
            old = f'{verb} up' if f'{verb} up' in plain else verb  # 'pick up' -> 'hoist'
            out += [(_sub_word(plain, old, syn), 'verb') for syn in VERB_SYNONYMS[verb]]
        out += [(f.format(plain), 'polite') for f in POLITE_FORMS]
        r = _reorder(t, colour)
        if r:
            out.append((r, 'reorder'))
    return out


def held_out_word_task(kind: TaskKind | str, seed: int, *,
                       variant: str | None = None) -> TaskSpec:
    """
    Return the task of ``kind`` for ``seed`` with a held-out-words command.

    The colour is the one :func:`~vla_ros.sim.task_suite.make_task` draws for the seed; the
    rule (unless ``variant`` is given) and then the command are drawn uniformly from the seed,
    so every rule is played about equally often.
    """
    base = make_task(kind, seed)
    rng: np.random.Generator = _rng(seed, 'held_out_words')
    variant = variant or VARIANTS[int(rng.integers(len(VARIANTS)))]
    if variant not in VARIANTS:
        raise ValueError(f'variant must be one of {VARIANTS}, got {variant!r}')
    cands = [c for c, v in held_out_word_commands(base.kind, base.colour) if v == variant]
    text = cands[int(rng.integers(len(cands)))]
    return TaskSpec(base.kind, base.colour, text, base.timeout_s, True, variant)


def multi_word_command(kind: TaskKind | str, colour: str, rng: np.random.Generator) -> str:
    """
    Return a command for ``kind`` / ``colour`` with several held-out words at once.

    A training template drawn by ``rng`` gets a verb synonym, a noun synonym, a colour synonym
    and a polite frame, and on a coin flip the object first ('the azure box, would you kindly
    nudge it to the left'); every word it does not share with the template is in
    :data:`HELD_OUT_WORDS`.
    """
    kind = TaskKind(kind)
    templates = TRAIN_PHRASES[kind]
    t = templates[int(rng.integers(len(templates)))]
    verb = next((w for w in words(t) if w in VERB_SYNONYMS), None)
    if verb:
        old = f'{verb} up' if f'{verb} up' in t else verb
        syns = VERB_SYNONYMS[verb]
        t = _sub_word(t, old, syns[int(rng.integers(len(syns)))])
    noun = next((n for n in TRAIN_NOUNS if n in words(t)), None)
    if noun:
        t = _sub_word(t, noun, NOUN_SYNONYMS[int(rng.integers(len(NOUN_SYNONYMS)))])
    syns = COLOUR_SYNONYMS[colour]
    syn = syns[int(rng.integers(len(syns)))]
    polite = POLITE_FORMS[int(rng.integers(len(POLITE_FORMS)))]
    reordered = _reorder(t, syn) if rng.integers(2) else None
    if reordered:
        head, _, action = reordered.partition(', ')
        return f'{head}, {polite.format(action)}'
    return polite.format(t.format(c=syn))


def multi_word_task(kind: TaskKind | str, seed: int) -> TaskSpec:
    """Return the task of ``kind`` for ``seed`` with a :func:`multi_word_command` command."""
    base = make_task(kind, seed)
    rng = _rng(seed, f'{MULTI_WORD}_{base.kind.value}')
    text = multi_word_command(base.kind, base.colour, rng)
    return TaskSpec(base.kind, base.colour, text, base.timeout_s, True, MULTI_WORD)
