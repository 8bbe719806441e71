"""
Held-out evaluation sets: (task, seed) pairs per task kind from a named seed block (ROS-free).

Above the command sets it draws from: the paraphrases of :mod:`vla_ros.sim.task_suite`, the
held-out words and the multi-word commands of :mod:`vla_ros.sim.language`.
"""

from __future__ import annotations

from vla_ros.errors import ConfigError
from vla_ros.sim.language import held_out_word_task, multi_word_task
from vla_ros.sim.task_suite import episode_seed, make_task, TaskKind, TaskSpec

# what eval's held-out commands are
LANGUAGE_SETS = ('paraphrases', 'held_out_words', 'multi_word')


def eval_tasks(episodes: int, kinds: list[str] | None = None, *, block: str = 'dev',
               seed_offset: int = 0, paraphrase_every: int = 2,
               language: str = 'paraphrases') -> list[tuple[TaskSpec, int]]:
    """
    Return the held-out evaluation set: ``episodes`` per kind as (task, seed) pairs.

    Seeds come from ``block`` (``'dev'`` or ``'test'``,
    :data:`~vla_ros.sim.task_suite.SEED_BLOCKS`), starting ``seed_offset`` into it. Every
    ``paraphrase_every``-th episode (index 1, 3, ... for 2; all of them for 1; none for 0) uses
    a held-out command: a paraphrase (``language='paraphrases'``) or a command with words no
    training phrasing contains (``'held_out_words'``, :mod:`vla_ros.sim.language`) or several
    of them at once (``'multi_word'``). The seed
    of (episode, kind) does not depend on which kinds are asked for.
    """
    if language not in LANGUAGE_SETS:
        raise ConfigError(f'language must be one of {LANGUAGE_SETS}, got {language!r}')
    every = [k.value for k in TaskKind]
    out = []
    for i in range(episodes):
        for k in kinds or every:
            seed = episode_seed(block, seed_offset, i, k)
            held = paraphrase_every > 0 and (i + 1) % paraphrase_every == 0
            if held and language == 'held_out_words':
                out.append((held_out_word_task(k, seed), seed))
            elif held and language == 'multi_word':
                out.append((multi_word_task(k, seed), seed))
            else:
                out.append((make_task(k, seed, held_out=held), seed))
    return out
