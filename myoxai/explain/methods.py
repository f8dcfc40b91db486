"""One registry of explanation methods, so the CLI and agreement statistics treat them alike."""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from myoxai.errors import MyoxaiError
from myoxai.explain.attribution import Attribution, as_batch, as_targets
from myoxai.explain.shapley import ChannelShapley

METHOD_NAMES = ("shapley", "ig", "gradshap", "lime", "gradcam")


class ShapleyMethod:
    """Exact channel Shapley of the target's probability, in the ``Attribution`` form."""

    def __init__(self, model: nn.Module, input_shape: tuple[int, ...], baseline: Any = "zero") -> None:
        self.model = model.eval()
        self.shapley = ChannelShapley(model, baseline=baseline, spec_shape=input_shape)

    def attribute(self, x: np.ndarray | torch.Tensor, target: int | np.ndarray | None = None) -> Attribution:
        """Exact channel Shapley values of the target class (default: the predicted one)."""
        x = as_batch(x)
        t = as_targets(target, self.model, x).numpy()
        return Attribution("shapley", self.shapley.explain(x).for_class(t))


def build_method(name: str, model: nn.Module, input_shape: tuple[int, ...], **options: Any):
    """An explainer with an ``attribute(x, target)`` method by short name."""
    if name == "shapley":
        return ShapleyMethod(model, input_shape, **options)
    if name == "ig":
        from myoxai.explain.integrated_gradients import IntegratedGradients

        return IntegratedGradients(model, **options)
    if name == "gradshap":
        from myoxai.explain.gradient_shap import GradientShap

        return GradientShap(model, **options)
    if name == "lime":
        from myoxai.explain.lime import Lime

        return Lime(model, **options)
    if name == "gradcam":
        from myoxai.explain.gradcam import GradCam

        return GradCam(model, **options)
    raise MyoxaiError(f"unknown explanation method {name!r}; choose from {', '.join(METHOD_NAMES)}")


def attribute_all(model: nn.Module, x: np.ndarray, target: np.ndarray, methods: list[str],
                  input_shape: tuple[int, ...], options: dict[str, dict[str, Any]] | None = None,
                  batch: int = 64) -> dict[str, Attribution]:
    """Run each method on the same windows and targets (batched to bound memory)."""
    options = options or {}
    out: dict[str, Attribution] = {}
    for name in methods:
        method = build_method(name, model, input_shape, **options.get(name, {}))
        parts = [method.attribute(x[i:i + batch], target[i:i + batch]) for i in range(0, len(x), batch)]
        elements = None if parts[0].elements is None else np.concatenate([p.elements for p in parts])
        out[name] = Attribution(name, np.concatenate([p.channels for p in parts]), elements)
    return out
