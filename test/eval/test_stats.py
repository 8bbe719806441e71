"""Wilson score intervals against published values."""

import pytest
from vla_ros.eval.stats import format_rate, wilson_interval


def test_wilson_known_values():
    lo, hi = wilson_interval(28, 30)
    assert lo == pytest.approx(0.7868, abs=5e-4) and hi == pytest.approx(0.9815, abs=5e-4)
    lo, hi = wilson_interval(0, 10)
    assert lo == 0.0 and hi == pytest.approx(0.2775, abs=5e-4)
    lo, hi = wilson_interval(10, 10)
    assert lo == pytest.approx(0.7225, abs=5e-4) and hi == 1.0
    lo, hi = wilson_interval(5, 10)
    assert lo == pytest.approx(0.2366, abs=5e-4) and hi == pytest.approx(0.7634, abs=5e-4)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_wilson_is_symmetric_and_narrows_with_n():
    lo, hi = wilson_interval(3, 10)
    lo2, hi2 = wilson_interval(7, 10)
    assert lo == pytest.approx(1 - hi2) and hi == pytest.approx(1 - lo2)
    assert wilson_interval(90, 100)[0] > wilson_interval(9, 10)[0]


def test_wilson_rejects_impossible_counts():
    for k, n in ((3, 2), (-1, 4), (0, -1)):
        with pytest.raises(ValueError, match='successes'):
            wilson_interval(k, n)


def test_format_rate():
    assert format_rate(28, 30) == '28/30 (93 %, 95 % CI 79-98 %)'
    assert format_rate(0, 10) == '0/10 (0 %, 95 % CI 0-28 %)'
    assert format_rate(10, 10) == '10/10 (100 %, 95 % CI 72-100 %)'
    assert format_rate(0, 0) == '-'
