"""Post-processing of raw decisions: majority vote over the last k windows, then rejection.

Kept apart from the engine so it can be tested on its own; both settings are plain attributes read
on every batch, changed live through ``Engine.set_postprocessing``.
"""

from __future__ import annotations

import collections

import numpy as np

from myoxai.engine.decision import REJECTED

DEFAULT_VOTE = 1  # chosen on selection data by delay and real-time accuracy (``myoxai bench delay``, docs/live.md)


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

    def __init__(self, vote: int = DEFAULT_VOTE, threshold: float = 0.0) -> None:
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
        """(label, confidence) of the newest window given its class probabilities (``batch`` of one)."""
        labels, confidences = self.batch(np.asarray(probabilities)[None])
        return int(labels[0]), float(confidences[0])

    def batch(self, probabilities: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(labels, confidences) of n consecutive windows, the same whatever the batching.

        Offline replay classifies thousands of windows a second, where a Python call per window would
        cost more than the model: the vote is counted with cumulative one-hot sums.
        """
        p_new = np.asarray(probabilities, dtype=np.float64)
        n = p_new.shape[0]
        if n == 0:
            return np.empty(0, np.int64), np.empty(0)
        if self._reset or (self._history and len(self._history[-1][1]) != p_new.shape[1]):
            self._reset = False  # (a model with other gestures may decide before its swap's reset arrives)
            self._history.clear()
        k_max = min(max(1, int(self.vote)), self._history.maxlen or 256)
        past = list(self._history)[max(0, len(self._history) - (k_max - 1)):] if k_max > 1 else []
        p_all = np.concatenate([np.stack([q for _, q in past]), p_new]) if past else p_new
        raw_new = p_new.argmax(axis=1)
        lab_all = np.concatenate([np.array([lab for lab, _ in past], np.int64), raw_new])
        h = len(past)
        g = h + np.arange(n)  # position of each new window in the joined arrays
        width = np.minimum(k_max, g + 1 + (len(self._history) - h))  # windows in each vote (fewer after a reset)
        onehot = np.zeros((len(lab_all) + 1, p_all.shape[1]), np.int64)
        onehot[np.arange(1, len(lab_all) + 1), lab_all] = 1
        cum = np.cumsum(onehot, axis=0)
        counts = cum[g + 1] - cum[g + 1 - width]
        best = counts.max(axis=1)
        label = np.full(n, -1, np.int64)
        for j in range(k_max):  # newest first: ties go to the most recent of the tied labels
            ok = (j < width) & (label < 0)
            cand = lab_all[np.maximum(g - j, 0)]
            take = ok & (counts[np.arange(n), cand] == best)
            label[take] = cand[take]
        total = np.zeros(n)
        for j in range(k_max - 1, -1, -1):  # oldest first, whatever the batching
            valid = j < width
            total[valid] = total[valid] + p_all[(g - j)[valid], label[valid]]
        confidence = total / width
        for lab, q in zip(raw_new.tolist(), p_new, strict=True):
            self._history.append((lab, q))
        label[confidence < float(self.threshold)] = REJECTED
        return label, confidence
