"""The registry of explanation methods: the CLI, the agreement statistics and the engine look them up here.

Adding a method is one module (a subclass of ``myoxai.explain.explainer.Explainer`` with one
``attribute(x, target)``) and one line in ``EXPLAINERS``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
from torch import nn

from myoxai.config import SignalConfig
from myoxai.errors import MyoxaiError
from myoxai.explain.attribution import Attribution
from myoxai.explain.explainer import Explainer
from myoxai.explain.gradcam import GradCam
from myoxai.explain.gradient_shap import GradientShap
from myoxai.explain.integrated_gradients import IntegratedGradients
from myoxai.explain.lime import Lime
from myoxai.explain.shapley_method import ShapleyMethod

EXPLAINERS: dict[str, type[Explainer]] = {
    "shapley": ShapleyMethod,
    "ig": IntegratedGradients,
    "gradshap": GradientShap,
    "lime": Lime,
    "gradcam": GradCam,
}

ExplainerFactory = Callable[[Any, SignalConfig], Explainer | None]


def build_method(name: str, model: nn.Module, input_shape: tuple[int, ...], **options: Any) -> Explainer:
    """The registered explainer ``name`` of ``model`` (an ``attribute(x, target)`` method), with its options."""
    if name not in EXPLAINERS:
        raise MyoxaiError(f"unknown explanation method {name!r}; choose from {', '.join(EXPLAINERS)}")
    return EXPLAINERS[name].build(model, input_shape, **options)


def explainer_factory(name: str = "shapley", **options: Any) -> ExplainerFactory:
    """What the engine calls with each model it makes active: the explainer ``name`` of it, or ``None``.

    Models that the torch explainers cannot run on (``explainable`` false, e.g. LDA) get ``None``:
    their decisions carry no attribution. An unknown ``name`` is refused now, not at the first model.
    """
    if name not in EXPLAINERS:
        raise MyoxaiError(f"unknown explanation method {name!r}; choose from {', '.join(EXPLAINERS)}")

    def build(model: Any, config: SignalConfig) -> Explainer | None:
        from myoxai.explain.shapley import input_shape_of

        if not getattr(model, "explainable", False):
            return None
        return build_method(name, model, input_shape_of(model, config), **options)

    return build


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
