"""
A small reader of the WordNet 3.0 database files (Debian ``wordnet-base``), offline (ROS-free).

Only what command understanding needs: the synsets of a word (with WordNet's own inflection
rules and exception lists, e.g. ``raised`` -> ``raise``), their lemmas, glosses and pointers
(hypernym ``@``, similar-to ``&``, ...). The index files are read once (~1 s for all four parts
of speech); a synset is read from its data file by byte offset when first asked for, then
cached. Format: ``wndb(5WN)``.
"""

from __future__ import annotations

from dataclasses import dataclass
import functools
from pathlib import Path

from vla_ros.errors import ConfigError

DEFAULT_WORDNET_DIR = Path('/usr/share/wordnet')   # Debian wordnet-base
POS_FILES = {'n': 'noun', 'v': 'verb', 'a': 'adj', 'r': 'adv'}
HYPERNYM_POINTERS = ('@', '@i')
SIMILAR_POINTER = '&'
ANTONYM_POINTER = '!'
PERTAINYM_POINTER = '\\'   # an adverb's adjective ('carefully' -> careful)
DERIVED_POINTER = '+'     # derivationally related ('careful' -> care, carefulness)
STEM_LETTERS = 4          # a derived form shares this many first letters with its word
# WordNet's morphy detachment rules (suffix, ending) per part of speech
_DETACH: dict[str, tuple[tuple[str, str], ...]] = {
    'n': (('s', ''), ('ses', 's'), ('xes', 'x'), ('zes', 'z'), ('ches', 'ch'), ('shes', 'sh'),
          ('men', 'man'), ('ies', 'y')),
    'v': (('s', ''), ('ies', 'y'), ('es', 'e'), ('es', ''), ('ed', 'e'), ('ed', ''),
          ('ing', 'e'), ('ing', '')),
    'a': (('er', ''), ('est', ''), ('er', 'e'), ('est', 'e')),
    'r': (),
}


@dataclass(frozen=True)
class Synset:
    """One synset: part of speech, byte offset, lemmas (lower case, ``_`` -> space), pointers."""

    pos: str
    offset: int
    lemmas: tuple[str, ...]
    pointers: tuple[tuple[str, str, int], ...]   # (symbol, target pos, target offset)
    gloss: str


