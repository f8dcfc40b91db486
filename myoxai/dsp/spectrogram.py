"""Spectrogram of each window: (frames, channels, frequency bins).

The values are scipy's: ``scipy.signal.spectrogram(fs, window, nperseg, noverlap,
scaling="density", mode="magnitude")`` — constant detrend per segment, periodic window, one-sided
|FFT| times sqrt(1 / (fs · Σ window²)) — with the DC bin dropped and the time frames first, so they
become the model's input planes. It is written out here with numpy because scipy's per-call
overhead (~250 µs) is ten times the work for the one or two windows a live chunk completes;
``tests/dsp/test_dsp.py`` checks it against scipy itself to 1e-12.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import signal

from myoxai.config import SignalConfig


@lru_cache(maxsize=8)
def _plan(config: SignalConfig) -> tuple[np.ndarray, np.ndarray, float]:
    """Segment sample indices (frames, nperseg), the analysis window, and the density scale."""
    win = signal.get_window(config.spec_window, config.nperseg)
    hop = config.nperseg - config.noverlap
    idx = hop * np.arange(config.n_frames)[:, None] + np.arange(config.nperseg)[None]
    return idx, win, float(np.sqrt(1.0 / (config.fs * np.sum(win * win))))


def spectrogram(windows: np.ndarray, config: SignalConfig) -> np.ndarray:
    """Magnitude spectrogram (density scaling) of windows (n, window, ch) → (n, frames, ch, freqs)."""
    w = np.asarray(windows, dtype=np.float64)
    if w.ndim != 3 or w.shape[1:] != (config.window, config.n_channels):
        raise ValueError(f"expected windows of shape (n, {config.window}, {config.n_channels}), got {w.shape}")
    idx, win, scale = _plan(config)
    seg = w[:, idx, :]  # (n, frames, nperseg, ch)
    seg = seg - seg.mean(axis=2, keepdims=True)
    mag = np.abs(np.fft.rfft(seg * win[:, None], axis=2)) * scale  # (n, frames, freqs, ch)
    if config.drop_dc:
        mag = mag[:, :, 1:]
    return np.ascontiguousarray(mag.transpose(0, 1, 3, 2))


def spectrogram_of_windows_in(signal_: np.ndarray, n_windows: int, config: SignalConfig) -> np.ndarray:
    """``spectrogram(sliding_windows(signal_, window, step)[:n_windows])``, each shared frame computed once.

    Consecutive windows overlap, and when the window step is a multiple of the frame hop (10 and 10
    for the Myo config) window k's frame j is the signal's frame ``k·step/hop + j``: computing every
    frame of the signal once and indexing does a quarter of the FFTs for the same values (each frame
    goes through the same operations, so the result is bit-identical).
    """
    hop = config.nperseg - config.noverlap
    if config.step % hop or n_windows == 0:
        from myoxai.dsp.windows import sliding_windows

        return spectrogram(sliding_windows(signal_, config.window, config.step)[:n_windows], config)
    per = config.step // hop
    n_frames = (n_windows - 1) * per + config.n_frames
    x = np.asarray(signal_, dtype=np.float64)
    idx = hop * np.arange(n_frames)[:, None] + np.arange(config.nperseg)[None]
    _, win, scale = _plan(config)
    seg = x[idx][None]  # (1, frames, nperseg, ch): the same layout and axes as ``spectrogram``
    seg = seg - seg.mean(axis=2, keepdims=True)
    mag = np.abs(np.fft.rfft(seg * win[:, None], axis=2)) * scale
    if config.drop_dc:
        mag = mag[:, :, 1:]
    frames = mag[0].transpose(0, 2, 1)  # (frames, ch, freqs)
    take = per * np.arange(n_windows)[:, None] + np.arange(config.n_frames)[None]
    return np.ascontiguousarray(frames[take])
