"""The interface every explainer implements: one ``attribute()``, and per-decision attributions built on it.

Like Captum's ``attr/``, an explainer is a class in a file of its own with one ``attribute(x,
target) -> Attribution`` method; ``myoxai.explain.methods.EXPLAINERS`` registers it by name. The
engine asks each decision for every class's per-electrode attribution at once
(``explain_decisions``); the default asks ``attribute`` once per class, and a method that gets all
classes in one pass (exact channel Shapley) overrides it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn

from myoxai.explain.attribution import Attribution, as_batch


@dataclass(frozen=True)
class DecisionAttributions:
    """What the engine publishes with k decisions.

    Attributes
    ----------
    probabilities:
        (k, n_classes) class probabilities of the model.
    phi:
        (k, n_classes, n_electrodes) each class's per-electrode attribution.
    total:
        (k, n_classes) the sum over electrodes (for Shapley, C = f(all) − f(∅)).
    interactions:
        (k, n_classes, pairs) pairwise electrode interactions (``myoxai.explain.interactions``), or
        ``None`` for a method that has no coalition values to take them from.
    """

    probabilities: np.ndarray
    phi: np.ndarray
    total: np.ndarray
    interactions: np.ndarray | None = None


class Explainer:
    """Base of the explainers: ``model`` (raw input → logits) and one ``attribute`` method.

    Subclasses set ``self.model`` in their constructor; options are keyword arguments of it.
    """

    model: nn.Module

    @classmethod
    def build(cls, model: nn.Module, input_shape: tuple[int, ...], **options: Any) -> Explainer:
        """An explainer of ``model`` for inputs of one window's ``input_shape`` (unused unless a method needs it)."""
        return cls(model, **options)

    def attribute(self, x: np.ndarray | torch.Tensor,
                  target: int | np.ndarray | None = None) -> Attribution:  # pragma: no cover - abstract
        """Per-electrode attribution of the ``target`` class (default: the predicted one) for each window."""
        raise NotImplementedError

    def explain_decisions(self, x: np.ndarray) -> DecisionAttributions:
        """Probabilities and every class's attribution: one ``attribute`` call per class."""
        xb = as_batch(x)
        with torch.no_grad():
            proba = torch.softmax(self.model(xb).double(), dim=1).numpy()
        k, n_classes = proba.shape
        phi = np.stack([self.attribute(xb, np.full(k, c)).channels for c in range(n_classes)], axis=1)
        return DecisionAttributions(proba, phi, phi.sum(axis=-1))
