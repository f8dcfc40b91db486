"""Sliding windows over a (samples × channels) array."""

from __future__ import annotations

import numpy as np


def sliding_windows(x: np.ndarray, window: int, step: int) -> np.ndarray:
    """Return a copy of all complete windows, shape (n_windows, window, channels).

    Window k covers samples ``[k*step, k*step + window)``; an incomplete tail is not returned.
    """
    if x.shape[0] < window:
        return np.empty((0, window, x.shape[1]), dtype=x.dtype)
    view = np.lib.stride_tricks.sliding_window_view(x, window, axis=0)[::step]
    return np.ascontiguousarray(view.transpose(0, 2, 1))
