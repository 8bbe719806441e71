"""
What the command recognizer can hear: the task table's phrasings widened by the intent lexicon.

The recognizer can only decode words in its dictionary and language model. With the training
phrasings alone, an unseen synonym ("hoist", "crimson") cannot be heard and comes out as a
training word or a refusal, although the intent layer (:mod:`vla_ros.core.language.intent`)
would map it to the right task. :func:`lexicon_vocabulary` builds the recognizer's vocabulary
from the same lexicon the intent layer uses (WordNet 3.0), by one generic rule per slot of a
template ``PRE the {c} OBJECT POST``:

- the action (``PRE``'s verb or verb phrase): lemmas of its first :data:`VERB_SENSES` verb
  senses and of their hyponyms ("lift" -> raise, hoist, heave, ...); its manner adverb
  ("gently"): lemmas of its adverb senses;
- the colour: lemmas of the first adjective sense's similar-to senses and of the first noun
  sense's hyponyms ("red" -> crimson, scarlet, ruby, ...);
kept only when the intent layer maps the word back to a training word (colours: to that very
colour), so the recognizer hears nothing the intent layer cannot place, and when the
pocketsphinx dictionary knows it. The object nouns stay the table's own: the intent layer
reads no task from them, and a heard hyponym of "block" ("type", "step") would be taken for
task words. Around every command: polite frames built from the intent
layer's own function words (``could you ...``, ``please``), and the object-first order
("the red cube, lift it"). No word list of the held-out rules (:mod:`vla_ros.sim.language`)
is read. ROS-free.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
import functools
from pathlib import Path
import re

import numpy as np
import pocketsphinx
from vla_ros.core.language.intent import IntentIdentifier
from vla_ros.core.language.task_table import SLOT, TaskTable, words
from vla_ros.core.language.wordnet import WordNet
from vla_ros.errors import ConfigError

DICT_FILE = 'en-us/cmudict-en-us.dict'   # inside the pocketsphinx wheel's model folder
GRAMMAR_NAME = 'commands'
VERB_SENSES = 2        # senses of an action verb whose lemmas and hyponyms are heard
COLOUR_SENSES = 1      # senses of a colour (adjective: similar-to; noun: hyponyms)
HYPONYM, SIMILAR = '~', '&'
POLITE_MODALS = ('could', 'would', 'can', 'will')   # intent.FUNCTION_WORDS: no task evidence
POLITE_WORDS = ('please', 'kindly')
COMBINATIONS_PER_TEMPLATE = 40   # LM sentences with several slots changed at once
TRAINING_WEIGHT = 1   # the table's own phrasings count this many times in the LM corpus
_TEMPLATE = re.compile(r'^(?P<pre>.*?)\s*the \{c\} (?P<obj>\w+)(?P<post>.*)$')


@functools.lru_cache(maxsize=1)
def dictionary_words() -> frozenset[str]:
    """Return the words of the pocketsphinx wheel's CMU dictionary (variants folded)."""
    path = Path(pocketsphinx.get_model_path(DICT_FILE))
    with path.open(encoding='utf-8') as f:
        return frozenset(ln.split(' ', 1)[0].split('(', 1)[0] for ln in f if ln.strip())


def polite_frames() -> tuple[str, ...]:
    """Return the polite frames (``{}`` = the command): modal + you [+ please/kindly], ..."""
    out = [f'{m} you {{}}' for m in POLITE_MODALS]
    out += [f'{m} you {p} {{}}' for m in POLITE_MODALS for p in POLITE_WORDS]
    out += [f'{p} {{}}' for p in POLITE_WORDS] + ['{} please']
    return tuple(out)


@dataclass(frozen=True)
class Slot:
    """One replaceable part of a template: its training words and what may stand for them."""

    name: str                        # JSGF rule name
    words: str                       # the training words ('pick up', 'gently')
    alternatives: tuple[str, ...]    # heard instead (the training words first)


