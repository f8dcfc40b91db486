"""What the engine publishes (a ``DecisionBatch`` of ``Decision``s with the drift then) and a mailbox to read it from.

Subscribers never slow the engine down: a ``Subscription`` is a bounded deque that drops its
oldest decisions (and counts them) when its reader is slow, so a stalled GUI costs memory of at
most ``maxlen`` decisions and the engine never waits for it.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np

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
    phi:
        (n_classes, n_channels) exact channel Shapley values of every class probability, or ``None``
        when Shapley is switched off.
    total:
        (n_classes,) C = f(all) − f(∅) = Σ_n φ_n per class (``None`` without Shapley).
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

    @property
    def phi_label(self) -> np.ndarray | None:
        """(n_channels,) φ of the model's predicted class (what the armband ring shows)."""
        return None if self.phi is None else self.phi[self.raw_label]

    def as_vector(self) -> np.ndarray:
        """Flat float32 [label, probabilities…, φ of the predicted class…] (the LSL outlet's sample)."""
        phi = self.phi_label if self.phi is not None else np.full(0, np.nan)
        return np.concatenate([[float(self.label)], self.probabilities, phi]).astype(np.float32)


@dataclass(frozen=True)
class DecisionBatch:
    """What every subscriber receives (GUI, LSL outlet, decision log, recorders): decisions and the drift at that point.

    ``len``, iteration and indexing go over ``decisions``.

    Attributes
    ----------
    decisions:
        The batch's decisions, oldest first.
    drift:
        The drift stage's latest assessment once it has taken these decisions in; None when the engine has no
        drift stage or the deciding model no reference to compare with.
    drift_trend:
        The assessments the stage made inside the batch, each with the signal time it was made at.
    """

    decisions: tuple[Decision, ...] = ()
    drift: DriftAssessment | None = None
    drift_trend: tuple[tuple[float, DriftAssessment], ...] = ()

    def __len__(self) -> int:
        return len(self.decisions)

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
    _items: collections.deque = field(default_factory=collections.deque)
    _drift: Any = None
    _trend: collections.deque = field(default_factory=collections.deque)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def put(self, batch: DecisionBatch) -> None:
        """Add one batch, dropping (and counting) the oldest decisions when the reader falls behind."""
        with self._lock:
            for d in batch.decisions:
                if len(self._items) >= self.maxlen:
                    self._items.popleft()
                    self.dropped += 1
                self._items.append(d)
            self._drift = batch.drift
            self._trend.extend(batch.drift_trend)
            while len(self._trend) > self.trend_max:
                self._trend.popleft()

    def drain(self) -> DecisionBatch:
        """Everything published since the last drain as one batch (its ``drift``: the latest published)."""
        with self._lock:
            out = DecisionBatch(tuple(self._items), self._drift, tuple(self._trend))
            self._items.clear()
            self._trend.clear()
            return out


def percentile_ms(values: collections.deque | list, q: float) -> float:
    """The q-th percentile of latencies in seconds, in milliseconds (NaN when empty)."""
    return float(np.percentile(np.asarray(values) * 1e3, q)) if len(values) else float("nan")
