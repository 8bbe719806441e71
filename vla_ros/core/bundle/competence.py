"""
Command competence: refuse commands the bundle was not trained for, instead of guessing.

A bundle may carry, under ``text_encoder.competence``, the commands it was trained on and how
close a new command must come to them::

    competence:
      commands: [pick up the red cube, ...]   # training commands (texts)
      min_similarity: 0.45   # cosine of the semantic part to the nearest training command
      semantic_dims: 384     # the first dims of the embedding compared by cosine (0 = all)
      colour_offset: 384     # optional: a 3-d colour part at this offset (grounded encoder)
      max_colour_angle_deg: 50

The training commands are embedded with the bundle's own text encoder when the runtime opens
(no second copy of the embeddings that could drift from the encoder). A command is
understood when its semantic part is within ``min_similarity`` of a training command and,
with a colour part, when it names exactly one colour (a hue vector of length ~1) within
``max_colour_angle_deg`` of a colour the training commands name (or names none, when they
name none). ROS-free.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from vla_ros.errors import BundleManifestError, InferenceError

COLOUR_DIM = 3
REFUSAL_PREFIX = 'command not understood'  # every refusal reason starts with it (~/status)
ONE_COLOUR_MIN_NORM = 0.9   # below: several colour words averaged (ambiguous)
NO_COLOUR_MAX_NORM = 0.1    # below: the command names no colour
DEFAULT_MAX_COLOUR_ANGLE_DEG = 50.0   # the training hues are >= 101 deg apart
# Default for MiniLM-based encoders: just under the lowest similarity between a training
# phrasing and the nearest *other* phrasing of the same task in the sim task suite (0.47,
# "pick the red block up" vs "pick up the red cube"), i.e. as far as a rephrasing the training
# data itself contains. test/nodes/test_command_competence.py recomputes it on the default bundle.
DEFAULT_MIN_SIMILARITY = 0.45
COMPETENCE_KEYS = frozenset({'commands', 'min_similarity', 'semantic_dims', 'colour_offset',
                             'max_colour_angle_deg'})


class CommandNotUnderstood(InferenceError):
    """A command is too far from everything the bundle was trained for; the robot holds."""


@dataclass(frozen=True)
class CompetenceSpec:
    """The ``text_encoder.competence`` section of a bundle manifest."""

    commands: tuple[str, ...]
    min_similarity: float
    semantic_dims: int = 0
    colour_offset: int | None = None
    max_colour_angle_deg: float = DEFAULT_MAX_COLOUR_ANGLE_DEG

    @classmethod
    def from_manifest(cls, raw: Mapping[str, Any]) -> CompetenceSpec:
        """Validate and build from the manifest dict; BundleManifestError names what is wrong."""
        unknown = set(raw) - COMPETENCE_KEYS
        if unknown:
            raise BundleManifestError(f'text_encoder.competence: unknown keys {sorted(unknown)}; '
                                      f'expected some of {sorted(COMPETENCE_KEYS)}')
        cmds = raw.get('commands')
        if not isinstance(cmds, list) or not cmds or not all(
                isinstance(c, str) and c.strip() for c in cmds):
            raise BundleManifestError('text_encoder.competence.commands must be a non-empty '
                                      f'list of command texts, got {cmds!r}')
        try:
            spec = cls(tuple(cmds), float(raw['min_similarity']),
                       int(raw.get('semantic_dims', 0)),
                       None if raw.get('colour_offset') is None else int(raw['colour_offset']),
                       float(raw.get('max_colour_angle_deg', DEFAULT_MAX_COLOUR_ANGLE_DEG)))
        except (KeyError, TypeError, ValueError) as e:
            raise BundleManifestError(f'text_encoder.competence: min_similarity (number) is '
                                      f'required; semantic_dims / colour_offset are integers, '
                                      f'max_colour_angle_deg a number; got {dict(raw)!r}') from e
        if not -1.0 <= spec.min_similarity <= 1.0 or not 0 < spec.max_colour_angle_deg <= 180:
            raise BundleManifestError(f'text_encoder.competence: min_similarity in [-1, 1] and '
                                      f'max_colour_angle_deg in (0, 180], got {dict(raw)!r}')
        return spec

    def to_manifest(self) -> dict[str, Any]:
        """Return the manifest dict (inverse of :meth:`from_manifest`)."""
        out: dict[str, Any] = {'commands': list(self.commands),
                               'min_similarity': round(self.min_similarity, 4),
                               'semantic_dims': self.semantic_dims}
        if self.colour_offset is not None:
            out |= {'colour_offset': self.colour_offset,
                    'max_colour_angle_deg': self.max_colour_angle_deg}
        return out


@dataclass(frozen=True)
class Verdict:
    """Whether a command is understood, its nearest training command and their similarity."""

    understood: bool
    nearest: str
    similarity: float
    reason: str = ''


class CompetenceCheck:
    """Judges command embeddings against the training commands of a bundle."""

    def __init__(self, spec: CompetenceSpec, embed: Callable[[str], np.ndarray]) -> None:
        self.spec = spec
        bank = np.stack([np.asarray(embed(c), np.float32) for c in spec.commands])
        dim = bank.shape[1]
        self._sem = slice(0, spec.semantic_dims or dim)
        off = spec.colour_offset
        if off is not None and not 0 <= off <= dim - COLOUR_DIM:
            raise BundleManifestError(f'text_encoder.competence.colour_offset {off} does not fit '
                                      f'a {dim}-d embedding')
        self._col = None if off is None else slice(off, off + COLOUR_DIM)
        self._bank = _unit(bank[:, self._sem])
        self._colours = None if self._col is None else bank[:, self._col]

    def judge(self, text: str, embedding: np.ndarray) -> Verdict:
        """Return the verdict on ``text`` whose embedding (D,) the bundle's encoder computed."""
        sims = self._bank @ _unit(np.asarray(embedding, np.float32)[self._sem])
        best = float(sims.max())
        tied = np.flatnonzero(sims >= best - 1e-4)
        if self._col is None:
            nearest = self.spec.commands[int(tied[0])]
            return self._semantic_verdict(best, nearest)
        colour = np.asarray(embedding, np.float32)[self._col]
        # among equally near commands (colour words masked), the one of the nearest colour
        near_col = self._colours[tied] @ colour
        nearest = self.spec.commands[int(tied[int(np.argmax(near_col))])]
        v = self._semantic_verdict(best, nearest)
        if not v.understood:
            return v
        norm = float(np.linalg.norm(colour))
        known = self._colours[np.linalg.norm(self._colours, axis=1) > NO_COLOUR_MAX_NORM]
        if norm <= NO_COLOUR_MAX_NORM:
            if len(known):
                return Verdict(False, nearest, best, f'{REFUSAL_PREFIX}: it names no '
                               f'colour (nearest: "{nearest}", {best:.2f})')
            return v
        if norm < ONE_COLOUR_MIN_NORM:
            return Verdict(False, nearest, best, f'{REFUSAL_PREFIX}: it names more than '
                           f'one colour (nearest: "{nearest}", {best:.2f})')
        if not len(known):
            return Verdict(False, nearest, best, f'{REFUSAL_PREFIX}: the policy was '
                           f'trained on no colours (nearest: "{nearest}", {best:.2f})')
        cos = np.clip(_unit(known) @ (colour / norm), -1.0, 1.0)
        angle = float(np.degrees(np.arccos(cos.max())))
        if angle > self.spec.max_colour_angle_deg:
            return Verdict(False, nearest, best, f'{REFUSAL_PREFIX}: its colour is '
                           f'{angle:.0f} deg from every colour it was trained on (nearest: '
                           f'"{nearest}", {best:.2f})')
        return v

    def _semantic_verdict(self, best: float, nearest: str) -> Verdict:
        if best < self.spec.min_similarity:
            return Verdict(False, nearest, best,
                           f'{REFUSAL_PREFIX} (nearest: "{nearest}", {best:.2f})')
        return Verdict(True, nearest, best)


def _unit(x: np.ndarray) -> np.ndarray:
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return x / np.maximum(n, 1e-12)


def training_commands(commands: Sequence[str]) -> list[str]:
    """Return the distinct training commands, sorted (what a bundle's competence lists)."""
    return sorted({c.strip() for c in commands if c.strip()})
