"""Gradient SHAP (Lundberg & Lee 2017, expected gradients with noise) through Captum's ``GradientShap``."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from myoxai.errors import require_extra
from myoxai.explain.attribution import Attribution, as_batch, as_targets, channel_sums
from myoxai.explain.explainer import Explainer


class GradientShap(Explainer):
    """Captum ``GradientShap`` against a baseline distribution of zeros and rest-like noise.

    Parameters
    ----------
    model:
        Contract model; attributions are of the target's logit.
    baselines:
        (b, ...) baseline windows (e.g. training rest windows); default: one zero window.
    n_samples, stdevs:
        Captum's samples per input and Gaussian noise on the inputs.
    """

    def __init__(self, model: nn.Module, baselines: np.ndarray | None = None, n_samples: int = 32,
                 stdevs: float = 0.0, seed: int = 0) -> None:
        self.model = model.eval()
        self.baselines = baselines
        self.n_samples = int(n_samples)
        self.stdevs = float(stdevs)
        self.seed = seed

    def attribute(self, x: np.ndarray | torch.Tensor, target: int | np.ndarray | None = None) -> Attribution:
        """Gradient SHAP of each window for ``target`` (default: the predicted class)."""
        require_extra("captum", "explain", "Gradient SHAP")
        from captum.attr import GradientShap as CaptumGradientShap

        x = as_batch(x)
        t = as_targets(target, self.model, x)
        base = (torch.zeros(1, *x.shape[1:]) if self.baselines is None
                else torch.as_tensor(np.asarray(self.baselines, dtype=np.float32)))
        np_state = np.random.get_state()  # Captum draws path points and baselines from numpy's global RNG
        try:
            np.random.seed(self.seed)
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.seed)
                a = CaptumGradientShap(self.model).attribute(x, baselines=base, target=t, n_samples=self.n_samples,
                                                             stdevs=self.stdevs)
        finally:
            np.random.set_state(np_state)
        a = a.detach()
        return Attribution("gradshap", channel_sums(a), a.numpy())
