"""Unsupervised recalibration: DANN and SCADANN from buffered unlabeled windows.

Public API
----------
- ``recalibrate(model, source, unlabeled_windows, method="scadann"|"dann", progress=, cancel=,
  settings=) -> (model_to_use, RecalibrationReport)`` — the live app's one call (worker thread,
  bounded torch threads, deep copy, safeguards: a rejected or cancelled run returns the old model).
- ``SourceData(x, y, groups=None, description={})`` — the labeled calibration spectrograms.
- ``RecalibrationSettings`` / ``PseudoLabelSettings`` — all parameters with documented defaults.
- ``save_recalibrated(model, path, report, source, parent=...)`` — new model file with lineage.
- ``pseudo_labels(probs, settings)`` — the SCADANN stability heuristic on a time-ordered stream.
- ``grad_reverse``, ``DomainClassifier``, ``DomainBatchNorm``, ``split_batchnorm``,
  ``merge_batchnorm``, ``set_domain`` — the DANN building blocks.
- ``quick_adapt(model, unlabeled, reference_profile)`` — the instant, label-free step (rotation
  compensation, re-normalisation and the T3A-style prototype head, ``myoxai.adapt.quick``);
  ``myoxai.adapt.prototypes``: EM class priors, iterated prototypes, online T3A;
- ``myoxai.adapt.labeled.recalibrate_35s(model, x, y, buffer=...)`` — the 35-second labeled
  recalibration (quick adapt, then fine-tuning on one hold per gesture);
  ``myoxai.adapt.rotation`` estimates the armband's rotation from the per-electrode energy profile.
- ``METHODS`` — the registry of adaptation methods as composed steps (``myoxai.adapt.methods``);
  ``DEFAULT_PIPELINE`` names the one the live Quick adapt button and ``--adapt default`` both run.
"""

from __future__ import annotations

from myoxai.adapt import quick, rotation
from myoxai.adapt.dann import (
    SOURCE,
    TARGET,
    DomainBatchNorm,
    DomainClassifier,
    grad_reverse,
    merge_batchnorm,
    set_domain,
    split_batchnorm,
)
from myoxai.adapt.lineage import save_recalibrated
from myoxai.adapt.methods import DEFAULT_PIPELINE, METHODS, AdaptContext, AdaptMethod  # noqa: E402
from myoxai.adapt.pseudo_labels import UNLABELED, PseudoLabelSettings, pseudo_label_summary, pseudo_labels
from myoxai.adapt.quick import QuickReport, quick_adapt
from myoxai.adapt.recalibrate import (
    RecalibrationReport,
    RecalibrationSettings,
    SourceData,
    adapt_model,
    judge,
    recalibrate,
)

__all__ = [
    "DEFAULT_PIPELINE",
    "AdaptContext",
    "AdaptMethod",
    "QuickReport",
    "quick",
    "quick_adapt",
    "rotation",
    "METHODS",
    "SOURCE",
    "TARGET",
    "UNLABELED",
    "DomainBatchNorm",
    "DomainClassifier",
    "PseudoLabelSettings",
    "RecalibrationReport",
    "RecalibrationSettings",
    "SourceData",
    "adapt_model",
    "grad_reverse",
    "judge",
    "merge_batchnorm",
    "pseudo_label_summary",
    "pseudo_labels",
    "recalibrate",
    "save_recalibrated",
    "set_domain",
    "split_batchnorm",
]
