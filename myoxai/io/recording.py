"""One in-memory recording type shared by loaders, the XDF reader/writer, replay and training."""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

UNLABELED = -1


@dataclass
class Recording:
    """EMG samples with per-sample timestamps and (optionally) per-sample labels.

    Attributes
    ----------
    samples:
        (n, channels) float32.
    timestamps:
        (n,) float64 seconds, non-decreasing. Synthesised at 1/fs where the source had none.
    fs:
        Nominal sampling rate in Hz.
    labels:
        (n,) int64 class index per sample, ``UNLABELED`` (-1) where unknown; ``None`` if unlabeled.
        A per-trial label is stored as a constant array plus ``meta["trial"]``.
    class_names:
        Name of each class index.
    meta:
        Free metadata: subject, session, day, position, trial, source, units, and
        ``highpass_hz``/``highpass_order`` when the data is already high-pass filtered.
    """

    samples: np.ndarray
    timestamps: np.ndarray
    fs: float
    labels: np.ndarray | None = None
    class_names: tuple[str, ...] = ()
    meta: dict[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.samples = np.asarray(self.samples, dtype=np.float32)
        self.timestamps = np.asarray(self.timestamps, dtype=np.float64)
        if self.samples.ndim != 2:
            raise ValueError(f"samples must be (n, channels), got shape {self.samples.shape}")
        if self.timestamps.shape != (self.samples.shape[0],):
            raise ValueError(f"{self.timestamps.shape[0]} timestamps for {self.samples.shape[0]} samples")
        if self.labels is not None:
            self.labels = np.asarray(self.labels, dtype=np.int64)
            if self.labels.shape != (self.samples.shape[0],):
                raise ValueError(f"{self.labels.shape[0]} labels for {self.samples.shape[0]} samples")
        self.class_names = tuple(self.class_names)

    def __len__(self) -> int:
        return int(self.samples.shape[0])

    @property
    def n_channels(self) -> int:
        """Number of EMG channels."""
        return int(self.samples.shape[1])

    @property
    def duration(self) -> float:
        """Length in seconds at the nominal rate."""
        return len(self) / self.fs

    def slice(self, start: int, stop: int) -> Recording:
        """A sub-recording of samples [start, stop) sharing metadata."""
        labels = None if self.labels is None else self.labels[start:stop]
        return replace(self, samples=self.samples[start:stop], timestamps=self.timestamps[start:stop],
                       labels=labels, meta=dict(self.meta))

    def segments(self) -> list[tuple[int, int, int]]:
        """Runs of constant label as (start, stop, label); empty when unlabeled."""
        if self.labels is None or len(self) == 0:
            return []
        change = np.flatnonzero(np.diff(self.labels)) + 1
        bounds = np.concatenate([[0], change, [len(self)]])
        return [(int(a), int(b), int(self.labels[a])) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]


def synth_timestamps(n: int, fs: float, t0: float = 0.0) -> np.ndarray:
    """Evenly spaced timestamps for sources that store none."""
    return t0 + np.arange(n, dtype=np.float64) / fs


def concatenate(recordings: list[Recording], gap_s: float | None = None) -> Recording:
    """Join recordings end to end (same fs, channels and classes), re-timing them to be continuous.

    Each part keeps its internal spacing; the next part starts one sample period (plus ``gap_s``)
    after the previous one ends. ``meta["parts"]`` lists (start sample, meta) of every part.
    """
    if not recordings:
        raise ValueError("nothing to concatenate")
    first = recordings[0]
    for r in recordings[1:]:
        if r.fs != first.fs or r.n_channels != first.n_channels or r.class_names != first.class_names:
            raise ValueError("recordings differ in rate, channel count or class names")
    stamps, offset, starts = [], first.timestamps[0] if len(first) else 0.0, []
    pos = 0
    for r in recordings:
        starts.append((pos, dict(r.meta)))
        rel = r.timestamps - (r.timestamps[0] if len(r) else 0.0)
        stamps.append(offset + rel)
        offset = offset + (rel[-1] if len(r) else 0.0) + 1.0 / first.fs + (gap_s or 0.0)
        pos += len(r)
    labels = None
    if all(r.labels is not None for r in recordings):
        labels = np.concatenate([r.labels for r in recordings])
    meta = {k: v for k, v in first.meta.items() if all(r.meta.get(k) == v for r in recordings)}
    meta["parts"] = starts
    return Recording(np.concatenate([r.samples for r in recordings]), np.concatenate(stamps), first.fs,
                     labels, first.class_names, meta)
