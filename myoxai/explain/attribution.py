"""The result type every attribution method returns, and helpers they share."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from myoxai.errors import MyoxaiError

ELECTRODE_DIM = 2  # (batch, frames, electrodes, freqs) and (batch, samples, electrodes)


@dataclass(frozen=True)
class Attribution:
    """Attributions of k windows by one method.

    Attributes
    ----------
    method:
        Short method name (``shapley``, ``ig``, ``gradshap``, ``lime``, ``gradcam``).
    channels:
        (k, n_electrodes) per-electrode attribution (what the agreement statistics compare).
    elements:
        Per-element attribution with the input's shape (k, ...) or, for Grad-CAM, the map
        upsampled to (k, electrodes, freqs); ``None`` when the method is per-channel only.
    """

    method: str
    channels: np.ndarray
    elements: np.ndarray | None = None


def as_batch(x: np.ndarray | torch.Tensor, input_shape: tuple[int, ...] | None = None) -> torch.Tensor:
    """float32 tensor (k, ...) from one window or a batch; checks the per-window shape when given."""
    t = x.detach().float() if torch.is_tensor(x) else torch.as_tensor(np.asarray(x, dtype=np.float32))
    if input_shape is not None and t.ndim == len(input_shape):
        t = t[None]
    if input_shape is not None and tuple(t.shape[1:]) != tuple(input_shape):
        raise MyoxaiError(f"inputs have shape {tuple(t.shape)}; expected (k, {', '.join(map(str, input_shape))})")
    return t


def as_targets(target: int | np.ndarray | torch.Tensor | None, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
    """(k,) int64 class per window; ``None`` means the model's predicted class."""
    if target is None:
        with torch.no_grad():
            return model(x).argmax(dim=1)
    t = torch.as_tensor(np.asarray(target), dtype=torch.int64)
    return t.expand(x.shape[0]).clone() if t.ndim == 0 else t


def channel_sums(elements: torch.Tensor | np.ndarray) -> np.ndarray:
    """(k, electrodes) sum of per-element attributions over every axis but the electrode's."""
    a = elements.detach().double().numpy() if torch.is_tensor(elements) else np.asarray(elements, np.float64)
    axes = tuple(i for i in range(1, a.ndim) if i != ELECTRODE_DIM)
    return a.sum(axis=axes)


def electrode_mask(input_shape: tuple[int, ...]) -> torch.Tensor:
    """(1, ...) int64 feature mask giving every element its electrode's index (LIME/Shapley sampling)."""
    n = input_shape[ELECTRODE_DIM - 1]
    shape = [1] * (len(input_shape) + 1)
    shape[ELECTRODE_DIM] = n
    return torch.arange(n).reshape(shape).expand(1, *input_shape).contiguous()
