"""
The identifier a policy node uses: its task table file, WordNet and the bundle's text encoder.

:func:`open_intent` builds an :class:`~vla_ros.core.language.intent.IntentIdentifier` from the
``command_*`` parameters (None when ``command_tasks`` is empty); the bundle's text encoder and
competence settings (semantic dims, grounded colour part) supply the cosine and the colour
fallback. ROS-free.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
from vla_ros.core.bundle.competence import CompetenceCheck, ONE_COLOUR_MIN_NORM
from vla_ros.core.language.intent import DEFAULT_LEXICAL_WEIGHT, IntentIdentifier, TaskTable
from vla_ros.core.language.wordnet import WordNet
from vla_ros.core.runtime.text_encoder import TextEncoder
from vla_ros.errors import ConfigError
import yaml


def load_task_table(path: str | Path) -> TaskTable:
    """Read a task table YAML file; ConfigError names the file and what is wrong."""
    try:
        raw = yaml.safe_load(Path(path).read_text(encoding='utf-8'))
    except (OSError, yaml.YAMLError) as e:
        raise ConfigError(f'command_tasks: cannot read {path}: {e}') from e
    if not isinstance(raw, dict):
        raise ConfigError(f'command_tasks: {path} holds no mapping')
    try:
        return TaskTable.from_mapping(raw)
    except ConfigError as e:
        raise ConfigError(f'command_tasks {path}: {e}') from e


def open_intent(tasks_file: str, *, encoder: TextEncoder | None,
                competence: CompetenceCheck | None, lexicon_dir: str = '',
                min_score: float, margin: float) -> IntentIdentifier | None:
    """
    Return the identifier for ``tasks_file`` ('' = None: no identification).

    Without a text encoder the word evidence decides alone; with a grounded encoder (a colour
    part in its competence section) a colour no word names is read from the colour part.
    """
    if not tasks_file:
        return None
    table = load_task_table(tasks_file)
    lexicon = WordNet(lexicon_dir) if lexicon_dir else None
    if encoder is None:
        return IntentIdentifier(table, None, lexicon=lexicon, min_score=min_score,
                                margin=margin, lexical_weight=1.0)
    spec = competence.spec if competence is not None else None
    with encoder.hold():  # the templates and training words are embedded once, here
        hue = None
        if spec is not None and spec.colour_offset is not None:
            hue = hue_colour(encoder.embed, spec.colour_offset, table.colours,
                             max_angle_deg=spec.max_colour_angle_deg)
        return IntentIdentifier(table, encoder.embed,
                                semantic_dims=spec.semantic_dims if spec else 0,
                                lexicon=lexicon, min_score=min_score, margin=margin,
                                lexical_weight=DEFAULT_LEXICAL_WEIGHT, colour_head=hue)


def hue_colour(embed: Callable[[str], np.ndarray], offset: int, colours: Sequence[str], *,
               max_angle_deg: float, template: str = 'the {c} cube'
               ) -> Callable[[str], str | None]:
    """
    Return ``text -> colour``: the training colour whose hue the encoder's colour part is near.

    The colour part is the 3-d vector at ``offset`` of a grounded encoder (a unit hue when one
    colour is named, ~0 when none, shorter when several); None unless it is one colour within
    ``max_angle_deg`` of a training colour's hue.
    """
    hues = np.stack([np.asarray(embed(template.format(c=c)), np.float32)[offset:offset + 3]
                     for c in colours])
    hues /= np.maximum(np.linalg.norm(hues, axis=1, keepdims=True), 1e-12)
    min_cos = float(np.cos(np.radians(max_angle_deg)))

    def colour(text: str) -> str | None:
        v = np.asarray(embed(text), np.float32)[offset:offset + 3]
        n = float(np.linalg.norm(v))
        if n < ONE_COLOUR_MIN_NORM:
            return None
        cos = hues @ (v / n)
        return colours[int(np.argmax(cos))] if float(cos.max()) >= min_cos else None
    return colour
