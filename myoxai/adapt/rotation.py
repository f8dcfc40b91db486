"""Armband rotation from unlabeled data: per-electrode energy profile, fractional shift, resampling.

The Myo's 8 electrodes sit on a ring. When the band is put on rotated relative to calibration,
every muscle's activity appears on different electrodes, but the *energy profile* across the
ring (log-RMS per electrode, pooled over a batch of windows of mixed gestures) keeps its shape
and only moves around the ring. Aligning today's profile with the calibration profile therefore
measures the rotation without labels, and resampling the electrodes by the opposite shift puts
the signal back where the model expects it.

Sign convention (one for every function here)
---------------------------------------------
A shift ``s`` (in electrodes, may be fractional) moves content *towards higher electrode
indices*: ``shift_electrodes(x, s)[..., e] == x[..., e - s]`` (indices mod 8, interpolated
between neighbours when ``s`` is fractional). For an integer ``s`` it is ``np.roll(x, s, axis)``.

``estimate_shift(profile, reference)`` returns the ``s`` with ``shift_profile(reference, s) ≈
profile``: the band's content moved by ``s`` since calibration. Compensation applies ``-s``
to the new data: ``shift_electrodes(x_today, -s)`` ≈ what calibration would have recorded.

Interpolation
-------------
``method="fourier"`` is the band-limited (trigonometric) interpolation of the 8-point ring, the
smooth choice for the profile; ``method="linear"`` mixes the two neighbouring electrodes. Both
are exact for integer shifts, and both are one 8×8 circulant matrix (``shift_matrix``), so they
apply equally to raw samples (n, 8), windows (n, 50, 8) or spectrograms (n, 4, 8, 10) along the
electrode axis.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np

from myoxai.dsp.ring import METHODS, Method, shift_matrix

__all__ = ["METHODS", "Method", "alignment_error", "energy_profile", "estimate_rotation", "estimate_shift",
           "shift_electrodes", "shift_matrix", "shift_profile"]


def shift_electrodes(x: np.ndarray, shift: float, electrode_axis: int = -1, method: Method = "linear") -> np.ndarray:
    """Resample the electrodes of ``x`` by a circular ``shift`` (see the module's sign convention).

    Parameters
    ----------
    x:
        Any array with the electrodes along ``electrode_axis``: raw samples (n, 8), windows
        (n, 50, 8), spectrograms (n, 4, 8, 10) with ``electrode_axis=2``.
    shift:
        Electrodes; compensating an estimated rotation ``s`` means ``shift=-s``.
    electrode_axis:
        Axis of the electrodes in ``x``.
    method:
        ``"linear"`` or ``"fourier"`` interpolation between electrodes.

    Returns
    -------
    An array of the same shape and dtype (float inputs) as ``x``.
    """
    a = np.asarray(x)
    dtype = a.dtype if np.issubdtype(a.dtype, np.floating) else np.float64
    moved = np.moveaxis(a, electrode_axis, -1)
    m = shift_matrix(shift, moved.shape[-1], method)
    return np.moveaxis(moved @ m.T.astype(dtype, copy=False), -1, electrode_axis).astype(dtype, copy=False)


def energy_profile(x: np.ndarray, electrode_axis: int = -1, power: bool = False) -> np.ndarray:
    """Per-electrode log-RMS of a batch: ``0.5 · log(mean(x²))`` over every axis but the electrodes.

    Parameters
    ----------
    x:
        Raw samples or windows, or power spectrograms.
    electrode_axis:
        Axis of the electrodes (2 for (n, 4, 8, 10) spectrograms).
    power:
        ``True`` when the values are already squared magnitudes (spectrograms): they are averaged
        without squaring.

    Returns
    -------
    (n_electrodes,) float64 natural-log RMS. A global gain adds a constant, which the alignment ignores.
    """
    a = np.moveaxis(np.asarray(x, dtype=np.float64), electrode_axis, -1)
    a = a.reshape(-1, a.shape[-1])
    mean_power = (a if power else a * a).mean(axis=0)
    return 0.5 * np.log(np.maximum(mean_power, 1e-30))


def shift_profile(profile: np.ndarray, shift: float, method: Method = "fourier") -> np.ndarray:
    """``profile`` moved around the ring by ``shift`` electrodes (the model of a rotated band)."""
    p = np.asarray(profile, dtype=np.float64)
    return shift_matrix(shift, len(p), method) @ p


def alignment_error(profile: np.ndarray, reference: np.ndarray, shifts: np.ndarray,
                    method: Method = "fourier") -> np.ndarray:
    """Mean squared difference of the centred profiles, ``reference`` shifted by each of ``shifts``."""
    p = np.asarray(profile, dtype=np.float64)
    r = np.asarray(reference, dtype=np.float64)
    if p.shape != r.shape or p.ndim != 1:
        raise ValueError(f"profile and reference must be equal 1-D arrays, got {p.shape} and {r.shape}")
    n = len(p)  # sum / n: what mean computes, without its per-call overhead (the live drift stage calls this often)
    p = p - p.sum() / n
    r = r - r.sum() / n
    return ((_shifted_copies(r, np.atleast_1d(np.asarray(shifts, dtype=np.float64)), method) - p) ** 2).sum(axis=1) / n


def _shifted_copies(r: np.ndarray, shifts: np.ndarray, method: Method) -> np.ndarray:
    """(len(shifts), n): ``shift_profile(r, s)`` for every ``s`` at once: one cached matrix times ``r``."""
    n = len(r)
    return (_copies_matrix(n, shifts.tobytes(), method) @ r).reshape(len(shifts), n)


@lru_cache(maxsize=16)
def _copies_matrix(n: int, shifts: bytes, method: Method) -> np.ndarray:
    """(len(shifts) · n, n): a shift is linear, so the copies of a profile are one product (cached per grid).

    Built column by column from the unit profiles; a live drift stage searches the same grid every second.
    """
    s = np.frombuffer(shifts, dtype=np.float64)
    m = np.stack([_shifted_unit(e, s, method) for e in np.eye(n)], axis=-1).reshape(-1, n)
    m.flags.writeable = False
    return m


def _shifted_unit(r: np.ndarray, shifts: np.ndarray, method: Method) -> np.ndarray:
    """(len(shifts), n) copies of ``r`` (same maths as ``shift_matrix``)."""
    n = len(r)
    if method == "fourier":
        k = np.arange(n // 2 + 1)
        return np.fft.irfft(np.fft.rfft(r)[None, :] * np.exp(-2j * np.pi * np.outer(shifts, k) / n), n=n, axis=1)
    if method != "linear":
        shift_matrix(0.0, n, method)  # raises the usual error
    i = np.floor(shifts).astype(int)
    f = (shifts - i)[:, None]
    src = (np.arange(n)[None, :] - i[:, None]) % n
    return (1 - f) * r[src] + f * r[(src - 1) % n]


def estimate_shift(profile: np.ndarray, reference: np.ndarray, resolution: float = 0.01,
                   max_shift: float | None = None, method: Method = "fourier") -> float:
    """The signed fractional shift ``s`` for which ``shift_profile(reference, s)`` best matches ``profile``.

    A grid search (step ``resolution``) over ``[-max_shift, max_shift]`` (the whole ring,
    ``[-n/2, n/2)``, when ``None``) minimising ``alignment_error``; both profiles are centred
    first, so a global gain change does not matter. Positive ``s``: today's content sits at
    higher electrode indices than at calibration; compensate with ``shift_electrodes(x, -s)``.
    """
    n = len(np.asarray(reference))
    half = n / 2 if max_shift is None else min(float(max_shift), n / 2)
    if resolution <= 0:
        raise ValueError("resolution must be positive")
    steps = int(round(half / resolution))
    grid = np.arange(-steps, steps + (1 if max_shift is not None else 0)) * resolution
    err = alignment_error(profile, reference, grid, method)
    return float(grid[int(np.argmin(err))])


def estimate_rotation(x: np.ndarray, reference_profile: np.ndarray, electrode_axis: int = -1, power: bool = False,
                      resolution: float = 0.01, max_shift: float | None = None) -> float:
    """``estimate_shift(energy_profile(x), reference_profile)``: the rotation of a batch since calibration."""
    return estimate_shift(energy_profile(x, electrode_axis, power), reference_profile, resolution, max_shift)
