"""Spectrogram of each window: (frames, channels, frequency bins).

This calls ``scipy.signal.spectrogram`` itself (vectorised over windows and channels), so the
values are scipy's by construction; we only drop the DC bin and reorder the axes so the time
frames become the model's input planes.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from myoxai.config import SignalConfig


def spectrogram(windows: np.ndarray, config: SignalConfig) -> np.ndarray:
    """Magnitude spectrogram (density scaling) of windows (n, window, ch) → (n, frames, ch, freqs)."""
    w = np.asarray(windows, dtype=np.float64)
    if w.ndim != 3 or w.shape[1:] != (config.window, config.n_channels):
        raise ValueError(f"expected windows of shape (n, {config.window}, {config.n_channels}), got {w.shape}")
    _, _, sxx = signal.spectrogram(w, fs=config.fs, window=config.spec_window, nperseg=config.nperseg,
                                   noverlap=config.noverlap, scaling="density", mode="magnitude", axis=1)
    # scipy puts the time axis last and replaces the sample axis by frequency: (n, freqs, ch, frames)
    if config.drop_dc:
        sxx = sxx[:, 1:]
    return np.ascontiguousarray(sxx.transpose(0, 3, 2, 1))
