"""Drift of the signal since calibration, from unlabeled data: reference profile, named components, one state.

At training/calibration time ``reference_from_outputs`` summarises the model's non-rest training
windows: the per-electrode energy profile (log-RMS of the spectrogram) and its spread, the mean
prediction confidence and entropy, the low-confidence ("rejection") rate, and the per-gesture
Shapley profile (mean φ of the predicted class over the windows predicted as that gesture, scaled
to unit L1 norm). It is stored in the model file as the JSON entry ``drift_reference``.

Later, ``drift_components`` compares a batch of unlabeled non-rest windows (a rolling window live,
a day's unlabeled trials offline) with it:

- ``gain``: overall amplitude ratio, exp(mean over electrodes of the log-RMS change);
- ``rotation``: signed circular shift of the energy profile in electrodes (``myoxai.adapt.rotation``;
  positive = content moved towards higher electrode indices);
- ``confidence`` and ``entropy``: change of the mean top probability (negative = less sure) and of
  the mean prediction entropy in nats (positive = less sure);
- ``shapley``: count-weighted cosine distance (0 … 2) of each gesture's live Shapley profile from
  its reference.

``assess`` turns components into one state (ok / watch / recalibrate) with thresholds per
component. The cause named is the highest-priority component at the state's level: a physical
cause (rotation, then gain) before a symptom (Shapley profile, confidence, entropy), because a rotated
band also moves the Shapley profile and costs confidence, and the user can act on "rotated".
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field
from functools import cached_property
from typing import Any

import numpy as np

from myoxai.adapt.pseudo_labels import prediction_entropy
from myoxai.adapt.rotation import energy_profile, estimate_shift
from myoxai.errors import MyoxaiError

REFERENCE_VERSION = 1
REJECT_BELOW = 0.5  # a window whose top probability is below this counts as a rejection in the reference
COMPONENTS = ("rotation", "gain", "shapley", "confidence", "entropy")  # also the priority of causes
MIN_PER_GESTURE = 5  # windows a gesture needs before its Shapley profile is compared


def window_power(spectrograms: np.ndarray) -> np.ndarray:
    """(n, electrodes) mean power of each window's magnitude spectrogram (n, frames, electrodes, freqs)."""
    s = np.asarray(spectrograms, dtype=np.float64)
    return np.einsum("nfeq,nfeq->ne", s, s) / (s.shape[1] * s.shape[3])  # (s * s).mean(axis=(1, 3)), faster


def normalised_profiles(phi_pred: np.ndarray, predicted: np.ndarray, n_classes: int,
                        min_count: int = MIN_PER_GESTURE) -> tuple[np.ndarray, np.ndarray]:
    """(n_classes, electrodes) mean φ of the predicted class per gesture, L1-normalised (NaN rows: too few), counts."""
    phi_pred, predicted = np.asarray(phi_pred, float), np.asarray(predicted, int)
    out = np.full((n_classes, phi_pred.shape[1]), np.nan)
    counts = np.bincount(predicted, minlength=n_classes)[:n_classes]
    for c in np.flatnonzero(counts >= min_count):
        m = phi_pred[predicted == c].mean(axis=0)
        norm = np.abs(m).sum()
        if norm > 0:
            out[c] = m / norm
    return out, counts


