"""The last N minutes of unlabeled windows, in time order, for recalibration.

A preallocated ring (no per-window allocation, memory fixed at construction): the engine
writes every window it classifies, the recalibration worker takes a time-ordered copy.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class BufferedWindows:
    """A time-ordered copy of the buffer.

    Attributes
    ----------
    inputs:
        (n, *input_shape) float32 model inputs (spectrograms or windows, the model's ``input_kind``).
    timestamps:
        (n,) source clock of each window's last sample.
    after_gap:
        (n,) True for the first window after a gap (``np.cumsum`` numbers the continuous runs).
    """

    inputs: np.ndarray
    timestamps: np.ndarray
    after_gap: np.ndarray

    def __len__(self) -> int:
        return int(self.timestamps.shape[0])


class WindowRing:
    """Fixed-size ring of model inputs.

    Parameters
    ----------
    capacity:
        Windows kept (e.g. 5 minutes at 20 windows/s = 6000).
    input_shape:
        Shape of one model input.
    """

    def __init__(self, capacity: int, input_shape: tuple[int, ...]) -> None:
        self.capacity = max(1, int(capacity))
        self.input_shape = tuple(input_shape)
        self._x = np.zeros((self.capacity, *self.input_shape), np.float32)
        self._t = np.zeros(self.capacity, np.float64)
        self._gap = np.zeros(self.capacity, bool)
        self._written = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return min(self._written, self.capacity)

    def clear(self) -> None:
        """Forget every buffered window (e.g. after a model with other inputs became active)."""
        with self._lock:
            self._written = 0

    def extend(self, inputs: np.ndarray, timestamps: np.ndarray, after_gap: np.ndarray | None = None) -> None:
        """Append k windows with their ``after_gap`` flags (oldest are overwritten once full)."""
        k = int(inputs.shape[0])
        if k == 0:
            return
        after_gap = np.zeros(k, bool) if after_gap is None else np.asarray(after_gap, bool)
        if k > self.capacity:
            inputs, timestamps, after_gap = (a[-self.capacity:] for a in (inputs, timestamps, after_gap))
            k = self.capacity
        with self._lock:
            idx = (self._written + np.arange(k)) % self.capacity
            self._x[idx] = inputs
            self._t[idx] = timestamps
            self._gap[idx] = after_gap
            self._written += k

    def seconds(self, step_s: float) -> float:
        """Buffered signal time given the decision step."""
        return len(self) * step_s

    def snapshot(self) -> BufferedWindows:
        """Copy of the buffered windows, oldest first."""
        with self._lock:
            n = len(self)
            idx = (self._written - n + np.arange(n)) % self.capacity
            return BufferedWindows(self._x[idx].copy(), self._t[idx].copy(), self._gap[idx].copy())
