"""
Paths linted by test_flake8.py and test_pep257.py, relative to the repository root.

Everything: ``vla_ros launch test bench setup.py scripts`` (issue 16 item 6, phase 2 done).
New files are linted as soon as they exist; ``python scripts/lint_fix.py PATH`` does the
mechanical part of a fix, the rewording is by hand.
"""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]

LINTED = ('vla_ros', 'launch', 'test', 'bench', 'setup.py', 'scripts')


def lint_paths() -> list[str]:
    """Return the files and directories to lint (absolute paths)."""
    return [str(ROOT / p) for p in LINTED]