@dataclass(frozen=True)
class DriftReference:
    """What the model's calibration data looked like (stored in the model file)."""

    log_rms: np.ndarray  # (electrodes,) energy profile of non-rest windows
    class_log_rms: np.ndarray  # (n_classes, electrodes) energy profile per predicted gesture; NaN rows = unseen
    spread: np.ndarray  # (electrodes,) sd of the per-window log-RMS
    confidence: float
    entropy: float
    rejection_rate: float  # share of windows with top probability < REJECT_BELOW
    shapley: np.ndarray | None  # (n_classes, electrodes) normalised per-gesture profile; NaN rows = unseen
    rest: int | None
    n_windows: int

    @cached_property
    def class_power(self) -> np.ndarray:
        """(n_classes, electrodes) mean power per gesture (the pooled profile's for gestures never seen)."""
        return np.exp(2 * np.where(np.isnan(self.class_log_rms), self.log_rms[None], self.class_log_rms))

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values, rounded, with the format version (stored in the model file)."""
        d = asdict(self)
        for k in ("log_rms", "spread"):
            d[k] = np.round(d[k], 6).tolist()
        for k in ("class_log_rms", "shapley"):
            rows = getattr(self, k)
            d[k] = None if rows is None else [None if np.isnan(r).any() else np.round(r, 6).tolist() for r in rows]
        return {"version": REFERENCE_VERSION, **d}

    @classmethod
    def from_dict(cls, d: Any, n_classes: int | None = None, n_electrodes: int = 8) -> DriftReference:
        """Validate a stored ``drift_reference`` entry; a malformed one is a ``MyoxaiError`` naming the field."""
        def bad(what: str) -> MyoxaiError:
            return MyoxaiError(f"the model file's drift_reference is malformed ({what}); retrain the model or "
                               "remove the entry")

        if not isinstance(d, dict) or d.get("version") != REFERENCE_VERSION:
            raise bad(f"expected an object with version {REFERENCE_VERSION}")
        try:
            log_rms, spread = (np.asarray(d[k], float) for k in ("log_rms", "spread"))
            scalars = [float(d[k]) for k in ("confidence", "entropy", "rejection_rate")]
            rows, class_rms = (None if d.get(k) is None else np.array(
                [np.full(n_electrodes, np.nan) if r is None else np.asarray(r, float) for r in d[k]], float)
                for k in ("shapley", "class_log_rms"))
            rest = None if d.get("rest") is None else int(d["rest"])
            n = int(d["n_windows"])
        except (KeyError, TypeError, ValueError) as exc:
            raise bad(str(exc)) from None
        if log_rms.shape != (n_electrodes,) or spread.shape != (n_electrodes,) or not np.isfinite(log_rms).all():
            raise bad(f"log_rms/spread must hold {n_electrodes} finite numbers")
        if not all(math.isfinite(v) for v in scalars) or not 0 <= scalars[0] <= 1:
            raise bad("confidence/entropy/rejection_rate must be finite, confidence in 0-1")
        for what, m in (("shapley", rows), ("class_log_rms", class_rms)):
            if m is not None and (m.ndim != 2 or m.shape[1] != n_electrodes
                                  or (n_classes is not None and m.shape[0] != n_classes)):
                raise bad(f"{what} must be one row of {n_electrodes} electrodes per gesture")
        if class_rms is None:
            raise bad("class_log_rms is missing")
        return cls(log_rms, class_rms, spread, *scalars, rows, rest, n)


def reference_from_outputs(spectrograms: np.ndarray, probabilities: np.ndarray, phi_pred: np.ndarray | None,
                           rest: int | None) -> DriftReference:
    """The reference of a model on its calibration windows (non-rest by the model's own prediction).

    Parameters
    ----------
    spectrograms:
        (n, frames, electrodes, freqs) raw magnitude spectrograms of the calibration windows.
    probabilities:
        (n, n_classes) the model's outputs on them.
    phi_pred:
        (n, electrodes) exact Shapley values of the predicted class, or None.
    rest:
        Index of the rest class (its windows carry no energy profile worth comparing), or None.
    """
    proba = np.asarray(probabilities, float)
    pred = proba.argmax(axis=1)
    keep = pred != rest if rest is not None else np.ones(len(pred), bool)
    if keep.sum() < 20:
        raise MyoxaiError("fewer than 20 non-rest calibration windows: too few for a drift reference")
    power = window_power(spectrograms)[keep]
    top = proba[keep].max(axis=1)
    shap = None
    if phi_pred is not None:
        shap, _ = normalised_profiles(np.asarray(phi_pred)[keep], pred[keep], proba.shape[1])
    class_rms = np.full((proba.shape[1], power.shape[1]), np.nan)
    for c in np.unique(pred[keep]):
        class_rms[c] = energy_profile(power[pred[keep] == c], power=True)
    spread = (0.5 * np.log(np.maximum(power, 1e-30))).std(axis=0)
    return DriftReference(energy_profile(power, power=True), class_rms, spread, float(top.mean()),
                          float(prediction_entropy(proba[keep]).mean()), float(np.mean(top < REJECT_BELOW)), shap, rest,
                          int(keep.sum()))


def matched_reference_profile(ref: DriftReference, predicted: np.ndarray) -> np.ndarray:
    """The reference energy profile for the live gesture mix: per-gesture reference power weighted by live counts.

    A rolling window holds a few gestures, not the calibration's mix; comparing it with the pooled
    profile would read a change of gesture as a rotation. Gestures the reference never saw fall back
    to the pooled profile.
    """
    return _matched_profile(ref, np.bincount(np.asarray(predicted, int), minlength=len(ref.class_log_rms)))


def _matched_profile(ref: DriftReference, counts: np.ndarray) -> np.ndarray:
    """``matched_reference_profile`` from the live count of windows per predicted gesture."""
    counts = np.asarray(counts)[:len(ref.class_log_rms)]
    power = counts @ ref.class_power / max(counts.sum(), 1)
    return 0.5 * np.log(np.maximum(power, 1e-30)) if counts.sum() else ref.log_rms


def drift_components(ref: DriftReference, power: np.ndarray, probabilities: np.ndarray,
                     phi_pred: np.ndarray | None = None) -> dict[str, float | None]:
    """Named components of a batch of non-rest windows against the reference.

    Parameters
    ----------
    ref:
        The model's calibration reference.
    power:
        (n, electrodes) ``window_power`` of the windows.
    probabilities:
        (n, n_classes) model outputs.
    phi_pred:
        (n, electrodes) φ of the predicted class, or None (then ``shapley`` is None).
    """
    proba = np.asarray(probabilities, float)
    profile = energy_profile(power, power=True)
    top = proba.max(axis=1)
    expected = matched_reference_profile(ref, proba.argmax(axis=1))
    out: dict[str, float | None] = {
        "rotation": estimate_shift(profile, expected, resolution=0.02),
        "gain": float(np.exp(np.mean(profile - expected))),
        "confidence": float(top.mean() - ref.confidence),
        "entropy": float(prediction_entropy(proba).mean() - ref.entropy),
        "rejection_rate": float(np.mean(top < REJECT_BELOW)),
        "shapley": None,
    }
    if phi_pred is not None and ref.shapley is not None:
        out["shapley"] = _profile_distance(ref, *normalised_profiles(phi_pred, proba.argmax(axis=1), proba.shape[1]))
    return out


def _profile_distance(ref: DriftReference, live: np.ndarray, counts: np.ndarray) -> float | None:
    """Count-weighted cosine distance of the live per-gesture Shapley profiles from the reference's."""
    assert ref.shapley is not None
    ok = ~np.isnan(live).any(axis=1) & ~np.isnan(ref.shapley).any(axis=1)
    if not ok.any():
        return None
    cos = (live[ok] * ref.shapley[ok]).sum(axis=1) / np.maximum(
        np.linalg.norm(live[ok], axis=1) * np.linalg.norm(ref.shapley[ok], axis=1), 1e-12)
    return float(np.average(1 - cos, weights=counts[ok]))


@dataclass(frozen=True)
class WindowSums:
    """Sums over a set of non-rest windows: all ``drift_components`` reads of them (``sums_components``)."""

    n: int
    power: np.ndarray  # (electrodes,) Σ window power
    counts: np.ndarray  # (n_classes,) windows per predicted gesture
    top: float  # Σ top probability
    entropy: float  # Σ prediction entropy
    rejected: int  # windows with top probability < REJECT_BELOW
    phi: np.ndarray | None  # (n_classes, electrodes) Σ φ of the predicted class per gesture; None: not all known


def sums_components(ref: DriftReference, s: WindowSums) -> dict[str, float | None]:
    """``drift_components`` of the windows summed in ``s`` (equal to float rounding, without the windows)."""
    profile = 0.5 * np.log(np.maximum(s.power / s.n, 1e-30))  # energy_profile of power values
    expected = _matched_profile(ref, s.counts)
    out: dict[str, float | None] = {
        "rotation": estimate_shift(profile, expected, resolution=0.02),
        "gain": float(np.exp((profile - expected).sum() / len(profile))),
        "confidence": s.top / s.n - ref.confidence,
        "entropy": s.entropy / s.n - ref.entropy,
        "rejection_rate": s.rejected / s.n,
        "shapley": None,
    }
    if s.phi is not None and ref.shapley is not None:
        live = np.full(s.phi.shape, np.nan)
        for c in np.flatnonzero(s.counts >= MIN_PER_GESTURE):  # as normalised_profiles: the mean, L1-normalised
            norm = np.abs(s.phi[c]).sum()
            if norm > 0:
                live[c] = s.phi[c] / norm
        out["shapley"] = _profile_distance(ref, live, s.counts)
    return out


class RollingSums:
    """The last ``size`` non-rest windows' share of ``WindowSums``, kept as rings of per-window rows.

    A batch's rows overwrite the oldest; ``sums()`` adds the rings up (microseconds for a 30-s
    window), so a rolling assessment neither re-stacks the window nor carries a running total's
    rounding error.
    """

    def __init__(self, size: int) -> None:
        self.size = int(size)
        self.clear()

    def clear(self) -> None:
        """Forget every window (the next batch may come from a model with other gestures)."""
        self._n = self._at = 0
        self._rings: dict[str, np.ndarray] | None = None
        self._classes = 0

    def __len__(self) -> int:
        return self._n

    def extend(self, power: np.ndarray, probabilities: np.ndarray, phi_pred: np.ndarray | None) -> None:
        """Add windows: (m, electrodes) power, (m, n_classes) probabilities, (m, electrodes) φ or None."""
        proba = np.asarray(probabilities, float)[-self.size:]
        m = len(proba)
        if not m:
            return
        power = np.asarray(power, float)[-m:]
        top = proba.max(axis=1)
        rows = {"power": power, "pred": proba.argmax(axis=1), "top": top, "rejected": top < REJECT_BELOW,
                "entropy": prediction_entropy(proba), "known": np.full(m, phi_pred is not None),
                "phi": np.zeros_like(power) if phi_pred is None else np.asarray(phi_pred, float)[-m:]}
        if self._rings is None:
            self._rings = {k: np.zeros((self.size, *v.shape[1:]), v.dtype) for k, v in rows.items()}
            self._classes = proba.shape[1]
        first = min(m, self.size - self._at)  # rows up to the ring's end, then the rest from its start
        for k, v in rows.items():
            self._rings[k][self._at:self._at + first], self._rings[k][:m - first] = v[:first], v[first:]
        self._at, self._n = (self._at + m) % self.size, min(self._n + m, self.size)

    def sums(self) -> WindowSums:
        """The sums over the windows kept (at least one)."""
        assert self._rings is not None and self._n
        n, r = self._n, self._rings  # filled from row 0 until the ring is full
        pred, phi = r["pred"][:n], None
        if r["known"][:n].all():
            phi = (pred[None] == np.arange(self._classes)[:, None]).astype(float) @ r["phi"][:n]
        return WindowSums(n, r["power"][:n].sum(axis=0), np.bincount(pred, minlength=self._classes),
                          float(r["top"][:n].sum()), float(r["entropy"][:n].sum()),
                          int(np.count_nonzero(r["rejected"][:n])), phi)


@dataclass(frozen=True)
class DriftThresholds:
    """(watch, recalibrate) per component, on the magnitude each component is judged by.

    rotation: |shift| in electrodes; gain: |log ratio|; shapley: cosine distance; confidence: drop of
    the mean top probability; entropy: rise of the mean entropy (nats).

    The live defaults are round numbers for one session's model: the 8 mm re-donning of the long-term
    dataset moves the energy profile by about 0.3 electrodes (watch), a whole electrode is far past
    recalibrate; amplitude ×1.5 / ×2.5; a confidence drop of 0.1 / 0.2. The long-term-dataset
    validation (``myoxai drift --dataset kanoga``) chooses its own on days 3–8 and reports both.
    """

    rotation: tuple[float, float] = (0.3, 0.5)
    gain: tuple[float, float] = (math.log(1.5), math.log(2.5))
    shapley: tuple[float, float] = (0.15, 0.3)
    confidence: tuple[float, float] = (0.1, 0.2)
    entropy: tuple[float, float] = (0.25, 0.5)

    def to_dict(self) -> dict[str, list[float]]:
        """(watch, recalibrate) per component as JSON lists."""
        return {k: list(v) for k, v in asdict(self).items()}


def magnitudes(components: dict[str, float | None]) -> dict[str, float | None]:
    """The size each component is judged by (see ``DriftThresholds``)."""
    def get(k: str) -> float | None:
        v = components.get(k)
        return None if v is None else float(v)

    rot, gain, shap, conf, ent = (get(k) for k in COMPONENTS)
    return {"rotation": None if rot is None else abs(rot), "gain": None if gain is None else abs(math.log(gain)),
            "shapley": shap, "confidence": None if conf is None else max(0.0, -conf),
            "entropy": None if ent is None else max(0.0, ent)}


@dataclass
class DriftAssessment:
    """One state with its cause, the components and a single score (max over components of size / recalibrate)."""

    state: str = "ok"
    cause: str = ""
    score: float = 0.0
    components: dict[str, float | None] = field(default_factory=dict)
    n_windows: int = 0

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON values, rounded (what sinks and reports write)."""
        return {"state": self.state, "cause": self.cause, "score": round(self.score, 4),
                "components": {k: (None if v is None else round(float(v), 4)) for k, v in self.components.items()},
                "n_windows": self.n_windows}


def assess(components: dict[str, float | None], thresholds: DriftThresholds = DriftThresholds(),
           n_windows: int = 0) -> DriftAssessment:
    """State ok / watch / recalibrate and the component that caused it (priority order ``COMPONENTS``)."""
    size = magnitudes(components)
    levels = {}
    for k in COMPONENTS:
        watch, recal = getattr(thresholds, k)
        v = size[k]
        levels[k] = 0 if v is None else 2 if v >= recal else 1 if v >= watch else 0
    top = max(levels.values())
    cause = next((k for k in COMPONENTS if levels[k] == top), "") if top else ""
    score = max((size[k] / getattr(thresholds, k)[1] for k in COMPONENTS if size[k] is not None), default=0.0)
    return DriftAssessment(("ok", "watch", "recalibrate")[top], cause, float(score), dict(components), n_windows)
