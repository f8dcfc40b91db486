"""What the engine publishes (a ``DecisionBatch`` of ``Decision``s with the drift then) and a mailbox to read it from.

The engine builds a batch's decisions as arrays (``DecisionColumns``); the ``Decision`` objects are
made only when someone reads them, in the reader's thread (a replay with nobody reading never makes
one). Subscribers never slow the engine down: a ``Subscription`` is a bounded deque that drops its
oldest decisions (and counts them) when its reader is slow, so a stalled GUI costs memory of at
most ``maxlen`` decisions and the engine never waits for it.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import TYPE_CHECKING, Any

import numpy as np

from myoxai.engine.windowing import NewWindows

if TYPE_CHECKING:
    from myoxai.adapt.drift import DriftAssessment

REJECTED = -1  # label of a decision whose (voted) confidence is below the threshold


@dataclass(frozen=True)
class Decision:
    """One classified window.

    Attributes
    ----------
    timestamp:
        Source clock (LSL ``local_clock`` seconds) of the window's last sample.
    sample:
        Absolute index (since the last stream reset) one past the window's last sample.
    probabilities:
        (n_classes,) softmax output of the model for this window.
    raw_label:
        ``argmax(probabilities)``: the model's own answer, before post-processing.
    label:
        Post-processed label (majority vote over the last k raw labels), ``REJECTED`` (-1) when the
        confidence is below the threshold.
    confidence:
        Mean probability of ``label``'s class over the vote window (0 when rejected by an empty vote).
    phi, total:
        (n_classes, n_channels) exact channel Shapley values of every class probability and (n_classes,)
        C = f(all) − f(∅) = Σ_n φ_n per class; ``None`` when Shapley is switched off.
    latency_s:
        Wall time from the engine receiving the chunk that completed this window to publishing it.
    model_version:
        Counter of the model that made the decision (changes on every swap or revert).
    true_label:
        The source's label at the window's last sample (replays of labelled recordings), else None.
    after_gap:
        True for the first decision after a gap in the stream (the dsp state was reset there).
    spectrogram:
        (frames, channels, freqs) the window's raw spectrogram (for the display), or None.
    class_names:
        The deciding model's gestures (a shared tuple; tells viewers when the gesture set changed).
    interactions:
        (n_classes, pairs) pairwise electrode interactions (``myoxai.explain.interactions``) or ``None``.
    """

    timestamp: float
    sample: int
    probabilities: np.ndarray
    raw_label: int
    label: int
    confidence: float
    phi: np.ndarray | None
    total: np.ndarray | None
    latency_s: float
    model_version: int
    true_label: int | None = None
    after_gap: bool = False
    spectrogram: np.ndarray | None = None
    class_names: tuple[str, ...] = ()
    interactions: np.ndarray | None = None

    @property
    def phi_label(self) -> np.ndarray | None:
        """(n_channels,) φ of the model's predicted class (what the armband ring shows)."""
        return None if self.phi is None else self.phi[self.raw_label]

    def as_vector(self) -> np.ndarray:
        """Flat float32 [label, probabilities…, φ of the predicted class…] (the LSL outlet's sample)."""
        phi = self.phi_label if self.phi is not None else np.full(0, np.nan)
        return np.concatenate([[float(self.label)], self.probabilities, phi]).astype(np.float32)


