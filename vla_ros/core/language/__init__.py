"""Command understanding: which task a command asks for (ROS-free)."""

from vla_ros.core.language.command_tasks import load_task_table, open_intent
from vla_ros.core.language.intent import (DEFAULT_LEXICAL_WEIGHT, DEFAULT_MARGIN,
                                          DEFAULT_MIN_SCORE, Intent, IntentIdentifier, TaskTable)
from vla_ros.core.language.wordnet import DEFAULT_WORDNET_DIR, Synset, WordNet

__all__ = ['DEFAULT_LEXICAL_WEIGHT', 'DEFAULT_MARGIN', 'DEFAULT_MIN_SCORE', 'DEFAULT_WORDNET_DIR',
           'Intent', 'IntentIdentifier', 'load_task_table', 'open_intent', 'Synset', 'TaskTable',
           'WordNet']
