"""The engine's first stage: drained chunks → the windows they complete, with each window's time, label and gap flag.

Chunks are joined into gap-free runs (``myoxai.engine.runs``) and pushed through one
``WindowStream``. ``push`` says where in the run every completed window ends, so the window's
timestamp and true label are read straight from the run. A gap (``Chunk.gap > 0``, set by the
source) resets the dsp stream: windows are never bridged across it, and the next window carries
``after_gap``, the one form in which the gap travels on (vote reset, buffer, decisions).
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from myoxai.config import SignalConfig
from myoxai.dsp import WindowStream
from myoxai.engine.runs import continuous_runs
from myoxai.sources.base import Chunk

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class NewWindows:
    """The windows one batch of chunks completed, in order (n of them).

    Attributes
    ----------
    windows, spectrograms:
        (n, window, channels) high-passed windows and (n, frames, channels, freqs) spectrograms, float32.
    timestamps:
        (n,) source clock of each window's last sample.
    samples:
        (n,) absolute index (since the last reset) one past each window's last sample.
    true_labels:
        (n,) the source's label at each window's last sample, -1 where the source has none.
    has_labels:
        (n,) whether ``true_labels`` holds a label.
    after_gap:
        (n,) True for the first window after a gap.
    """

    windows: np.ndarray
    spectrograms: np.ndarray
    timestamps: np.ndarray
    samples: np.ndarray
    true_labels: np.ndarray
    has_labels: np.ndarray
    after_gap: np.ndarray

    def __len__(self) -> int:
        return int(self.timestamps.shape[0])

    def model_input(self, input_kind: str) -> np.ndarray:
        """The array a model with this ``input_kind`` consumes."""
        return self.spectrograms if input_kind == "spectrogram" else self.windows


class ChunkWindows:
    """Streaming dsp over drained chunks, reset at every gap.

    Parameters
    ----------
    config:
        Signal config (window, step, spectrogram).
    highpass:
        Apply the causal high-pass (False for recordings already filtered with the same filter).
    """

    def __init__(self, config: SignalConfig, highpass: bool = True) -> None:
        self.stream = WindowStream(config, highpass=highpass)
        self._pending_gap = False  # a gap was seen; the next window to complete carries after_gap
        self._started = False

    def push(self, chunks: Sequence[Chunk]) -> NewWindows | None:
        """The windows ``chunks`` complete (None when they complete none); resets the dsp at gaps."""
        parts: list[tuple] = []
        for run in continuous_runs(chunks):
            if run.gap > 0 and self._started:
                self.stream.reset()
                self._pending_gap = True
                log.info("gap of %d samples in the stream: dsp state reset", run.gap)
            batch = self.stream.push(run.samples)
            self._started = True
            if not len(batch):
                continue
            flags = np.zeros(len(batch), bool)
            flags[0], self._pending_gap = self._pending_gap, False
            has = run.labels is not None
            labels = run.labels[batch.last] if has else np.full(len(batch), -1)
            parts.append((batch.windows, batch.spectrograms, run.timestamps[batch.last], batch.end, labels,
                          np.full(len(batch), has), flags))
        if not parts:
            return None
        cols = [np.concatenate(c) for c in zip(*parts, strict=True)]
        return NewWindows(cols[0].astype(np.float32), cols[1].astype(np.float32), cols[2], cols[3],
                          cols[4].astype(np.int64), cols[5], cols[6])
