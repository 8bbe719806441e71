"""
Ingest checks of the synchronizer (ROS-free): each returns the error to reject a sample with.

They return None for a good sample. Finite values past what a sensor can produce are rejected
too: they would overflow float32 in the policy (joints of 1e39 become inf) and latch a fault
downstream.
"""

from __future__ import annotations

import numpy as np
from vla_ros.core.frame import TactileLayout
from vla_ros.core.sync.state import (AUDIO_MAX_ABS, AUDIO_MIN_RATE_HZ, JOINT_MAX_ABS,
                                     TACTILE_MAX_ABS, within)
from vla_ros.errors import (ConversionError, LayoutError, NonFiniteError, SampleRateError,
                            ValueRangeError)


def _bad_values(x: np.ndarray, bound: float, what: str) -> ConversionError:
    if not bool(np.isfinite(x).all()):  # exact, no overflow warnings on the error path
        return NonFiniteError(f'{what} contain NaN or Inf')
    return ValueRangeError(f'{what} beyond +-{bound:g}')


def audio_error(samples: np.ndarray, check: np.ndarray, sample_rate: int,
                buffer_s: float) -> ConversionError | None:
    """
    Check a chunk [n] or [n, channels] at ``sample_rate`` [Hz] before any resampling.

    ``check`` = the samples to scan (the mono view when there is one).
    """
    if not sample_rate or not AUDIO_MIN_RATE_HZ <= sample_rate <= 1_000_000:
        return SampleRateError(f'audio sample_rate must be in [{AUDIO_MIN_RATE_HZ}, 1e6] Hz, '
                               f'got {sample_rate}')
    n = samples.shape[0] if samples.ndim else 0
    if n > buffer_s * sample_rate:
        return LayoutError(f'audio chunk of {n / sample_rate:.3f} s is longer than buffer_s '
                           f'{buffer_s:g} s')
    if not within(check, AUDIO_MAX_ABS):
        return _bad_values(check, AUDIO_MAX_ABS, 'audio samples (full scale 1)')
    return None


def tactile_error(values: np.ndarray, size: int, layout: TactileLayout,
                  expected: TactileLayout | None, expected_size: int) -> ConversionError | None:
    """Values [size] in ``layout`` order vs the configured layout / size (0 = any)."""
    if values.size != size:
        return LayoutError(f'tactile: {values.size} values but the layout has {size}')
    if expected is not None and layout is not expected and (
            layout.names != expected.names or layout.shapes != expected.shapes):
        return LayoutError(f'tactile layout {list(zip(layout.names, layout.shapes))} is not '
                           f'the configured {list(zip(expected.names, expected.shapes))}')
    if expected_size and size != expected_size:
        return LayoutError(f'tactile: {size} values per reading, the policy expects '
                           f'{expected_size}')
    if not within(values, TACTILE_MAX_ABS):
        return _bad_values(values, TACTILE_MAX_ABS, 'tactile values')
    return None


def joints_error(pos: np.ndarray, vel: np.ndarray | None) -> ConversionError | None:
    """
    Positions / velocities [J] in the configured order (None: no velocities sent).

    Bounded samples keep their interpolation bounded too (a convex combination), so a frame
    can never carry a joint value that overflows (two samples at +-1.7e308 made -inf).
    """
    if within(pos, JOINT_MAX_ABS) and (vel is None or within(vel, JOINT_MAX_ABS)):
        return None
    x = pos if vel is None else np.concatenate([pos, vel])
    return _bad_values(x, JOINT_MAX_ABS, 'joint state values')
