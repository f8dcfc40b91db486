"""The drift reference of a model: what its decisions look like on the data it was trained on.

Computed once when a model is trained, calibrated or recalibrated, and stored in the model file under
``drift_reference``; the engine's drift stage (``myoxai.engine.drift``) compares live decisions with it.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import numpy as np

from myoxai.adapt.drift import DriftReference, normalised_profiles, reference_from_outputs
from myoxai.config import DEFAULT_CONFIG, SignalConfig
from myoxai.engine.drift import rest_class


def reference_for_model(model: Any, spectrograms: np.ndarray, config: SignalConfig = DEFAULT_CONFIG,
                        shapley_windows: int = 400, seed: int = 0) -> DriftReference:
    """The drift reference of ``model`` on its training windows.

    Energy, confidence and entropy use every window; the Shapley profile a fixed random subset of
    ``shapley_windows`` non-rest windows (exact Shapley costs 2^8 forward passes a window).
    """
    from myoxai.explain.outputs import predicted_class_outputs

    x = np.asarray(spectrograms, np.float32)
    proba, _ = predicted_class_outputs(model, x, config, shapley=False)
    rest = rest_class(tuple(getattr(model, "class_names", ()) or ()))
    ref = reference_from_outputs(x, proba, None, rest)
    pred = proba.argmax(axis=1)
    active = np.flatnonzero(pred != rest) if rest is not None else np.arange(len(pred))
    pick = np.sort(np.random.default_rng(seed).choice(active, min(len(active), shapley_windows), replace=False))
    p_sub, phi_sub = predicted_class_outputs(model, x[pick], config)
    if phi_sub is None:
        return ref
    profiles, _ = normalised_profiles(phi_sub, p_sub.argmax(axis=1), proba.shape[1])
    return dataclasses.replace(ref, shapley=profiles)


def with_held_out_symptoms(reference: DriftReference, model: Any, held_x: np.ndarray,
                           shapley_windows: int = 200) -> DriftReference:
    """``reference`` with its symptoms (confidence, entropy, rejection rate, Shapley profile) from ``held_x``.

    A model is more confident on the windows it was fitted on than it will ever be later; windows it
    did not fit give the symptom levels to expect. When ``held_x`` holds too few gestures the
    reference is returned unchanged.
    """
    import logging

    from myoxai.errors import MyoxaiError

    try:
        own = reference_for_model(model, held_x, shapley_windows=shapley_windows)
    except MyoxaiError as exc:  # the held-out windows were (nearly) all rest
        logging.getLogger(__name__).warning("symptom reference kept from the fitted windows: %s", exc)
        return reference
    return dataclasses.replace(reference, confidence=own.confidence, entropy=own.entropy,
                               rejection_rate=own.rejection_rate, shapley=own.shapley, n_windows=own.n_windows)