@dataclass(frozen=True)
class CommandVocabulary:
    """
    Templates with slots (``{c}`` = colour, ``{<name>}`` = a :class:`Slot`), colour words.

    ``colours``: training colour -> the words heard for it (itself first); ``objects``: the
    object nouns; ``frames``: polite frames (``{}`` = the command).
    """

    templates: tuple[str, ...]
    slots: Mapping[str, Slot]
    colours: Mapping[str, tuple[str, ...]]
    objects: tuple[str, ...]
    frames: tuple[str, ...] = field(default_factory=polite_frames)

    def vocabulary(self) -> frozenset[str]:
        """Return every word the recognizer may output."""
        out = {w for t in self.templates for w in words(re.sub(r'\{[^}]*\}', ' ', t))}
        out |= {w for s in self.slots.values() for a in s.alternatives for w in a.split()}
        out |= {w for ws in self.colours.values() for w in ws} | set(self.objects)
        return frozenset(out | {w for f in self.frames for w in words(f.format(''))})

    def _fill(self, template: str, colour: str, obj: str, choice: Mapping[str, str]) -> str:
        text = template.replace(SLOT, colour).replace('{obj}', obj)
        for name, slot in self.slots.items():
            text = text.replace(f'{{{name}}}', choice.get(name, slot.words))
        return ' '.join(text.split())

    def sentences(self, seed: int = 0, *, training_weight: int = TRAINING_WEIGHT) -> list[str]:
        """
        Return the language model's corpus: each slot changed alone, frames, combinations.

        The training phrasings (every slot its training words, no frame) come
        ``training_weight`` times: a speaker says them more often than any variant.
        """
        rng = np.random.default_rng(seed)
        training = [c for ws in self.colours.values() for c in ws[:1]]
        out = set()
        for t in self.templates:
            names = [n for n in self.slots if f'{{{n}}}' in t]
            for c in training:
                for o in self.objects:
                    out.add(self._fill(t, c, o, {}))
                out |= {f.format(self._fill(t, c, self.objects[0], {})) for f in self.frames}
                for n in names:
                    out |= {self._fill(t, c, self.objects[0], {n: a})
                            for a in self.slots[n].alternatives}
            out |= {self._fill(t, w, self.objects[0], {}) for ws in self.colours.values()
                    for w in ws}
            all_colours = [w for ws in self.colours.values() for w in ws]
            for _ in range(COMBINATIONS_PER_TEMPLATE):
                choice = {n: _pick(rng, self.slots[n].alternatives) for n in names}
                text = self._fill(t, _pick(rng, all_colours), _pick(rng, self.objects), choice)
                out.add(_pick(rng, self.frames + ('{}',)).format(text))
        plain = sorted({self._fill(t, c, o, {}) for t in self.templates for c in training
                        for o in self.objects})
        return sorted(out) + plain * (training_weight - 1)

    def jsgf(self) -> str:
        """
        Return a JSGF grammar: every template with its slots, in any frame.

        The frames' parts before / after the command are optional rules around one ``<body>``
        (one copy of the body, not one per frame: pocketsphinx's search over the expanded
        grammar is 10x slower and prunes away the right path). It also accepts a frame's
        head with another's tail ("could you ... please"), which is as polite.
        """
        rules = [f'<{n}> = {" | ".join(s.alternatives)};' for n, s in self.slots.items()]
        colours = ' | '.join(w for ws in self.colours.values() for w in ws)
        rules.append(f'<colour> = {colours};')
        rules.append('<obj> = ' + ' | '.join(self.objects) + ';')
        bodies = [re.sub(r'\{(\w+)\}', r'<\1>', t.replace(SLOT, '{colour}'))
                  for t in self.templates]
        rules.append('<body> = ' + ' | '.join(f'( {b} )' for b in bodies) + ';')
        command = '<body>'
        for name, part in (('pre', 0), ('post', 1)):
            alts = sorted({' '.join(f.split('{}')[part].split()) for f in self.frames} - {''})
            if alts:
                rules.append(f'<{name}> = ' + ' | '.join(f'( {a} )' for a in alts) + ';')
                command = f'[ <pre> ] {command}' if part == 0 else f'{command} [ <post> ]'
        head = '#JSGF V1.0;\ngrammar ' + GRAMMAR_NAME + ';\n'
        return head + '\n'.join(rules) + f'\npublic <command> = {command};\n'


