"""Post-processing of raw decisions: majority vote over the last k windows, then rejection.

Kept apart from the engine so it can be changed live (both settings are plain attributes read
on every decision) and tested on its own.
"""

from __future__ import annotations

import collections

import numpy as np

from myoxai.engine.decision import REJECTED


class PostProcessor:
    """Majority vote over the last ``vote`` raw labels, rejected below ``threshold``.

    Parameters
    ----------
    vote:
        Number of most recent decisions in the vote (1 = no smoothing).
    threshold:
        Minimum mean probability of the voted class over the vote window; below it the decision is
        ``REJECTED``. 0 disables rejection.

    Notes
    -----
    Ties go to the most recent of the tied labels, so a change of gesture wins as soon as it
    has as many votes as the old one.
    """

    def __init__(self, vote: int = 5, threshold: float = 0.0) -> None:
        self.vote = vote
        self.threshold = threshold
        self._history: collections.deque[tuple[int, np.ndarray]] = collections.deque(maxlen=256)
        self._reset = False

    def reset(self) -> None:
        """Forget the history (after a gap or a model swap) before the next decision.

        Safe to call from any thread: it only raises a flag that the deciding thread acts on.
        """
        self._reset = True

    def __call__(self, probabilities: np.ndarray) -> tuple[int, float]:
        """(label, confidence) of the newest window given its class probabilities."""
        if self._reset:
            self._reset = False
            self._history.clear()
        p = np.asarray(probabilities, dtype=np.float64)
        raw = int(p.argmax())
        history = self._history
        history.append((raw, p))
        k = min(max(1, int(self.vote)), len(history))
        if k == 1:
            label, confidence = raw, float(p[raw])
        else:  # plain lists instead of a Counter: this runs once per window, 40 000 times a second offline
            n = len(history)
            recent = [history[n - k + i] for i in range(k)]
            labels = [lab for lab, _ in recent]
            best = max(labels.count(lab) for lab in labels)
            label = next(lab for lab in reversed(labels) if labels.count(lab) == best)
            confidence = float(sum(q[label] for _, q in recent) / k)
        if confidence < float(self.threshold):
            return REJECTED, confidence
        return label, confidence
