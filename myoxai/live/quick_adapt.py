"""Quick adapt with its no-harm check and the drift reference of what the adapted model now expects.

``checked_quick_adapt`` is what the live Quick adapt button and ``myoxai adapt`` both run:

1. the buffer is split into windows to adapt on and held-back windows (``myoxai.adapt.no_harm``);
2. the registered default adaptation (``METHODS[DEFAULT_PIPELINE]`` in ``myoxai.adapt.methods``:
   rotation compensation, re-normalisation, prototype head) is fitted on the first part;
3. the no-harm check compares the candidate with the serving model on the held-back windows; a
   candidate that would do worse is not used, and the result says why;
4. an accepted candidate carries a drift reference of what it now expects (``adapted_reference``):
   the calibration's energy profile moved by the rotation the model compensates and scaled by the
   gain its re-normalisation absorbed, so the drift monitor measures the *residual* rotation and gain;
   the symptoms (confidence, entropy, Shapley profile) come from the held-back windows, which the
   model did not adapt on.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
from dataclasses import dataclass
from typing import Any

import numpy as np

from myoxai.adapt.drift import DriftReference, drift_components, window_power
from myoxai.adapt.no_harm import NoHarmCheck, NoHarmSettings, no_harm_check, split_held_back
from myoxai.adapt.quick import QuickReport
from myoxai.adapt.rotation import shift_profile
from myoxai.engine.drift import REFERENCE_KEY, stored_reference
from myoxai.errors import MyoxaiError

log = logging.getLogger(__name__)

ADAPTATION_KEY = "adaptation"  # the model file's JSON entry describing the last adaptation
SHAPLEY_WINDOWS = 200  # held-back windows whose exact Shapley profile forms the symptom reference


@dataclass
class QuickAdaptResult:
    """What a checked Quick adapt produced: the model to use and why."""

    model: Any  # the adapted model when accepted, else the serving model itself
    candidate: Any  # the adapted model, whether used or not
    report: QuickReport
    check: NoHarmCheck

    @property
    def accepted(self) -> bool:
        """Whether the adapted model passed the no-harm check."""
        return self.check.accepted

    def to_dict(self) -> dict[str, Any]:
        """The report a model file and ``myoxai adapt --json`` carry (rotation, supports, verdict, why)."""
        return {"method": self.report.method, "accepted": self.accepted,
                "reason": self.check.reason or ("passed the no-harm check" if self.accepted else ""),
                "rotation_shift": self.report.rotation_shift, "prototype_supports": self.report.prototype_supports,
                "n_adapted": self.report.n_target, "no_harm": self.check.to_dict(),
                "note": self.report.reason}

    def message(self) -> str:
        """One line for the status bar or the terminal."""
        shift = "n/a" if self.report.rotation_shift is None else f"{self.report.rotation_shift:+.2f}"
        if self.accepted:
            return f"quick adapt applied: rotation {shift} electrodes, re-normalised on {self.report.n_target} windows"
        return f"quick adapt not applied (old model kept): {self.check.reason}"


def compensated_shift(model: Any) -> float:
    """Electrodes of rotation the model undoes in front of its input (0 for a model that undoes none)."""
    return -float(getattr(model, "input_rotation", 0.0) or 0.0)


def adapted_reference(reference: DriftReference, old_model: Any, new_model: Any, adapted_x: np.ndarray,
                      held_x: np.ndarray) -> DriftReference:
    """The drift reference of what ``new_model`` expects, from ``old_model``'s reference.

    Energy: ``reference``'s profiles moved by the change of compensated rotation and scaled by the
    gain left on the adaptation windows after that move (what re-normalisation absorbed). Symptoms
    (confidence, entropy, rejection rate, Shapley profile): ``new_model`` on the held-back windows
    ``held_x``; kept from ``reference`` when those hold too few gestures.
    """
    from myoxai.live.drift_reference import with_held_out_symptoms
    from myoxai.models import predict_proba

    delta = compensated_shift(new_model) - compensated_shift(old_model)

    def moved(p: np.ndarray) -> np.ndarray:
        return p if np.isnan(p).any() else shift_profile(p, delta)

    ref = dataclasses.replace(reference, log_rms=moved(reference.log_rms), spread=moved(reference.spread),
                              class_log_rms=np.array([moved(r) for r in reference.class_log_rms]))
    proba = predict_proba(new_model, adapted_x)
    active = proba.argmax(1) != ref.rest if ref.rest is not None else np.ones(len(proba), bool)
    if active.sum() >= 20:
        log_gain = float(np.log(drift_components(ref, window_power(adapted_x[active]), proba[active])["gain"]))
        ref = dataclasses.replace(ref, log_rms=ref.log_rms + log_gain, class_log_rms=ref.class_log_rms + log_gain)
    return with_held_out_symptoms(ref, new_model, held_x, SHAPLEY_WINDOWS)


def checked_quick_adapt(model: Any, windows: np.ndarray, source_data: Any = None,
                        settings: NoHarmSettings | None = None, min_windows: int = 100,
                        serving: Any = None, method: str = "default") -> QuickAdaptResult:
    """Quick adapt on most of ``windows``, the no-harm check on the rest, and the adapted drift reference.

    Parameters
    ----------
    model:
        The serving model (never changed).
    windows:
        (n, 4, 8, 10) time-ordered unlabeled spectrograms (the live buffer, or a recording's windows).
    source_data:
        The model's calibration data, for the rotation reference when the model file has no profile.
    settings:
        The held-back split and the no-harm tolerances.
    min_windows:
        Fewer windows to adapt on than this are refused (``MyoxaiError``).
    method:
        The registered adaptation method (``myoxai.adapt.methods``; ``default`` = ``DEFAULT_PIPELINE``).
    serving:
        The model the candidate must not be worse than, and the one kept when it is (default ``model``:
        the live app adapts its calibration model but compares with whatever serves now).
    """
    from myoxai.adapt.methods import AdaptContext, resolve
    from myoxai.adapt.quick import reference_profile
    from myoxai.models import predict_proba

    settings = settings or NoHarmSettings()
    x = np.asarray(windows, dtype=np.float32)
    fit, held = split_held_back(len(x), settings)
    if len(fit) < min_windows or len(held) == 0:
        raise MyoxaiError(f"only {len(x)} windows: quick adapt needs at least {min_windows} to adapt on plus "
                          "held-back ones to check it (keep streaming a little longer)")
    pipeline = resolve(method)
    if pipeline.needs_labels or pipeline.transductive:
        raise MyoxaiError(f"the adaptation method {method!r} needs labels or keeps adapting while it decides; "
                          "Quick adapt runs unlabeled methods that return one model")
    ctx = AdaptContext(x[fit], source=source_data, reference_profile=reference_profile(model, source_data))
    candidate = pipeline.run(model, ctx)  # the registered pipeline: what --adapt evaluates
    from myoxai.adapt.methods import DEFAULT_PIPELINE

    report = QuickReport.from_steps(DEFAULT_PIPELINE if method == "default" else method, ctx.report)
    for attr in ("class_names", "description"):
        if hasattr(model, attr):
            setattr(candidate, attr, copy.deepcopy(getattr(model, attr)))
    serving = model if serving is None else serving
    check = no_harm_check(predict_proba(serving, x[held]), predict_proba(candidate, x[held]), settings)
    report.status, report.reason = ("accepted", report.reason) if check.accepted else ("rejected", check.reason)
    result = QuickAdaptResult(candidate if check.accepted else serving, candidate, report, check)
    desc = dict(getattr(candidate, "description", None) or {})
    reference = stored_reference(model)
    if reference is not None and check.accepted:
        desc[REFERENCE_KEY] = adapted_reference(reference, model, candidate, x[fit], x[held]).to_dict()
    desc[ADAPTATION_KEY] = result.to_dict()
    candidate.description = desc
    return result
