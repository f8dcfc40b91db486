"""The drift stage: keeps the last seconds of non-rest decisions and assesses drift against the model's reference.

It runs in the engine thread, between the decisions and their publication (``Engine(..., drift=True)``
builds it as ``engine.drift_stage``). Per decision it keeps only the window's per-electrode power, its
top probability, entropy and predicted gesture and φ of the predicted class, in rings
(``myoxai.adapt.drift.RollingSums``); every ``every_s`` seconds of signal it adds them up and compares
the sums with the model's reference (``sums_components``), without re-stacking the 30 s window.
The engine publishes its latest assessment, and the assessments made inside the batch (the trend),
with every ``DecisionBatch``; readers never touch the stage itself.

The reference comes from the model file (``drift_reference``, written at training/calibration time);
for a model without one, ``myoxai.live.drift_reference.reference_for_model`` computes it from the model's
training windows.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from types import SimpleNamespace
from typing import Any

import numpy as np

from myoxai.adapt.drift import (
    DriftAssessment,
    DriftReference,
    DriftThresholds,
    RollingSums,
    assess,
    sums_components,
    window_power,
)

log = logging.getLogger(__name__)

REFERENCE_KEY = "drift_reference"  # the model file's JSON entry


def rest_class(class_names: Sequence[str]) -> int | None:
    """Index of the gesture named "rest" (any case), or None when the model has none."""
    lowered = [c.lower() for c in class_names]
    return lowered.index("rest") if "rest" in lowered else None


def stored_reference(model: Any) -> DriftReference | None:
    """The validated reference in the model file, or None when the file has none."""
    entry = (getattr(model, "description", None) or {}).get(REFERENCE_KEY)
    if entry is None:
        return None
    return DriftReference.from_dict(entry, n_classes=int(model.n_classes))


class DriftMonitor:
    """Rolling drift assessment of the decisions of one model.

    Parameters
    ----------
    reference:
        The model's calibration reference (None: nothing to compare with, the state stays "ok").
    window_s:
        Length of the rolling window, in seconds of non-rest decisions.
    min_s:
        Seconds of non-rest decisions needed before anything but "ok" can be reported.
    every_s:
        Signal seconds between two assessments.
    step_s:
        Seconds per decision (config step / fs).
    thresholds:
        Watch / recalibrate levels per component.
    model_reference:
        Called when the deciding model changes (swap, revert, recalibration): the new model's
        reference, or None to keep the current one (e.g. ``lambda: stored_reference(engine.active.model)``).
    """

    def __init__(self, reference: DriftReference | None, window_s: float = 30.0, min_s: float = 5.0,
                 every_s: float = 1.0, step_s: float = 0.05, thresholds: DriftThresholds | None = None,
                 model_reference: Callable[[], DriftReference | None] | None = None) -> None:
        self.reference = reference
        self.model_reference = model_reference
        self.thresholds = thresholds or DriftThresholds()
        self.every_s, self.min_n = every_s, int(round(min_s / step_s))
        self._window = RollingSums(int(round(window_s / step_s)))
        self._latest = DriftAssessment()
        self._pending: tuple[DriftReference] | None = None  # from set_reference, applied by the engine thread
        self._next_t: float | None = None
        self._model_version: int | None = None
        self._n_classes = 0

    def __call__(self, decisions: Sequence[Any]) -> list[tuple[float, DriftAssessment]]:
        """Take a batch's non-rest decisions; reassess every ``every_s`` seconds of signal (also inside a backlog).

        ``decisions`` are the engine's ``DecisionColumns`` (one model; read as arrays) or ``Decision``
        objects. Returns the assessments made, each with the timestamp of the decision that triggered it.
        """
        if not hasattr(decisions, "raw_labels"):  # Decision objects: one at a time, as columns of one row
            return [m for d in decisions for m in self(_one_row(d))]
        c, n = decisions, len(decisions.timestamps)
        if not n:
            return []
        if self._model_version is not None and c.model_version != self._model_version:
            self._n_classes = c.probabilities.shape[1]
            self._new_model()
        self._model_version = c.model_version
        if self._pending is not None:  # after the model check: it wins over the new model's stored reference
            (self.reference,), self._pending = self._pending, None
            self.reset()
        if self.reference is None:
            return []
        keep = (c.raw_labels != self.reference.rest) & (c.spectrograms is not None)
        power = window_power(c.spectrograms[keep]) if keep.any() else None
        at = np.cumsum(keep) - keep  # index into ``power`` of each kept row
        ts, made, start = np.asarray(c.timestamps, float), [], 0
        if self._next_t is None:
            self._next_t = float(ts[0]) + self.every_s
        while start < n:  # each trigger: the first decision at or after the next assessment time
            hits = np.flatnonzero(ts[start:] >= self._next_t)
            end = start + int(hits[0]) + 1 if len(hits) else n
            rows = np.flatnonzero(keep[start:end]) + start
            if len(rows):
                self._window.extend(power[at[rows]], c.probabilities[rows],
                                    None if c.phi is None else c.phi[rows, c.raw_labels[rows]])
            if len(hits):
                self._next_t = float(ts[end - 1]) + self.every_s
                made.append((float(ts[end - 1]), self.update()))
            start = end
        return made

    def update(self) -> DriftAssessment:
        """Assess the current window now (also called on the stage's schedule)."""
        n = len(self._window)
        if self.reference is None or n < self.min_n:
            result = DriftAssessment(n_windows=n)
        else:
            result = assess(sums_components(self.reference, self._window.sums()), self.thresholds, n)
        self._latest = result
        return result

    def _new_model(self) -> None:
        """A new model decides: compare with its own reference from now on, from scratch.

        A model without a stored reference keeps the current one if it has the same gestures (e.g.
        a reverted model); with other gestures there is nothing to compare with.
        """
        new = None
        if self.model_reference is not None:
            try:
                new = self.model_reference()
            except Exception:  # a malformed entry must not stop the engine thread
                log.exception("drift reference of the new model unreadable")
        if new is not None:
            self.reference = new
        elif self.reference is not None and len(self.reference.class_log_rms) != self._n_classes:
            self.reference = None
        self.reset()

    def reset(self) -> None:
        """Start the assessment from scratch: empty the windows seen so far and the latest result."""
        self._window.clear()
        self._latest = DriftAssessment()
        self._next_t = None

    def set_reference(self, reference: DriftReference) -> None:
        """Compare with ``reference`` from the next decision on, from scratch (e.g. after Quick adapt).

        Safe from any thread: the engine thread takes it up with the next batch, after it has noticed
        a model swapped in before the call, so the reference given here wins over that model's stored
        one. A model swapped in later brings its own again.
        """
        self._pending = (reference,)

    @property
    def latest(self) -> DriftAssessment | None:
        """The latest assessment; None when there is no reference to compare with."""
        return None if self.reference is None else self._latest


def _one_row(d: Any) -> Any:
    """A ``Decision`` as one row of columns (the fields the stage reads)."""
    return SimpleNamespace(raw_labels=np.array([d.raw_label]), model_version=d.model_version, phi=_row(d.phi),
                           probabilities=_row(d.probabilities), timestamps=np.array([d.timestamp]),
                           spectrograms=_row(d.spectrogram))


def _row(a: Any) -> np.ndarray | None:
    return None if a is None else np.asarray(a)[None]


def make_drift_stage(active_model: Callable[[], Any], step_s: float) -> DriftMonitor | None:
    """The engine's drift stage for the model ``active_model()`` returns; None when that model has no reference.

    The stage follows model changes: a swapped-in model brings its own stored reference.
    """
    reference = stored_reference(active_model())
    if reference is None:
        log.info("the model has no drift reference: drift monitoring off")
        return None
    return DriftMonitor(reference, step_s=step_s, model_reference=lambda: stored_reference(active_model()))


STATE_CODES = {"ok": 0, "watch": 1, "recalibrate": 2}

CAUSE_TEXT = {"rotation": "armband rotated", "gain": "signal amplitude changed", "shapley":
              "electrode contributions changed", "confidence": "the model is less confident"}


def cause_sentence(state: str, cause: str, components: dict[str, Any]) -> str:
    """What to tell the user, e.g. 'armband rotated by +1.0 electrodes'."""
    if state == "ok" or not cause:
        return ""
    text = CAUSE_TEXT.get(cause, cause)
    v = components.get(cause)
    if cause == "rotation" and v is not None:
        text += f" by {v:+.1f} electrodes"
    elif cause == "gain" and v is not None:
        text += f" (×{v:.2f})"
    elif cause == "confidence" and v is not None:
        text += f" ({v:+.2f})"
    elif cause == "shapley" and v is not None:
        text += f" (distance {v:.2f})"
    return text
