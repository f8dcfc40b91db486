"""SCADANN pseudo-labelling of a time-ordered stream of classifier outputs.

People hold a gesture for a while, so a classifier's outputs over a stream are piecewise
constant up to noise. The labeller keeps the current gesture while predictions agree with it;
when they change it enters an *unstable* state, collects the recent softmax outputs in a rolling
buffer and declares a new stable gesture once the (normalised) median probability of one class
in the buffer passes a threshold. The unstable span is then relabelled to the winning class if it
was short, or discarded if it lasted too long to trust (Côté-Allard et al., IEEE Access 2020).

Window counts are in windows of the stream (our step is 10 samples = 50 ms). The reference used
150 ms windows every ~50 ms too, so its counts carry over as durations: a 30-window buffer is
1.5 s of holding a gesture and a 40-window instability limit is 2 s.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

UNLABELED = -1


@dataclass(frozen=True)
class PseudoLabelSettings:
    """Parameters of the stability heuristic (defaults: the reference's values at our 50 ms step).

    Attributes
    ----------
    buffer:
        Windows in the rolling buffer of softmax outputs while unstable (30 = 1.5 s).
    threshold:
        Normalised median probability a class needs in the buffer to become the stable gesture.
        ``None`` picks 0.85 for up to 8 classes and 0.65 for more (more classes spread the
        probability mass, as in the reference's 0.65-0.85 range).
    max_unstable_same:
        Longest unstable span (windows) that is relabelled when the stream returns to the same
        gesture; longer spans are discarded (40 = 2 s).
    max_unstable_transition:
        Longest unstable span relabelled to the new gesture after a transition; longer are discarded.
    look_back:
        Move a transition back to where the prediction entropy jumped (the classifier often keeps
        the old label for a few windows after the user has already moved).
    look_back_windows:
        How many windows before the unstable span the look-back searches (10 = 0.5 s).
    entropy_jump:
        Increase of entropy (nats) between consecutive windows that marks the transition.
    """

    buffer: int = 30
    threshold: float | None = None
    max_unstable_same: int = 40
    max_unstable_transition: int = 40
    look_back: bool = False
    look_back_windows: int = 10
    entropy_jump: float = 0.25

    def threshold_for(self, n_classes: int) -> float:
        if self.threshold is not None:
            return float(self.threshold)
        return 0.85 if n_classes <= 8 else 0.65

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _entropy(p: np.ndarray) -> np.ndarray:
    q = np.clip(p, 1e-12, 1.0)
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
    ent = _entropy(probs[lo:unstable_start + 1])
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
