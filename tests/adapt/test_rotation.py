"""Rotation estimate and electrode resampling (``myoxai.adapt.rotation``): sign convention and properties."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from myoxai.adapt.rotation import (
    energy_profile,
    estimate_rotation,
    estimate_shift,
    shift_electrodes,
    shift_matrix,
    shift_profile,
)

profiles = st.lists(st.floats(-3, 3, allow_nan=False), min_size=8, max_size=8).map(np.array)
methods = st.sampled_from(["linear", "fourier"])


def _first_harmonic_share(p: np.ndarray) -> float:
    spec = np.abs(np.fft.rfft(p - p.mean()))
    return float(spec[1] / max(np.linalg.norm(spec), 1e-12))


def test_integer_shift_is_roll_towards_higher_indices() -> None:
    x = np.arange(16.0).reshape(2, 8)
    for method in ("linear", "fourier"):
        assert np.allclose(shift_electrodes(x, 1, method=method), np.roll(x, 1, axis=-1))
        assert np.allclose(shift_electrodes(x, -3, method=method), np.roll(x, -3, axis=-1))


def test_linear_half_shift_averages_neighbours() -> None:
    v = np.eye(8)[3]
    out = shift_electrodes(v, 0.5, method="linear")
    assert np.allclose(out[[3, 4]], [0.5, 0.5]) and np.isclose(out.sum(), 1.0)


@given(st.integers(-10, 10), methods, st.integers(0, 2))
@settings(max_examples=40, deadline=None)
def test_integer_shift_then_back_is_identity(s: int, method: str, axis: int) -> None:
    shape = [3, 5, 5]
    shape[axis] = 8
    x = np.random.default_rng(abs(s)).normal(size=shape)
    there = shift_electrodes(x, s, electrode_axis=axis, method=method)
    assert np.allclose(shift_electrodes(there, -s, electrode_axis=axis, method=method), x)


@given(profiles, methods)
@settings(max_examples=40, deadline=None)
def test_zero_shift_is_identity(p: np.ndarray, method: str) -> None:
    assert np.allclose(shift_electrodes(p, 0.0, method=method), p)
    assert np.allclose(shift_matrix(0.0, 8, method), np.eye(8))
    assert estimate_shift(p + 1.7, p) == 0.0 or _first_harmonic_share(p) < 0.2


@given(profiles, st.floats(-3.9, 3.9), st.floats(-5, 5))
@settings(max_examples=60, deadline=None)
def test_estimate_recovers_fourier_shift(p: np.ndarray, s: float, gain: float) -> None:
    assume(_first_harmonic_share(p) > 0.3 and np.ptp(p) > 0.1)  # a ring profile with a clear direction
    moved = shift_profile(p, s) + gain  # a global gain is a constant on the log-RMS profile
    assert estimate_shift(moved, p, resolution=0.01) == pytest.approx(s, abs=0.011)


@given(profiles, st.floats(-1.5, 1.5))
@settings(max_examples=40, deadline=None)
def test_estimate_recovers_linear_shift_with_linear_model(p: np.ndarray, s: float) -> None:
    assume(_first_harmonic_share(p) > 0.3 and np.ptp(p) > 0.1)
    moved = shift_profile(p, s, method="linear")
    assert estimate_shift(moved, p, method="linear", max_shift=2.0) == pytest.approx(s, abs=0.011)


def test_rotation_of_signals_is_found_from_their_energy_profile() -> None:
    rng = np.random.default_rng(0)
    gains = np.exp(np.cos(2 * np.pi * (np.arange(8) - 2.3) / 8))  # smooth energy bump around electrode 2.3
    calib = rng.normal(size=(4000, 8)) * gains
    ref = energy_profile(calib)
    today = rng.normal(size=(4000, 8)) * np.exp(np.cos(2 * np.pi * (np.arange(8) - 2.3 - 0.4) / 8)) * 1.3
    s = estimate_rotation(today, ref)
    assert s == pytest.approx(0.4, abs=0.08)
    # resampling uncorrelated channels mixes their energies, so the compensation is partial
    back = energy_profile(shift_electrodes(today, -s, method="fourier"))
    assert abs(estimate_shift(back, ref)) < abs(s) / 2


def test_energy_profile_of_power_spectrograms_matches_signal_energy() -> None:
    rng = np.random.default_rng(1)
    spec = rng.random((10, 4, 8, 10)) * np.arange(1, 9)[None, None, :, None]
    prof = energy_profile(spec, electrode_axis=2, power=True)
    assert np.allclose(prof, 0.5 * np.log(spec.mean(axis=(0, 1, 3))))
    moved = shift_electrodes(spec, 2, electrode_axis=2)
    assert estimate_shift(energy_profile(moved, 2, True), prof) == pytest.approx(2.0)


def test_bad_method_is_refused() -> None:
    with pytest.raises(ValueError, match="shift method"):
        shift_matrix(0.5, 8, "cubic")  # type: ignore[arg-type]


@given(profiles, st.floats(-4, 4), methods)
@settings(max_examples=30, deadline=None)
def test_batched_alignment_equals_the_matrix_definition(p: np.ndarray, s: float, method: str) -> None:
    from myoxai.adapt.rotation import alignment_error

    c = p - p.mean()
    direct = ((shift_matrix(s, 8, method) @ c - c) ** 2).mean()
    assert alignment_error(p, p, np.array([s]), method)[0] == pytest.approx(direct, abs=1e-9)
