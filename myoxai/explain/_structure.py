"""The ``structure`` Shapley path: coalition logits from a model that says how to compute them cheaply.

A model whose electrodes meet only in a late fusion stage (``myoxai.models.ring_tower``) offers
``shapley_coalitions(baseline, keep)``: a function of the windows that runs its per-electrode part
once per electrode (and once for the baseline) and the fusion on every coalition. The explainer
asks for this capability by name, so any model may offer it; like the other fast paths it is used
only after it reproduced the plain 2^N forward passes (``myoxai.explain.shapley``).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch
from torch import nn


class StructurePath:
    """Coalition logits (k · 2^N, classes) through the model's own ``shapley_coalitions``."""

    def __init__(self, fn: Callable[[torch.Tensor], torch.Tensor]) -> None:
        self.fn = fn

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """Logits of every coalition of every window, coalitions in ``coalition_masks`` order."""
        return self.fn(x)

    @classmethod
    def build(cls, model: nn.Module, baseline: torch.Tensor, masks: np.ndarray) -> StructurePath | None:
        """The path of ``model``, or ``None`` when it offers no (usable) ``shapley_coalitions``."""
        offer = getattr(model, "shapley_coalitions", None)
        if not callable(offer):
            return None
        fn = offer(baseline, torch.from_numpy(np.asarray(masks, dtype=bool)))
        return None if fn is None else cls(fn)
