"""
A task table: task name -> training templates with a ``{c}`` colour slot (ROS-free).

What :class:`~vla_ros.core.language.intent.IntentIdentifier` decides between, read from a
``command_tasks`` YAML file; :meth:`TaskTable.parameter_groups` finds the words that alone set
two tasks apart (``left`` / ``right``: push_left vs push_right), which a command must name as
it names a colour.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
import re

from vla_ros.errors import ConfigError

SLOT = '{c}'
# Words shared by commands of every task: not evidence for any one task.
FUNCTION_WORDS = frozenset({'the', 'a', 'an', 'it', 'to', 'and', 'then', 'up', 'you', 'at',
                            'when', 'until', 'of', 'on', 'me', 'my', 'i', 'this', 'that', 'its',
                            'please', 'could', 'would', 'can', 'will', 'kindly', 'for', 'with',
                            'object', 'thing', 'want', 'need', 'like', 'd', 'try', 'just'})


def words(text: str) -> list[str]:
    """Return the lower-case words of ``text`` (letters only)."""
    return re.findall(r'[a-z]+', text.lower())


@dataclass(frozen=True)
class TaskTable:
    """
    Task name -> its training templates (``{c}`` = the colour); the colours trained on.

    ``objects``: the names the templates give the object ('cube', 'block'); interchangeable,
    they say nothing about the task.
    """

    tasks: Mapping[str, tuple[str, ...]]
    colours: tuple[str, ...]
    objects: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if not self.tasks or not self.colours:
            raise ConfigError(f'a task table needs tasks and colours, got {dict(self.tasks)!r} '
                              f'/ {self.colours!r}')
        for name, templates in self.tasks.items():
            if not templates or any(t.count(SLOT) != 1 for t in templates):
                raise ConfigError(f'task {name!r}: every template needs exactly one {SLOT} slot,'
                                  f' got {templates!r}')

    @classmethod
    def from_mapping(cls, raw: Mapping[str, object]) -> TaskTable:
        """Build from ``{colours: [...], objects: [...], tasks: {name: [template, ...]}}``."""
        tasks, colours, objects = raw.get('tasks'), raw.get('colours'), raw.get('objects', [])
        if not isinstance(tasks, Mapping) or not isinstance(colours, list) or not isinstance(
                objects, list) or not all(isinstance(v, list) for v in tasks.values()):
            raise ConfigError('a task table is {colours: [names], objects: [names], tasks: '
                              f'{{task: [templates]}}}}, got {dict(raw)!r}')
        return cls({str(k): tuple(str(t) for t in v) for k, v in tasks.items()},
                   tuple(str(c) for c in colours), tuple(str(o) for o in objects))

    def to_mapping(self) -> dict[str, object]:
        """Return the mapping :meth:`from_mapping` reads."""
        return {'colours': list(self.colours), 'objects': list(self.objects),
                'tasks': {k: list(v) for k, v in self.tasks.items()}}

    def vocabulary(self) -> frozenset[str]:
        """Return every word of every template (colours filled in)."""
        return frozenset(w for ts in self.tasks.values() for t in ts for c in self.colours
                         for w in words(t.replace(SLOT, c)))

    def canonical(self, task: str, colour: str) -> str:
        """Return the canonical instruction of ``task`` for ``colour`` (its first template)."""
        return self.tasks[task][0].replace(SLOT, colour)

    def parameter_groups(self) -> tuple[frozenset[str], ...]:
        """
        Return the groups of words that alone set tasks apart (e.g. ``{left, right}``).

        Two templates of different tasks that differ in exactly one word and share a content
        word (the action: 'push') make those two words a pair ('touch the cube' / 'lift the
        cube' share none: the verbs are the tasks); pairs sharing a word join one group. A task
        *needs* a group when every one of its templates uses a word of it (push_left needs
        {left, right}).
        """
        toks = [(task, words(t.replace(SLOT, ' slot '))) for task, ts in self.tasks.items()
                for t in ts]
        groups: list[set[str]] = []
        for i, (ta, a) in enumerate(toks):
            for tb, b in toks[i + 1:]:
                diff = [(x, y) for x, y in zip(a, b) if x != y]
                shared = set(a) & set(b) - FUNCTION_WORDS - set(self.objects) - {'slot'}
                if ta == tb or len(a) != len(b) or len(diff) != 1 or not shared:
                    continue
                pair = set(diff[0])
                joined = [g for g in groups if g & pair]
                for g in joined:
                    groups.remove(g)
                    pair |= g
                groups.append(pair)
        return tuple(frozenset(g) for g in sorted(groups, key=sorted))

    def needs(self, task: str, group: frozenset[str]) -> bool:
        """Return whether every template of ``task`` names a word of ``group``."""
        return all(group & set(words(t)) for t in self.tasks[task])

    def defining_words(self, task: str) -> list[frozenset[str]]:
        """
        Return the groups of words that define ``task``: a command names one of each.

        A word every template of the task uses and no other task's ('beep'; 'now'), one group
        each; then the task's other own words, one group, when every template has one of them
        (keyword: 'say' / 'word' -- 'now lift the cube' does not ask for the keyword task).
        'pick up the cube and drop it' is not the beep task, however close the rest is.
        """
        toks = [set(words(t)) for t in self.tasks[task]]
        others = {w for k, ts in self.tasks.items() if k != task for t in ts for w in words(t)}
        skip = others | FUNCTION_WORDS | set(self.objects) | set(self.colours)
        every = set.intersection(*toks) - skip
        rest = set.union(*toks) - skip - every
        out = [frozenset({w}) for w in sorted(every)]
        return out + ([frozenset(rest)] if rest and all(t & rest for t in toks) else [])

    def modifiers(self, task: str) -> frozenset[str]:
        """
        Return the words that turn another task's template into one of ``task``'s ('gently').

        'gently pick up the {c} cube' is 'pick up the {c} cube' (pick) and one word: the gentle
        task is the pick task done a certain way, and a command must say which way.
        """
        other = {tuple(_tokens(t)) for k, ts in self.tasks.items() if k != task for t in ts}
        return frozenset(a[i] for a in (_tokens(t) for t in self.tasks[task])
                         for i in range(len(a)) if tuple(a[:i] + a[i + 1:]) in other
                         ) - FUNCTION_WORDS

    def phrasal(self, is_phrase: Callable[[str], bool]) -> dict[str, str]:
        """
        Return word -> the phrasal verb it is part of wherever the templates use it.

        'pick' -> 'pick up' when every template with 'pick' has 'up' and ``is_phrase('pick
        up')`` (a lexicon lemma); 'go' and 'let' -> 'let go'.
        """
        toks = [_tokens(t) for ts in self.tasks.values() for t in ts]
        out: dict[str, str] = {}
        for a, b in {(x, y) for t in toks for x, y in zip(t, t[1:])}:
            if is_phrase(f'{a} {b}'):
                for w, other in ((a, b), (b, a)):
                    if w not in FUNCTION_WORDS and all(other in t for t in toks if w in t):
                        out[w] = f'{a} {b}'
        return out

    def contains(self, task: str, part: str) -> bool:
        """Return whether a template of ``task`` holds one of ``part``'s (keyword: pick)."""
        return any(p in t for p in self.tasks[part] for t in self.tasks[task])


def _tokens(template: str) -> list[str]:
    return words(template.replace(SLOT, ' slot '))
