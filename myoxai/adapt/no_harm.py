"""No harm by a click: an unlabeled check that an instant adaptation does not make things worse.

An adaptation (Quick adapt, a quick calibration) is fitted on most of the buffer and judged on the
rest: every ``every``-th block of ``block`` consecutive windows is held back (blocks, not single
windows, because neighbouring windows share 80 % of their samples). On the held-back windows the
candidate must not be less confident, must not have a higher prediction entropy, and must agree
with the previous model on the windows that model was confident about (when there are enough of
them to judge). No labels are used, so the check runs live and from ``myoxai adapt`` alike.

Chosen on the bundled recording (``myoxai adapt``; window-level accuracy on the held-back windows
in brackets): unrotated, Quick adapt lowered the mean confidence 0.784 → 0.710 and raised entropy
+0.11 (accuracy 0.922 → 0.901) and is declined; rotated by one electrode, confidence 0.638 → 0.710,
entropy −0.21, agreement 1.00 on the 22 windows the old model held at ≥ 0.9 (accuracy 0.667 →
0.901); rotated by two, the old model is confident on a single window, so agreement is not judged
(accuracy 0.567 → 0.901). The old model's confident windows at 0.8 would have rejected that one:
it is confidently wrong on a rotated band.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from myoxai.adapt.pseudo_labels import prediction_entropy


@dataclass(frozen=True)
class NoHarmSettings:
    """The held-back split and the tolerances of the check.

    Attributes
    ----------
    block, every:
        Blocks of ``block`` consecutive windows (40 = 2 s); every ``every``-th block is held back.
    max_confidence_drop:
        The candidate's mean top probability may fall by at most this much.
    max_entropy_rise:
        Its mean prediction entropy (nats) may rise by at most this much.
    confident, min_confident, min_agreement:
        Where the previous model's top probability is ≥ ``confident`` (at least ``min_confident``
        such windows), the candidate must predict the same gesture on ≥ ``min_agreement`` of them.
    """

    block: int = 40
    every: int = 4
    max_confidence_drop: float = 0.02
    max_entropy_rise: float = 0.05
    confident: float = 0.9
    min_confident: int = 30
    min_agreement: float = 0.8


@dataclass
class NoHarmCheck:
    """The check's verdict and the numbers it was made on (all on the held-back windows)."""

    accepted: bool
    reason: str
    n_windows: int
    confidence_before: float
    confidence_after: float
    entropy_before: float
    entropy_after: float
    n_confident: int  # windows the previous model held at ≥ settings.confident
    agreement: float | None  # share of them the candidate predicts alike (None: too few to judge)

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values, rounded (written into the adapted model's report)."""
        return {k: round(v, 4) if isinstance(v, float) else v for k, v in asdict(self).items()}

    def summary(self) -> str:
        """One line for a status bar or a terminal."""
        agree = "n/a" if self.agreement is None else f"{self.agreement:.0%} of {self.n_confident}"
        return (f"confidence {self.confidence_before:.3f} → {self.confidence_after:.3f}, entropy "
                f"{self.entropy_before:.3f} → {self.entropy_after:.3f}, agreement on confident windows {agree} "
                f"({self.n_windows} held-back windows)")


def split_held_back(n: int, settings: NoHarmSettings = NoHarmSettings()) -> tuple[np.ndarray, np.ndarray]:
    """(indices to adapt on, held-back indices) of ``n`` time-ordered windows."""
    held = (np.arange(n) // settings.block) % settings.every == settings.every - 1
    return np.flatnonzero(~held), np.flatnonzero(held)


def no_harm_check(before: np.ndarray, after: np.ndarray,
                  settings: NoHarmSettings = NoHarmSettings()) -> NoHarmCheck:
    """Judge a candidate by its probabilities ``after`` against the previous model's ``before``.

    Parameters
    ----------
    before, after:
        (n, classes) probabilities of the previous model and of the candidate on the same
        held-back windows.
    """
    p0, p1 = np.asarray(before, float), np.asarray(after, float)
    if p0.shape != p1.shape or p0.ndim != 2 or len(p0) == 0:
        raise ValueError(f"need two equal (n, classes) probability arrays, got {p0.shape} and {p1.shape}")
    c0, c1 = float(p0.max(1).mean()), float(p1.max(1).mean())
    e0, e1 = float(prediction_entropy(p0).mean()), float(prediction_entropy(p1).mean())
    sure = p0.max(1) >= settings.confident
    agreement = (float(np.mean(p0[sure].argmax(1) == p1[sure].argmax(1)))
                 if sure.sum() >= settings.min_confident else None)
    reasons = []
    if c0 - c1 > settings.max_confidence_drop:
        reasons.append(f"the model would be less confident ({c0:.3f} → {c1:.3f})")
    if e1 - e0 > settings.max_entropy_rise:
        reasons.append(f"its predictions would be less certain (entropy {e0:.3f} → {e1:.3f})")
    if agreement is not None and agreement < settings.min_agreement:
        reasons.append(f"it would change {1 - agreement:.0%} of the {int(sure.sum())} gestures the old model "
                       "was sure of")
    return NoHarmCheck(not reasons, "; ".join(reasons), len(p0), c0, c1, e0, e1, int(sure.sum()), agreement)
