"""Exact channel Shapley as a registered explainer (``"shapley"``), for the comparison suite and the engine."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from myoxai.explain.attribution import Attribution, as_batch, as_targets
from myoxai.explain.explainer import DecisionAttributions, Explainer
from myoxai.explain.shapley import ChannelShapley


class ShapleyMethod(Explainer):
    """Exact channel Shapley of the target's probability, in the ``Attribution`` form.

    Parameters
    ----------
    model:
        Raw input → logits; the explainer computes on a private frozen copy.
    input_shape:
        One window's shape (electrodes on axis 1); default ``input_shape_of(model)``.
    baseline, chunk:
        As in ``ChannelShapley``.
    """

    def __init__(self, model: nn.Module, input_shape: tuple[int, ...] | None = None, baseline: Any = "zero",
                 chunk: int = 64) -> None:
        self.model = model
        self.shapley = ChannelShapley(model, baseline=baseline, spec_shape=input_shape, chunk=chunk)

    @classmethod
    def build(cls, model: nn.Module, input_shape: tuple[int, ...], **options: Any) -> ShapleyMethod:
        """The explainer of ``model`` on windows of ``input_shape`` (the coalitions mask its electrode axis)."""
        return cls(model, input_shape, **options)

    def attribute(self, x: np.ndarray | torch.Tensor, target: int | np.ndarray | None = None) -> Attribution:
        """Exact channel Shapley values of the target class (default: the predicted one)."""
        x = as_batch(x)
        t = as_targets(target, self.model.eval(), x).numpy()
        return Attribution("shapley", self.shapley.explain(x).for_class(t))

    def explain_decisions(self, x: np.ndarray) -> DecisionAttributions:
        """All classes in one exact pass over the 2^N coalitions: probabilities, φ, C = f(all) − f(∅), interactions."""
        res = self.shapley.explain(x)
        return DecisionAttributions(res.f_all, res.phi_prob, res.total, res.inter_prob)
