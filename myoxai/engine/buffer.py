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
    segment:
        (n,) int64 stream segment: increments at every gap, so consumers can tell continuous runs apart.
    """

    inputs: np.ndarray
    timestamps: np.ndarray
    segment: np.ndarray

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
        self._seg = np.zeros(self.capacity, np.int64)
        self._written = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return min(self._written, self.capacity)

    def clear(self) -> None:
        """Forget every buffered window (e.g. after a model with other inputs became active)."""
        with self._lock:
            self._written = 0

    def extend(self, inputs: np.ndarray, timestamps: np.ndarray, segment: int | np.ndarray) -> None:
        """Append k windows with their stream segment(s) (oldest are overwritten once full)."""
        k = int(inputs.shape[0])
        if k == 0:
            return
        segment = np.broadcast_to(np.asarray(segment, np.int64), (k,))
        if k > self.capacity:
            inputs, timestamps, segment = (a[-self.capacity:] for a in (inputs, timestamps, segment))
            k = self.capacity
        with self._lock:
            idx = (self._written + np.arange(k)) % self.capacity
            self._x[idx] = inputs
            self._t[idx] = timestamps
            self._seg[idx] = segment
            self._written += k

    def seconds(self, step_s: float) -> float:
        """Buffered signal time given the decision step."""
        return len(self) * step_s

    def snapshot(self) -> BufferedWindows:
        """Copy of the buffered windows, oldest first."""
        with self._lock:
            n = len(self)
            idx = (self._written - n + np.arange(n)) % self.capacity
            return BufferedWindows(self._x[idx].copy(), self._t[idx].copy(), self._seg[idx].copy())
