"""Circular resampling of the Myo's electrode ring by a fractional shift (one 8×8 matrix).

Sign convention: a shift ``s`` moves content towards higher electrode indices,
``(M @ v)[e] = v[e - s]`` (indices mod n, interpolated between neighbours for fractional ``s``);
for an integer ``s`` it is ``np.roll(v, s)``. ``myoxai.adapt.rotation`` builds the rotation
estimate on it, and models apply the matrix to their input to undo a rotation.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

Method = Literal["linear", "fourier"]
METHODS: tuple[str, ...] = ("linear", "fourier")


def _check_method(method: str) -> None:
    if method not in METHODS:
        raise ValueError(f"shift method must be one of {METHODS}, not {method!r}")


def shift_matrix(shift: float, n_electrodes: int = 8, method: Method = "linear") -> np.ndarray:
    """The (n, n) circulant matrix ``M`` with ``(M @ v)[e] = v[e - shift]`` (interpolated, indices mod n).

    Parameters
    ----------
    shift:
        Electrodes to move the content by (positive = towards higher indices).
    n_electrodes:
        Size of the ring.
    method:
        ``"linear"``: weights ``1 - f`` and ``f`` on electrodes ``e - i`` and ``e - i - 1`` for
        ``shift = i + f``. ``"fourier"``: multiply the ring's DFT by ``exp(-2πi k shift / n)``
        (the Nyquist term of an even ring keeps its real part, ``cos(π shift)``).
    """
    _check_method(method)
    n = int(n_electrodes)
    if method == "linear":
        i = int(np.floor(shift))
        f = float(shift - i)
        base = np.zeros(n)
        base[i % n] += 1.0 - f  # first column: where electrode 0's content goes
        base[(i + 1) % n] += f
        return np.stack([np.roll(base, j) for j in range(n)], axis=1)
    k = np.arange(n // 2 + 1)
    phase = np.exp(-2j * np.pi * k * float(shift) / n)
    return np.fft.irfft(np.fft.rfft(np.eye(n), axis=0) * phase[:, None], n=n, axis=0)
