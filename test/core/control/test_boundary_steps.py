"""The velocity step at chunk boundaries (BoundarySteps), on hand-made command streams."""

from __future__ import annotations

import numpy as np
import pytest
from vla_ros.core.control.boundary_steps import BoundaryMeter, BoundarySteps

T = 0.1  # control period [s]


def feed(meter: BoundarySteps, qs, seqs) -> BoundarySteps:
    for q, s in zip(qs, seqs):
        meter.add(None if q is None else np.array([q, 0.0]), s)
    return meter


def test_a_smooth_hand_over_has_no_step():
    m = feed(BoundarySteps(T), [0.0, 0.1, 0.2, 0.3, 0.4, 0.5], [1, 1, 1, 2, 2, 2])
    assert m.boundaries == 1 and m.max_step == pytest.approx(0.0, abs=1e-9)


def test_a_position_jump_at_the_switch_is_measured_at_its_size():
    # constant velocity 1 rad/s, the new chunk starts 0.05 rad further: v jumps 1 -> 1.5 -> 1
    m = feed(BoundarySteps(T), [0.0, 0.1, 0.2, 0.35, 0.45, 0.55], [1, 1, 1, 2, 2, 2])
    assert m.boundaries == 1 and m.max_step == pytest.approx(0.5)


def test_steps_inside_a_chunk_do_not_count():
    m = feed(BoundarySteps(T), [0.0, 0.1, 0.5, 0.5, 0.6], [1, 1, 1, 1, 1])
    assert m.boundaries == 0 and m.max_step == 0.0


def test_a_stall_that_ends_with_a_new_chunk_is_a_boundary():
    # moving, held (seq None) at 0.2, then the new chunk at once 0.1 further on
    m = feed(BoundarySteps(T), [0.0, 0.1, 0.2, 0.2, 0.3, 0.4], [1, 1, 1, None, 2, 2])
    assert m.boundaries == 1 and m.max_step == pytest.approx(1.0)


def test_nothing_sent_breaks_the_history_and_reset_forgets():
    m = feed(BoundarySteps(T), [0.0, 0.1, None, 0.9, 1.0], [1, 1, None, 2, 2])
    assert m.boundaries == 0  # no step spans a tick without a command
    feed(m, [None, 0.0, 0.1, 0.2, 0.5, 0.6], [None, 3, 3, 3, 4, 4])
    assert m.boundaries == 1 and m.max_step > 0
    m.reset()
    assert (m.boundaries, m.max_step) == (0, 0.0)


def test_the_period_must_be_positive():
    with pytest.raises(ValueError, match='period_s'):
        BoundarySteps(0.0)


def test_the_meter_sees_the_planned_jump_that_the_filter_caps_in_the_command():
    m = BoundaryMeter(T)
    # planned: a new chunk 0.3 rad ahead; commanded: the filter lets the arm follow slowly
    planned = [0.0, 0.1, 0.2, 0.6, 0.7]
    sent = [0.0, 0.1, 0.2, 0.32, 0.44]
    for p, c, s in zip(planned, sent, [1, 1, 1, 2, 2]):
        m.add(np.array([p]), np.array([c]), s)
    assert m.planned.max_step == pytest.approx(3.0) and m.commanded.max_step == pytest.approx(0.2)
    m.add(None, np.array([0.44]), None)  # a hold: planned takes the held position
    assert m.planned.boundaries == m.commanded.boundaries == 1
    m.reset()
    assert m.planned.max_step == m.commanded.max_step == 0.0
