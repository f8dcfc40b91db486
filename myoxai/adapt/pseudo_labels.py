"""SCADANN pseudo-labelling of a time-ordered stream of classifier outputs.

People hold a gesture for a while, so a classifier's outputs over a stream are piecewise
constant up to noise. The labeller keeps the current gesture while predictions agree with it;
when they change it enters an *unstable* state, collects the recent softmax outputs in a rolling
buffer and declares a new stable gesture once the (normalised) median probability of one class
in the buffer passes a threshold. The unstable span is then relabelled to the winning class if it
was short, or discarded if it lasted too long to trust (Côté-Allard et al., IEEE Access 2020).

Durations are in seconds and converted to windows with the stream's window step (``step_s``,
0.05 s for our 10-sample step at 200 Hz). Defaults are the reference's evaluation settings
(Côté-Allard et al., LongTermEMG ``pseudo_labels_heuristic`` as called for SCADANN): a 30-window
buffer, instability limits of 40 windows, threshold 0.65, look-back on over 10 windows with an
entropy jump of 0.25; at the reference's ~50 ms step those are 1.5 s, 2 s and 0.5 s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

UNLABELED = -1


@dataclass(frozen=True)
class PseudoLabelSettings:
    """Parameters of the stability heuristic (defaults: the reference's values, as durations).

    Attributes
    ----------
    buffer_s:
        Length of the rolling buffer of softmax outputs while unstable (1.5 s = 30 windows).
    threshold:
        Normalised median probability a class needs in the buffer to become the stable gesture
        (the reference's 0.65; it used 0.85 only for 7-gesture training sessions).
    max_unstable_same_s:
        Longest unstable span that is relabelled when the stream returns to the same gesture;
        longer spans are discarded (2 s = 40 windows).
    max_unstable_transition_s:
        Longest unstable span relabelled to the new gesture after a transition; longer are discarded.
    look_back:
        Move a transition back to where the prediction entropy jumped (the classifier often keeps
        the old label for a few windows after the user has already moved).
    look_back_s:
        How far before the unstable span the look-back searches (0.5 s = 10 windows).
    entropy_jump:
        Increase of entropy (nats) between consecutive windows that marks the transition.
    step_s:
        Time between consecutive windows of the stream (the signal config's step / fs).
    """

    buffer_s: float = 1.5
    threshold: float = 0.65
    max_unstable_same_s: float = 2.0
    max_unstable_transition_s: float = 2.0
    look_back: bool = True
    look_back_s: float = 0.5
    entropy_jump: float = 0.25
    step_s: float = 0.05

    def windows(self, seconds: float) -> int:
        """A duration as a number of windows of the stream (at least 1)."""
        return max(1, int(round(seconds / self.step_s)))

    @property
    def buffer(self) -> int:
        """``buffer_s`` in windows."""
        return self.windows(self.buffer_s)

    @property
    def max_unstable_same(self) -> int:
        """``max_unstable_same_s`` in windows."""
        return self.windows(self.max_unstable_same_s)

    @property
    def max_unstable_transition(self) -> int:
        """``max_unstable_transition_s`` in windows."""
        return self.windows(self.max_unstable_transition_s)

    @property
    def look_back_windows(self) -> int:
        """``look_back_s`` in windows."""
        return self.windows(self.look_back_s)

    def threshold_for(self, n_classes: int) -> float:  # noqa: ARG002 - kept for callers; one threshold now
        """The confidence threshold (the same for any number of classes)."""
        return float(self.threshold)

    def to_dict(self) -> dict[str, Any]:
        """The settings as plain JSON values (recorded with the results they produce)."""
        return asdict(self)


def prediction_entropy(p: np.ndarray) -> np.ndarray:
    """Shannon entropy (nats) of each row of class probabilities, in float64 (0 · log 0 taken as 0)."""
    q = np.clip(np.asarray(p, dtype=np.float64), 1e-12, 1.0)
    return -(q * np.log(q)).sum(axis=-1)


def _stable_class(buffer: list[np.ndarray], threshold: float) -> int | None:
    med = np.median(np.asarray(buffer), axis=0)
    total = med.sum()
    if total <= 0:
        return None
    share = med / total
    best = int(np.argmax(share))
    return best if share[best] > threshold else None


def _look_back_start(probs: np.ndarray, unstable_start: int, n: int, jump: float) -> int:
    """First window in the ``n`` before ``unstable_start`` after which entropy rose by more than ``jump``."""
    lo = max(0, unstable_start - n)
    ent = prediction_entropy(probs[lo:unstable_start + 1])
    rises = np.flatnonzero(np.diff(ent) > jump)
    return lo + int(rises[0]) + 1 if len(rises) else unstable_start


def pseudo_labels(probs: np.ndarray, settings: PseudoLabelSettings | None = None) -> np.ndarray:
    """Pseudo-label each window of a time-ordered stream from the classifier's softmax outputs.

    Parameters
    ----------
    probs:
        (n, n_classes) class probabilities, in the order the windows were recorded.
    settings:
        Heuristic parameters; defaults as documented in ``PseudoLabelSettings``.

    Returns
    -------
    (n,) int64 labels; ``UNLABELED`` (-1) for windows whose label was discarded.
    """
    s = settings or PseudoLabelSettings()
    p = np.asarray(probs, dtype=np.float64)
    if p.ndim != 2:
        raise ValueError(f"probs must be (n, n_classes), got shape {p.shape}")
    n, n_classes = p.shape
    labels = np.full(n, UNLABELED, dtype=np.int64)
    if n == 0:
        return labels
    threshold = s.threshold_for(n_classes)
    pred = p.argmax(axis=1)
    current = int(np.argmax(np.median(p[: s.buffer], axis=0)))
    stable, start, buf = True, 0, []
    for i in range(n):
        if stable and pred[i] != current:
            stable, start, buf = False, i, []
        if stable:
            labels[i] = current
            continue
        buf.append(p[i])
        if len(buf) > s.buffer:
            buf.pop(0)
        if len(buf) < s.buffer:
            continue
        winner = _stable_class(buf, threshold)
        if winner is None:
            continue
        span = i - start + 1
        limit = s.max_unstable_same if winner == current else s.max_unstable_transition
        if span <= limit:
            labels[start:i + 1] = winner
            if s.look_back and winner != current:
                moved = _look_back_start(p, start, s.look_back_windows, s.entropy_jump)
                labels[moved:start] = winner
        current, stable = winner, True
    if not stable:  # the stream ended mid-instability: keep the tail only if it is already clear
        winner = _stable_class(buf, threshold) if buf else None
        limit = s.max_unstable_same if winner == current else s.max_unstable_transition
        if winner is not None and n - start <= limit:
            labels[start:] = winner
    return labels


def pseudo_label_summary(labels: np.ndarray, predictions: np.ndarray) -> dict[str, float]:
    """Coverage (share of windows kept) and agreement (share of kept labels equal to the raw argmax)."""
    labels = np.asarray(labels)
    kept = labels != UNLABELED
    coverage = float(kept.mean()) if len(labels) else 0.0
    agreement = float(np.mean(labels[kept] == np.asarray(predictions)[kept])) if kept.any() else 0.0
    return {"coverage": coverage, "agreement": agreement, "n_labeled": int(kept.sum()), "n_windows": int(len(labels))}
