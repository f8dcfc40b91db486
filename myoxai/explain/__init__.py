"""Explanations of decisions: exact channel Shapley, Shapley matrices and feedback, comparison methods.

Public API
----------
- ``ChannelShapley(model, baseline="zero").explain(x (k, 4, 8, 10)) -> ShapleyResult`` — exact
  per-electrode Shapley values of every decision (probabilities and logits, f(all), f(∅), total);
  thread-safe, owns a frozen copy of the model, picks the fastest verified evaluation path.
- ``rest_baseline(train_spectrograms, train_labels)`` — the optional "resting electrode" baseline.
- ``myoxai.explain.matrix`` — Shapley matrix (gestures × electrodes), normalised rows, contribution ratios.
- ``myoxai.explain.feedback`` — first-convolution weighting and SHAP-weighted input blending.
- Explainers, one file each, subclasses of ``explainer.Explainer`` with one
  ``attribute(x, target) -> Attribution``: ``shapley_method.ShapleyMethod``,
  ``integrated_gradients.IntegratedGradients``, ``gradient_shap.GradientShap``, ``lime.Lime``,
  ``gradcam.GradCam``. ``methods.EXPLAINERS`` registers them by name (adding one = one module + one
  line); ``methods.attribute_all`` runs several; ``methods.explainer_factory(name)`` is what the
  engine calls per model (default: exact channel Shapley). ``activations.ConvActivations`` is a helper.
- ``myoxai.explain.agreement`` — per-window and aggregated agreement statistics between methods.

Only torch is needed for Shapley; the comparison methods import captum / scikit-image when used.
"""

from __future__ import annotations

from myoxai.explain.shapley import (
    ChannelShapley,
    ShapleyResult,
    coalition_masks,
    input_shape_of,
    rest_baseline,
    shapley_matrix_weights,
)

__all__ = ["ChannelShapley", "ShapleyResult", "coalition_masks", "input_shape_of", "rest_baseline",
           "shapley_matrix_weights"]