def _pick(rng: np.random.Generator, seq: Sequence[str]) -> str:
    return seq[int(rng.integers(len(seq)))]


def _lemmas(lexicon: WordNet | None, word: str, pos: str, senses: int,
            pointers: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    if lexicon is None:
        return out
    for s in lexicon.synsets(word.replace(' ', '_'), pos)[:senses]:
        for x in [s] + lexicon.related(s, pointers):
            out += [lm for lm in x.lemmas if lm.isalpha() and lm not in out]
    return out


def lexicon_vocabulary(table: TaskTable, lexicon: WordNet | None, *,
                       known: Callable[[str], bool] | None = None) -> CommandVocabulary:
    """
    Return the recognizer's vocabulary for ``table`` widened through ``lexicon`` (module doc).

    Without a lexicon: the table's own words in the same templates, frames and orders.

    ``known(word)``: whether the recognizer can pronounce it (default: the pocketsphinx
    dictionary). ConfigError when a training word itself is not pronounceable.
    """
    known = known or dictionary_words().__contains__
    missing = sorted(w for w in table.vocabulary() if not known(w))
    if missing:
        raise ConfigError(f'command words not in the pocketsphinx dictionary: {missing}')
    ident = IntentIdentifier(table, None, lexicon=lexicon, lexical_weight=1.0)

    def placed(w: str) -> bool:   # the intent layer maps it to a training word
        return known(w) and w not in ident.vocab and ident.rewrite([w])[0] in ident.content

    slots: dict[str, Slot] = {}

    def slot(text: str, pos: str, senses: int) -> str:
        name = re.sub(r'\W', '_', text)
        if name not in slots:
            alts = [w for w in _lemmas(lexicon, text, pos, senses, (HYPONYM,)) if placed(w)]
            slots[name] = Slot(name, text, (text, *alts))
        return f'{{{name}}}'

    def action(tokens: list[str]) -> str:   # '[adverb ...] verb [particle]', slotted
        adverbs = [w for w in tokens[:-1] if w.endswith('ly')]
        rest = ' '.join(tokens[len(adverbs):])
        head = [slot(a, 'r', VERB_SENSES) for a in adverbs]
        verb = slot(rest, 'v', VERB_SENSES)
        return ' '.join(head + [verb])

    templates: list[str] = []
    for ts in table.tasks.values():
        for t in ts:
            m = _TEMPLATE.match(t)
            if m is None or not m['pre'].strip():
                templates.append(t)
                continue
            pre, obj, post = m['pre'].split(), m['obj'], m['post']
            templates.append(f'{action(pre)} the {SLOT} {obj}{post}')
            # the object first: 'the red cube, pick it up' ('pick up the' / 'pick the .. up')
            if pre[-1] == 'up':
                pre, tail = pre[:-1], ' it up'
            elif post.startswith(' up'):
                tail, post = ' it up', post[3:]
            else:
                tail = ' it'
            templates.append(f'the {SLOT} {obj} {action(pre)}{tail}{post}')
    if table.objects:
        objs = '|'.join(table.objects)
        templates = [re.sub(rf'\b({objs})\b', '{obj}', t) for t in templates]
    colours = {}
    for c in table.colours:
        alts = _lemmas(lexicon, c, 'a', COLOUR_SENSES, (SIMILAR,))
        alts += _lemmas(lexicon, c, 'n', COLOUR_SENSES, (HYPONYM,))
        colours[c] = (c, *dict.fromkeys(w for w in alts if known(w) and w != c and
                                        ident.colour_of([w])[1] == {c}))
    # the dictionary is lower case ('I say now' -> 'i say now')
    templates = [' '.join(t.replace(',', ' ').lower().split()) for t in templates]
    return CommandVocabulary(tuple(dict.fromkeys(templates)), slots, colours,
                             tuple(table.objects) or ('cube',))


def intent_meaning(identifier: IntentIdentifier) -> Callable[[str], tuple[str, str] | None]:
    """Return ``text -> (task, colour)`` the identifier reads from it (None: it refuses)."""
    def meaning(text: str) -> tuple[str, str] | None:
        v = identifier.identify(text)
        return (v.task, v.colour) if v.understood else None
    return meaning
