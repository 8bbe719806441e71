"""
What every ``vla-ros`` command shares: help that shows defaults, one-line errors, signals.

A command fails with one line on stderr (``vla-ros eval: error: ...``) and a non-zero exit
status, never a traceback: usage errors exit 2, :class:`~vla_ros.errors.VlaRosError` 1.
SIGTERM is handled like Ctrl-C (``KeyboardInterrupt`` in the main thread), so ``finally``
blocks stop the nodes a command started whatever ends it.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable, Iterable
import difflib
import os
import signal
import sys

from vla_ros.errors import UsageError, VlaRosError

_received: list[int] = []


class HelpFormatter(argparse.RawDescriptionHelpFormatter):
    """
    Help formatter that keeps description line breaks and shows defaults.

    Appends ``(default: X)`` to every option whose help does not already say its default
    (``None`` and ``False`` defaults are not shown).
    """

    def _get_help_string(self, action: argparse.Action) -> str:
        text = action.help or ''
        default = action.default
        if ('default' in text or default is None or default is False
                or default is argparse.SUPPRESS or default == []):
            return text
        if action.option_strings or action.nargs in (argparse.OPTIONAL,
                                                     argparse.ZERO_OR_MORE):
            return text + ' (default: %(default)s)'
        return text


class ArgumentParser(argparse.ArgumentParser):
    """argparse with :class:`HelpFormatter` and one-line usage errors (exit 2)."""

    def __init__(self, *args, **kwargs) -> None:
        kwargs.setdefault('formatter_class', HelpFormatter)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> None:  # type: ignore[override]
        print(f'{self.prog}: error: {message} (see {self.prog} --help)', file=sys.stderr)
        sys.exit(2)


def add_namespace_argument(parser: argparse.ArgumentParser) -> None:
    """``--namespace/-n``: the ROS namespace of the robot a command addresses."""
    parser.add_argument('--namespace', '-n', default='',
                        help='ROS namespace of the robot, e.g. robot1 (as robot.launch.py '
                             "namespace:=robot1); '' = the root namespace")


def ros_namespace(text: str) -> str:
    """Return a ``--namespace`` as a node namespace: ``robot1`` -> ``/robot1``, ``''`` -> ``/``."""
    return '/' + text.strip().strip('/')


def one_line(text: object) -> str:
    """``text`` with its line breaks folded (an error message must fit one line)."""
    return ' | '.join(ln.strip() for ln in str(text).splitlines() if ln.strip())


def nearest(word: str, choices: Iterable[str]) -> str:
    """`` (did you mean 'x'?)`` for the closest choice (difflib), or ``''``."""
    close = difflib.get_close_matches(word, list(choices), n=1, cutoff=0.6)
    return f' (did you mean {close[0]!r}?)' if close else ''


def parse_choices(text: str, choices: Iterable[str], what: str, *,
                  all_word: str = 'all') -> list[str]:
    """
    Parse a comma-separated list, each item one of ``choices`` (or ``all_word`` for all).

    Raises :class:`UsageError` naming the bad item and the nearest valid one.
    """
    valid = list(choices)
    if text == all_word:
        return valid
    items = [t.strip() for t in text.split(',') if t.strip()]
    if not items:
        raise UsageError(f'no {what} given; choose from {", ".join(valid)} or {all_word}')
    for item in items:
        if item not in valid:
            raise UsageError(f'unknown {what} {item!r}{nearest(item, valid)}; choose from '
                             f'{", ".join(valid)} or {all_word}')
    return items


def _on_signal(signum: int, frame: object) -> None:
    if _received:
        return  # already stopping: let the cleanup that the first signal started finish
    _received.append(signum)
    raise KeyboardInterrupt


def install_signal_handlers() -> dict[int, object]:
    """
    Make SIGTERM (and SIGINT) raise ``KeyboardInterrupt`` once.

    Later signals are ignored so that cleanup is not interrupted. Call before ``rclpy.init``
    (rclpy chains to these). Returns the previous handlers.
    """
    _received.clear()
    return {sig: signal.signal(sig, _on_signal) for sig in (signal.SIGTERM, signal.SIGINT)}


def received_signal() -> int | None:
    """Return the signal that interrupted the command, if any."""
    return _received[0] if _received else None


def run_command(prog: str, fn: Callable[[], int | None]) -> int:
    """Run ``fn`` with the shared signal handling and error reporting; returns the status."""
    previous = install_signal_handlers()
    try:
        return int(fn() or 0)
    except KeyboardInterrupt:
        sig = received_signal() or signal.SIGINT
        print(f'{prog}: interrupted by {signal.Signals(sig).name}; stopped', file=sys.stderr)
        return 128 + int(sig)
    except BrokenPipeError:
        # the reader went away (`vla-ros status -f | head`): stop quietly
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 0
    except UsageError as e:
        print(f'{prog}: error: {one_line(e)} (see {prog} --help)', file=sys.stderr)
        return 2
    except VlaRosError as e:
        print(f'{prog}: error: {one_line(e)}', file=sys.stderr)
        return 1
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
