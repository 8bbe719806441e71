"""The numpy-only parts of the LeRobot bridge: taxel names and normalisation as affine maps."""

from __future__ import annotations

import numpy as np
import pytest
from vla_ros.lerobot_io.policy_export import _affine
from vla_ros.lerobot_io.staging import pads_from_names, taxel_names

STATS = {'mean': [1.0, 2.0], 'std': [0.5, 0.0], 'min': [0.0, 1.0], 'max': [2.0, 1.0],
         'q01': [0.1, 1.0], 'q99': [1.9, 3.0], 'q10': [0.5, 1.5], 'q90': [1.5, 2.5]}


def test_taxel_names_carry_the_pad_layout():
    pads = [['left_finger', 4, 4], ['right_finger', 2, 3]]
    names = taxel_names(pads)
    assert len(names) == 22 and names[16] == 'right_finger/r0c0'
    assert pads_from_names(names) == pads


@pytest.mark.parametrize('mode,lo,hi', [('MIN_MAX', 'min', 'max'), ('QUANTILES', 'q01', 'q99'),
                                        ('QUANTILE10', 'q10', 'q90')])
def test_range_modes_map_the_range_to_minus_one_one(mode, lo, hi):
    mean, std = map(np.asarray, _affine(mode, STATS, 1e-8, inverse=False))
    low, high = np.asarray(STATS[lo]), np.asarray(STATS[hi])
    span = high - low
    ok = span > 0  # LeRobot maps a zero span with eps: the value itself goes to -1
    np.testing.assert_allclose(((low - mean) / std)[ok], -1)
    np.testing.assert_allclose(((high - mean) / std)[ok], 1)
    np.testing.assert_allclose(((low - mean) / std)[~ok], -1)


def test_mean_std_adds_eps_on_the_way_in_only():
    _, std_in = _affine('MEAN_STD', STATS, 1e-8, inverse=False)
    _, std_out = _affine('MEAN_STD', STATS, 1e-8, inverse=True)
    assert std_in == [0.5 + 1e-8, 1e-8] and std_out == [0.5, 0.0]


def test_identity_and_unknown_modes():
    assert _affine('IDENTITY', {'mean': [3.0, 4.0]}, 1e-8, inverse=False) == ([0, 0], [1, 1])
    with pytest.raises(ValueError, match='not affine'):
        _affine('LOG', STATS, 1e-8, inverse=False)
