"""Causal Butterworth high-pass that carries its state between chunks.

scipy's ``sosfilt`` with an explicit ``zi`` is the recurrence itself, so filtering a signal in
pieces with the state carried over gives the same numbers as filtering it whole; no hand-written
filter is needed. The state starts at rest (zeros), as a live stream does.
"""

from __future__ import annotations

import numpy as np
from scipy import signal

from myoxai.config import SignalConfig


class StreamingHighpass:
    """Per-channel causal high-pass; ``process`` may be called with chunks of any length."""

    def __init__(self, config: SignalConfig) -> None:
        self.sos = signal.butter(config.highpass_order, config.highpass_hz, btype="highpass",
                                 fs=config.fs, output="sos")
        self.n_channels = config.n_channels
        self.reset()

    def reset(self) -> None:
        """Forget the past: the next sample is filtered as if the signal started there."""
        self.zi = np.zeros((self.sos.shape[0], 2, self.n_channels))

    def process(self, chunk: np.ndarray) -> np.ndarray:
        """Filter ``chunk`` (n × channels) and return float64 output of the same shape."""
        x = np.asarray(chunk, dtype=np.float64)
        if x.shape[0] == 0:
            return x.reshape(0, self.n_channels)
        y, self.zi = signal.sosfilt(self.sos, x, axis=0, zi=self.zi)
        return y
