"""Integrated Gradients (Sundararajan et al. 2017) by a midpoint Riemann sum.

Written here (rather than only wrapping Captum) so the comparison suite has one reference whose
every step is visible: IG_i = (x_i − b_i) · (1/m) Σ_{j=1..m} ∂f_t/∂x_i (b + (j − ½)/m · (x − b)).
The test suite checks it against Captum's ``IntegratedGradients(method="riemann_middle")``.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from myoxai.errors import MyoxaiError
from myoxai.explain.attribution import Attribution, as_batch, as_targets, channel_sums
from myoxai.explain.explainer import Explainer


class IntegratedGradients(Explainer):
    """Integrated Gradients with a zero, random or given baseline.

    Parameters
    ----------
    model:
        Contract model (raw input → logits); attributions are of the target's logit.
    steps:
        Riemann steps m.
    baseline:
        ``"zero"``; ``"random"`` (the average of ``n_random`` IG runs from baselines drawn
        uniformly in [0, max(x)] per window, seeded); or an array of one window's shape.
    """

    def __init__(self, model: nn.Module, steps: int = 50, baseline: str | np.ndarray = "zero",
                 n_random: int = 5, seed: int = 0, internal_batch: int = 1024) -> None:
        if steps < 1:
            raise MyoxaiError("Integrated Gradients needs steps >= 1")
        self.model = model.eval()
        self.steps = int(steps)
        self.baseline = baseline
        self.n_random = int(n_random)
        self.seed = seed
        self.internal_batch = internal_batch

    def _baselines(self, x: torch.Tensor) -> list[torch.Tensor]:
        if isinstance(self.baseline, str):
            if self.baseline == "zero":
                return [torch.zeros_like(x)]
            if self.baseline == "random":
                g = torch.Generator().manual_seed(self.seed)
                top = x.flatten(1).amax(dim=1).reshape(-1, *([1] * (x.ndim - 1)))
                return [torch.rand(x.shape, generator=g) * top for _ in range(self.n_random)]
            raise MyoxaiError(f"unknown IG baseline {self.baseline!r}; use 'zero', 'random' or an array")
        b = torch.as_tensor(np.asarray(self.baseline, dtype=np.float32))
        return [b.expand_as(x)]

    def attribute(self, x: np.ndarray | torch.Tensor, target: int | np.ndarray | None = None) -> Attribution:
        """IG of each window for ``target`` (default: the predicted class)."""
        x = as_batch(x)
        t = as_targets(target, self.model, x)
        total = torch.zeros_like(x)
        bases = self._baselines(x)
        for b in bases:
            total += self._one(x, b, t)
        elements = total / len(bases)
        return Attribution("ig", channel_sums(elements), elements.numpy())

    def _one(self, x: torch.Tensor, b: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
        alphas = (torch.arange(self.steps, dtype=torch.float32) + 0.5) / self.steps
        k = x.shape[0]
        path = b[None] + alphas.reshape(-1, 1, *([1] * (x.ndim - 1))) * (x - b)[None]  # (m, k, ...)
        path = path.reshape(-1, *x.shape[1:])
        tt = t.repeat(self.steps)
        grads = torch.empty_like(path)
        for i in range(0, path.shape[0], self.internal_batch):
            p = path[i:i + self.internal_batch].clone().requires_grad_(True)
            out = self.model(p).gather(1, tt[i:i + self.internal_batch, None]).sum()
            grads[i:i + self.internal_batch] = torch.autograd.grad(out, p)[0]
        mean_grad = grads.reshape(self.steps, k, *x.shape[1:]).mean(dim=0)
        return ((x - b) * mean_grad).detach()
