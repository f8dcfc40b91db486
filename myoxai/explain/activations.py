"""Activation maps of every convolution (what each layer responds to, per electrode row)."""

from __future__ import annotations

import numpy as np
import torch
from torch import nn

from myoxai.errors import require_extra
from myoxai.explain.attribution import as_batch
from myoxai.explain.gradcam import conv_layers


class ConvActivations:
    """Captum ``LayerActivation`` of each convolution before the head."""

    def __init__(self, model: nn.Module) -> None:
        self.model = model.eval()
        self.layers = conv_layers(model)

    def attribute(self, x: np.ndarray | torch.Tensor) -> dict[str, np.ndarray]:
        """``{layer name: (k, channels, H, W)}`` activations for a batch of windows."""
        require_extra("captum", "explain", "Layer activations")
        from captum.attr import LayerActivation

        x = as_batch(x)
        return {name: LayerActivation(self.model, layer).attribute(x).detach().numpy()
                for name, layer in self.layers}