class WordNet:
    """
    The WordNet database in ``root`` (``index.*``, ``data.*``, ``*.exc`` files).

    Raises :class:`ConfigError` naming the missing file when the database is not there
    (``apt-get install wordnet-base``).
    """

    def __init__(self, root: str | Path = DEFAULT_WORDNET_DIR) -> None:
        self.root = Path(root)
        self._index: dict[str, dict[str, tuple[int, ...]]] = {}
        self._exc: dict[str, dict[str, tuple[str, ...]]] = {}
        for pos, name in POS_FILES.items():
            self._index[pos] = _read_index(self._file(f'index.{name}'))
            exc = self.root / f'{name}.exc'
            self._exc[pos] = _read_exc(exc) if exc.exists() else {}
        self._data = {pos: self._file(f'data.{name}').open('rb') for pos, name in
                      POS_FILES.items()}

    def _file(self, name: str) -> Path:
        path = self.root / name
        if not path.is_file():
            raise ConfigError(f'WordNet database file {path} not found (Debian: apt-get install '
                              'wordnet-base)')
        return path

    def base_forms(self, word: str, pos: str) -> list[str]:
        """Return the lemmas ``word`` may be an inflection of in ``pos`` (itself first)."""
        word = word.lower().replace(' ', '_')
        index = self._index[pos]
        out = [word] if word in index else []
        out += [b for b in self._exc[pos].get(word, ()) if b in index and b not in out]
        for suffix, ending in _DETACH[pos]:
            if word.endswith(suffix) and len(word) > len(suffix) + 1:
                base = word[:len(word) - len(suffix)] + ending
                if base in index and base not in out:
                    out.append(base)
        return out

    def synsets(self, word: str, pos: str | None = None) -> list[Synset]:
        """Return the synsets of ``word`` (most frequent sense first), one or all POS."""
        out: list[Synset] = []
        for p in (pos,) if pos else tuple(POS_FILES):
            for base in self.base_forms(word, p):
                out += [self.synset(p, off) for off in self._index[p][base]]
        return out

    @functools.lru_cache(maxsize=4096)
    def synset(self, pos: str, offset: int) -> Synset:
        """Return the synset at byte ``offset`` of the ``pos`` data file."""
        f = self._data['a' if pos == 's' else pos]
        f.seek(offset)
        line = f.readline().decode('utf-8')
        head, _, gloss = line.partition(' | ')
        t = head.split()
        n_words = int(t[3], 16)
        lemmas = tuple(t[4 + 2 * i].lower().split('(')[0].replace('_', ' ')
                       for i in range(n_words))
        k = 4 + 2 * n_words
        n_ptr = int(t[k])
        ptrs = tuple((t[k + 1 + 4 * i], t[k + 3 + 4 * i], int(t[k + 2 + 4 * i]))
                     for i in range(n_ptr))
        return Synset('a' if pos == 's' else pos, offset, lemmas, ptrs, gloss.strip())

    def related(self, synset: Synset, symbols: tuple[str, ...]) -> list[Synset]:
        """Return the synsets ``synset`` points to with any of ``symbols``."""
        return [self.synset(p, off) for s, p, off in synset.pointers if s in symbols]

    def contrast_senses(self, word: str, others: frozenset[str]) -> frozenset[tuple[str, int]]:
        """Return (pos, offset) of the senses of ``word`` with an antonym among ``others``."""
        return frozenset((s.pos, s.offset) for s in self.synsets(word)
                         if any(others & set(a.lemmas)
                                for a in self.related(s, (ANTONYM_POINTER,))))

    def derived_forms(self, adverb: str) -> frozenset[str]:
        """
        Return the words an adverb is derived from, and theirs ('carefully' -> careful, care).

        Its adjectives (pertainym pointers) and their derivations, kept when they share the
        first :data:`STEM_LETTERS` letters with ``adverb`` (the same stem, not a synonym).
        """
        out = set()
        for s in self.synsets(adverb, 'r'):
            for adj in self.related(s, (PERTAINYM_POINTER,)):
                for d in [adj] + self.related(adj, (DERIVED_POINTER,)):
                    out |= {w for w in d.lemmas if w[:STEM_LETTERS] == adverb[:STEM_LETTERS]}
        return frozenset(out - {adverb})

    def neighbours(self, word: str) -> set[str]:
        """Return the lemmas of the senses of ``word`` and of their similar-to senses."""
        return {w for s in self.synsets(word) for r in [s] + self.related(s, ('&',))
                for w in r.lemmas}

    def mostly_verb(self, word: str) -> bool:
        """Return whether ``word`` has at least as many verb senses as of any other kind."""
        n = {p: len(self.synsets(word, p)) for p in POS_FILES}
        return n['v'] > 0 and n['v'] >= max(n.values())

    def close(self) -> None:
        """Close the data files."""
        for f in self._data.values():
            f.close()


def _read_index(path: Path) -> dict[str, tuple[int, ...]]:
    out: dict[str, tuple[int, ...]] = {}
    with path.open(encoding='utf-8') as f:
        for line in f:
            if line.startswith(' '):
                continue   # the licence header
            t = line.split()
            n_syn, n_ptr = int(t[2]), int(t[3])
            out[t[0]] = tuple(int(o) for o in t[6 + n_ptr:6 + n_ptr + n_syn])
    return out


def _read_exc(path: Path) -> dict[str, tuple[str, ...]]:
    out: dict[str, tuple[str, ...]] = {}
    with path.open(encoding='utf-8') as f:
        for line in f:
            t = line.split()
            if len(t) >= 2:
                out[t[0]] = tuple(t[1:])
    return out
