"""
Binomial rates with 95 % Wilson score intervals (ROS-free, numpy-free).

The Wilson interval stays inside [0, 1] and is honest at small n and at 0/n or n/n, where the
normal approximation collapses to a zero-width interval. Every success rate in the evaluation
report is written as ``k/n (p %, 95 % CI lo-hi %)`` by :func:`format_rate`.
"""

from __future__ import annotations

import math

Z95 = 1.959963984540054  # two-sided 95 % normal quantile


def wilson_interval(successes: int, n: int, *, z: float = Z95) -> tuple[float, float]:
    """
    Return the Wilson score interval (lo, hi) of ``successes`` out of ``n`` trials.

    Fractions in [0, 1]; ``(0.0, 1.0)`` for ``n == 0`` (nothing is known).
    """
    if n < 0 or successes < 0 or successes > n:
        raise ValueError(f'need 0 <= successes <= n, got {successes}/{n}')
    if n == 0:
        return 0.0, 1.0
    p = successes / n
    z2 = z * z
    centre = (p + z2 / (2 * n)) / (1 + z2 / n)
    half = z / (1 + z2 / n) * math.sqrt(p * (1 - p) / n + z2 / (4 * n * n))
    lo, hi = max(0.0, centre - half), min(1.0, centre + half)
    if successes == 0:
        lo = 0.0
    if successes == n:
        hi = 1.0
    return lo, hi


def format_rate(successes: int, n: int) -> str:
    """Write ``k/n (p %, 95 % CI lo-hi %)``; ``'-'`` when nothing was evaluated."""
    if n <= 0:
        return '-'
    lo, hi = wilson_interval(successes, n)
    return (f'{successes}/{n} ({100.0 * successes / n:.0f} %, '
            f'95 % CI {100.0 * lo:.0f}-{100.0 * hi:.0f} %)')


def rate_tokens(successes: int, n: int, key: str) -> str:
    """``<key>=0.93 <key>_lo=0.80 <key>_hi=0.97``: a rate and its 95 % Wilson interval."""
    lo, hi = wilson_interval(successes, n)
    return f'{key}={successes / n:.2f} {key}_lo={lo:.2f} {key}_hi={hi:.2f}'
