"""LIME (Ribeiro et al. 2016) with the electrodes as interpretable features, through Captum's ``Lime``."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from myoxai.errors import require_extra
from myoxai.explain.attribution import ELECTRODE_DIM, Attribution, as_batch, as_targets, electrode_mask
from myoxai.explain.explainer import Explainer


class Lime(Explainer):
    """Captum ``Lime``: a linear surrogate over the on/off state of each electrode.

    An 'off' electrode takes the baseline (zero: a silent electrode, as for channel Shapley), so
    LIME's coefficients and the Shapley values answer the same question with different estimators.

    Parameters
    ----------
    model:
        Contract model; attributions are of the target's probability (softmax of the logits).
    n_samples:
        Perturbed coalitions per window (there are only 2^8 = 256 distinct ones).
    """

    def __init__(self, model: nn.Module, n_samples: int = 200, seed: int = 0) -> None:
        self.model = model.eval()
        self.n_samples = int(n_samples)
        self.seed = seed

    def _prob(self, x: torch.Tensor) -> torch.Tensor:
        return torch.softmax(self.model(x), dim=1)

    def attribute(self, x: np.ndarray | torch.Tensor, target: int | np.ndarray | None = None) -> Attribution:
        """One surrogate per window; ``channels`` holds its per-electrode coefficient."""
        require_extra("captum", "explain", "LIME")
        from captum._utils.models.linear_model import SkLearnLinearRegression
        from captum.attr import Lime as CaptumLime

        x = as_batch(x)
        t = as_targets(target, self.model, x)
        mask = electrode_mask(tuple(x.shape[1:]))
        # ordinary least squares: Captum's default Lasso (alpha 0.01) zeroes every coefficient at the
        # scale of probability differences between coalitions
        lime = CaptumLime(self._prob, interpretable_model=SkLearnLinearRegression())
        out = torch.empty_like(x)
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(self.seed)
            for i in range(x.shape[0]):  # Captum's Lime explains one input at a time
                out[i] = lime.attribute(x[i:i + 1], target=int(t[i]), feature_mask=mask,
                                        n_samples=self.n_samples, baselines=0.0,
                                        perturbations_per_eval=min(self.n_samples, 256))[0].detach()
        # every element of an electrode carries the same coefficient: read it once per electrode
        idx = [0] * (x.ndim - 1)
        idx[ELECTRODE_DIM - 1] = slice(None)
        channels = out[(slice(None), *idx)].double().numpy()
        return Attribution("lime", channels, out.numpy())