@dataclass(frozen=True)
class DecisionColumns:
    """k decisions of one model as arrays (the batch's ``NewWindows`` + a row each); ``[i]`` is a ``Decision``."""

    windows: NewWindows
    probabilities: np.ndarray
    raw_labels: np.ndarray
    labels: np.ndarray
    confidences: np.ndarray
    phi: np.ndarray | None
    total: np.ndarray | None
    interactions: np.ndarray | None
    latency_s: float
    model_version: int
    class_names: tuple[str, ...]

    def __len__(self) -> int:
        return len(self.windows)

    def __getattr__(self, name: str) -> Any:  # timestamps, spectrograms, after_gap …: the windows' own arrays
        if "windows" not in self.__dict__:  # (copy / unpickle look attributes up before the fields exist)
            raise AttributeError(name)
        return getattr(self.__dict__["windows"], name)

    def __getitem__(self, i: Any) -> Any:
        """Row ``i`` as a ``Decision`` (iterating makes them all); a slice gives the rows as ``DecisionColumns``."""
        if isinstance(i, slice):
            def cut(o: Any) -> dict[str, np.ndarray]:
                return {f.name: getattr(o, f.name)[i] for f in dataclasses.fields(o)
                        if isinstance(getattr(o, f.name), np.ndarray)}
            windows = dataclasses.replace(self.windows, **cut(self.windows))
            return dataclasses.replace(self, windows=windows, **cut(self))
        w = self.windows
        phi, total, inter = (None if a is None else a[i] for a in (self.phi, self.total, self.interactions))
        return Decision(float(w.timestamps[i]), int(w.samples[i]), self.probabilities[i], int(self.raw_labels[i]),
                        int(self.labels[i]), float(self.confidences[i]), phi, total, self.latency_s, self.model_version,
                        int(w.true_labels[i]) if w.has_labels[i] else None, bool(w.after_gap[i]), w.spectrograms[i],
                        self.class_names, inter)


@dataclass(frozen=True)
class DecisionBatch:
    """What every subscriber receives (GUI, LSL outlet, decision log, recorders): decisions and the drift at that point.

    ``len``, iteration and indexing go over ``decisions``.

    Attributes
    ----------
    items:
        The decisions, oldest first: ``Decision``s or the engine's ``DecisionColumns`` (objects on first use).
    drift:
        The drift stage's latest assessment once it has taken these decisions in; None when the engine has no
        drift stage or the deciding model no reference to compare with.
    drift_trend:
        The assessments the stage made inside the batch, each with the signal time it was made at.
    """

    items: tuple[Decision, ...] | DecisionColumns = ()
    drift: DriftAssessment | None = None
    drift_trend: tuple[tuple[float, DriftAssessment], ...] = ()

    @cached_property
    def decisions(self) -> tuple[Decision, ...]:  # noqa: D102 - the decisions as objects, made once
        return tuple(self.items)

    def __len__(self) -> int:
        return len(self.items)

    def __iter__(self) -> Iterator[Decision]:
        return iter(self.decisions)

    def __getitem__(self, i: Any) -> Any:
        return self.decisions[i]


@dataclass
class Subscription:
    """A bounded mailbox of decision batches for one reader (e.g. the GUI timer).

    A slow reader loses the oldest decisions (counted in ``dropped``), never the latest drift
    assessment nor the last ``trend_max`` drift trend points.
    """

    maxlen: int = 1000
    dropped: int = 0
    trend_max: int = 600
    _items: collections.deque = field(default_factory=collections.deque)  # tuples of Decisions or DecisionColumns
    _count: int = 0
    _drift: Any = None
    _trend: collections.deque = field(default_factory=collections.deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, batch: DecisionBatch) -> None:
        """Add one batch, dropping (and counting) the oldest decisions when the reader falls behind."""
        with self._lock:
            if len(batch.items):
                self._items.append(batch.items)  # columns stay columns: objects are made by the reader
                self._count += len(batch.items)
            while self._count > self.maxlen:
                extra = self._count - self.maxlen
                if len(self._items[0]) <= extra:
                    gone = len(self._items.popleft())
                else:
                    self._items[0], gone = self._items[0][extra:], extra
                self._count -= gone
                self.dropped += gone
            self._drift = batch.drift
            self._trend.extend(batch.drift_trend)
            while len(self._trend) > self.trend_max:
                self._trend.popleft()

    def drain(self) -> DecisionBatch:
        """Everything published since the last drain as one batch (its ``drift``: the latest published)."""
        with self._lock:
            parts, drift, trend = list(self._items), self._drift, tuple(self._trend)
            self._items.clear()
            self._trend.clear()
            self._count = 0
        return DecisionBatch(tuple(d for part in parts for d in part), drift, trend)


def percentile_ms(values: collections.deque | list, q: float) -> float:
    """The q-th percentile of latencies in seconds, in milliseconds (NaN when empty)."""
    return float(np.percentile(np.asarray(values) * 1e3, q)) if len(values) else float("nan")
