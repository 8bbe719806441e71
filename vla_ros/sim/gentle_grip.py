"""
What the gentle task's demonstrator feels: contact, and a cube slipping out of a light grip.

The cube's weight and fragility are hidden (:mod:`vla_ros.sim.cube_physics`), so the expert grips
with a small max effort, raises the cube a few millimetres and feels: a grip too light for
the weight lets the fingers slide up the cube, the cube's upper edge leaves the pad and the
load moves to the fingertip rows. Then it tightens by :data:`EFFORT_GAIN` and tries again. The
only input is the taxel stream the policy gets (``/tactile``, 2 pads x 4 rows x 4 columns, row 0
nearest the fingertip).
"""

from __future__ import annotations

import numpy as np

PADS, ROWS, COLS = 2, 4, 4
EFFORT0_N = 0.4          # first max effort per finger [N] (the lightest cube needs ~0.25)
EFFORT_GAIN = 1.6        # tighten by this after a slip (< the crush margin / a 1.1 lift margin)
EFFORT_MAX_N = 5.0       # the heaviest cube needs ~3.9 per finger [N]
CONTACT_FRACTION = 0.5   # a pad touches when it carries this share of the effort
SLIP_COP_ROWS = 0.25     # the load's centre moving this many rows towards the tips = slip
LOADED_FRACTION = 0.1    # a row is loaded above this share of its pad's most loaded row


def _rows(taxels: np.ndarray) -> np.ndarray:
    """Row sums [N], shape (PADS, ROWS), from the 32 taxel forces."""
    return np.asarray(taxels, float).reshape(PADS, ROWS, COLS).sum(axis=2)


def centres_of_pressure(taxels: np.ndarray) -> np.ndarray:
    """Each pad's load centre in rows (0 = tip row), shape (PADS,); nan for an unloaded pad."""
    rows = _rows(taxels)
    total = rows.sum(axis=1)
    with np.errstate(invalid='ignore', divide='ignore'):
        return np.where(total > 1e-6, (rows * np.arange(ROWS)).sum(axis=1) / total, np.nan)


def top_loaded_row(taxels: np.ndarray) -> np.ndarray:
    """
    Each pad's highest loaded row (0 = tip row; -1 = none), shape (PADS,).

    A row is loaded above :data:`LOADED_FRACTION` of its pad's most loaded row.
    """
    rows = _rows(taxels)
    loaded = rows > LOADED_FRACTION * np.maximum(rows.max(axis=1, keepdims=True), 1e-6)
    return np.where(loaded.any(axis=1), ROWS - 1 - np.argmax(loaded[:, ::-1], axis=1), -1)


def both_pads_touch(taxels: np.ndarray, effort_n: float) -> bool:
    """Both pads carry at least :data:`CONTACT_FRACTION` of the finger effort ``effort_n``."""
    return bool((_rows(taxels).sum(axis=1) >= CONTACT_FRACTION * effort_n).all())


class SlipSense:
    """
    Compares the taxels with a reference taken while the cube stood still in the grip.

    A slip moves the load towards the tips on *both* pads (the fingers slide up together); a
    cube turning in a light grip moves it one way on one pad and the other way on the other.
    """

    def __init__(self) -> None:
        self.ref_cop = np.full(PADS, np.nan)
        self.ref_top = np.full(PADS, -1)

    def reference(self, taxels: np.ndarray) -> None:
        self.ref_cop, self.ref_top = centres_of_pressure(taxels), top_loaded_row(taxels)

    def slipped(self, taxels: np.ndarray) -> bool:
        """Return whether both pads' loads moved tipwards (or off) since :meth:`reference`."""
        cop, top = centres_of_pressure(taxels), top_loaded_row(taxels)
        gone = ~np.isfinite(cop)
        moved = (self.ref_cop - cop >= SLIP_COP_ROWS) | (top < self.ref_top)
        return bool(np.all(gone | moved))


def tighter(effort_n: float) -> float:
    """Return the next max effort after a slip [N]."""
    return min(EFFORT_MAX_N, effort_n * EFFORT_GAIN)
