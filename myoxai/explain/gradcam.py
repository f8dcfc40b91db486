"""Grad-CAM (Selvaraju et al. 2017) on the last convolution, through Captum's ``LayerGradCam``.

The class-activation map lives on the last convolution's grid (e.g. 4×5 after a stride-2 conv);
it is upsampled bilinearly to electrodes × frequencies so it can be summed per electrode.
Optional total-variation denoising (scikit-image's Chambolle) smooths the coarse map.
"""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from myoxai.errors import MyoxaiError, require_extra
from myoxai.explain.attribution import Attribution, as_batch, as_targets
from myoxai.explain.explainer import Explainer


def conv_layers(model: nn.Module) -> list[tuple[str, nn.Conv2d]]:
    """(name, module) of every 2-D convolution before the classifier head, in forward order."""
    return [(n, m) for n, m in model.named_modules()
            if isinstance(m, nn.Conv2d) and not (n == "head" or n.startswith("head."))]


def last_conv(model: nn.Module) -> nn.Conv2d:
    """The model's last 2-D convolution, the layer Grad-CAM attributes at."""
    layers = conv_layers(model)
    if not layers:
        raise MyoxaiError(f"{type(model).__name__} has no 2-D convolution; Grad-CAM needs a convolutional model")
    return layers[-1][1]


class GradCam(Explainer):
    """Grad-CAM of the target's logit at the last convolution.

    Parameters
    ----------
    model:
        Contract model with at least one ``nn.Conv2d`` before its head.
    tv_weight:
        Total-variation denoising weight for the upsampled map (0 = none).
    """

    def __init__(self, model: nn.Module, tv_weight: float = 0.0) -> None:
        self.model = model.eval()
        self.layer = last_conv(model)
        self.tv_weight = float(tv_weight)

    def attribute(self, x: np.ndarray | torch.Tensor, target: int | np.ndarray | None = None) -> Attribution:
        """Maps (k, electrodes, freqs) and their per-electrode sums."""
        require_extra("captum", "explain", "Grad-CAM")
        from captum.attr import LayerAttribution, LayerGradCam

        x = as_batch(x)
        if x.ndim != 4:
            raise MyoxaiError("Grad-CAM needs spectrogram input (k, frames, electrodes, freqs)")
        t = as_targets(target, self.model, x)
        cam = LayerGradCam(self.model, self.layer).attribute(x, target=t, relu_attributions=True)
        up = LayerAttribution.interpolate(cam.detach(), tuple(x.shape[2:]), interpolate_mode="bilinear")[:, 0]
        maps = up.double().numpy()
        if self.tv_weight > 0:
            require_extra("skimage", "explain", "Grad-CAM's total-variation smoothing (tv_weight > 0)")
            from skimage.restoration import denoise_tv_chambolle

            maps = np.stack([denoise_tv_chambolle(m, weight=self.tv_weight) for m in maps])
        return Attribution("gradcam", maps.sum(axis=2), maps)
