"""Shapley matrices (gestures × electrodes) and the contribution ratios used as feedback weights."""

from __future__ import annotations

import numpy as np

from myoxai.errors import MyoxaiError


def shapley_matrix(phi_true: np.ndarray, labels: np.ndarray, n_classes: int) -> tuple[np.ndarray, np.ndarray]:
    """Mean φ of the true class per gesture.

    Parameters
    ----------
    phi_true:
        (windows, electrodes) φ of each window's TRUE class (``ShapleyResult.for_class(labels)``).
    labels:
        (windows,) true class.
    n_classes:
        Number of gestures (rows of the matrix).

    Returns
    -------
    matrix:
        (n_classes, electrodes); rows of absent gestures are NaN.
    counts:
        (n_classes,) windows per gesture.
    """
    phi_true = np.asarray(phi_true, dtype=np.float64)
    labels = np.asarray(labels, dtype=np.int64)
    if phi_true.ndim != 2 or len(phi_true) != len(labels):
        raise MyoxaiError("shapley_matrix needs (windows, electrodes) φ and one label per window")
    counts = np.bincount(labels, minlength=n_classes)[:n_classes]
    sums = np.zeros((n_classes, phi_true.shape[1]))
    np.add.at(sums, labels, phi_true)
    with np.errstate(invalid="ignore", divide="ignore"):
        return sums / np.where(counts > 0, counts, np.nan)[:, None], counts


def normalise_rows(matrix: np.ndarray) -> np.ndarray:
    """Each gesture's row divided by Σ|φ| of the row: signs kept, rows comparable across gestures."""
    den = np.abs(matrix).sum(axis=1, keepdims=True)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(den > 0, matrix / den, 0.0)


def contribution_ratios(phi: np.ndarray) -> np.ndarray:
    """w_n = φ_n / Σ_k φ_k over the last axis, made a proper weighting.

    The plain ratio is meaningless when some φ are negative (an electrode that argues against the
    class would get a negative weight, and Σφ can be ≈ 0 or negative, blowing the ratios up or
    flipping their signs). Negative contributions are therefore clipped to 0 before normalising
    (an electrode that does not help gets weight 0); when no electrode helps, every weight is 1/N.
    The weights are ≥ 0 and sum to 1.
    """
    pos = np.clip(np.asarray(phi, dtype=np.float64), 0.0, None)
    s = pos.sum(axis=-1, keepdims=True)
    n = pos.shape[-1]
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(s > 0, pos / s, 1.0 / n)
