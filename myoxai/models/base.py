"""What every torch classifier shares: per-electrode standardisation, input kind, constructor args.

The standardisation lives inside the model (as buffers) so that the model consumes the RAW
pipeline output: zeroing an electrode's raw input is then a silent electrode, which is the
masking semantics of channel Shapley (f(∅) = model(zeros)). The statistics are set from
training data only, by the trainer, before the first optimisation step.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

SPECTROGRAM = "spectrogram"  # input (batch, frames, electrodes, freqs) = (batch, 4, 8, 10)
WINDOW = "window"  # input (batch, samples, electrodes) = (batch, 50, 8), high-pass filtered


class ElectrodeStandardizer(nn.Module):
    """(x - mean_e) / std_e per electrode, statistics pooled over every other axis.

    Parameters
    ----------
    n_electrodes:
        Number of electrodes (size of the electrode axis).
    electrode_dim:
        Axis of the electrode in the batched input (2 for both spectrograms and windows).
    """

    def __init__(self, n_electrodes: int = 8, electrode_dim: int = 2) -> None:
        super().__init__()
        self.electrode_dim = electrode_dim
        self.register_buffer("mean", torch.zeros(n_electrodes))
        self.register_buffer("std", torch.ones(n_electrodes))

    @torch.no_grad()
    def fit(self, x: np.ndarray | torch.Tensor) -> None:
        """Set mean/std from training inputs ``x`` (float64 accumulation; std floored to stay finite)."""
        a = np.asarray(x, dtype=np.float64)
        a = np.moveaxis(a, self.electrode_dim, -1).reshape(-1, a.shape[self.electrode_dim])
        mean = a.mean(axis=0)
        std = a.std(axis=0)
        std = np.maximum(std, 1e-6 * max(float(std.max()), 1e-12))
        self.mean.copy_(torch.as_tensor(mean, dtype=self.mean.dtype))
        self.std.copy_(torch.as_tensor(std, dtype=self.std.dtype))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        shape = [1] * x.dim()
        shape[self.electrode_dim] = -1
        return (x - self.mean.view(shape)) / self.std.view(shape)


class MyoModel(nn.Module):
    """Base of the torch classifiers: ``features`` → ``head`` gives logits; ``standardize`` is inside.

    Subclasses set ``input_kind`` and keep their constructor arguments in ``init_args`` so a model
    file can rebuild the exact architecture.
    """

    name: ClassVar[str] = ""
    input_kind: ClassVar[str] = SPECTROGRAM

    def __init__(self, n_classes: int, **init_args: Any) -> None:
        super().__init__()
        self.n_classes = int(n_classes)
        self.init_args = dict(init_args)
        self.standardize = ElectrodeStandardizer(8, electrode_dim=2)

    def fit_standardizer(self, x: np.ndarray) -> None:
        """Set the standardisation statistics from training inputs (never test data)."""
        self.standardize.fit(x)

    def features(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))

    def row_local_layers(self) -> list[nn.Module] | None:
        """The layers between ``standardize`` and global average pooling, in order, or ``None``.

        A model returns them when, in eval mode, ``features(x)`` is those layers applied to
        ``standardize(x)`` and averaged over (electrodes, freqs), and the logits are
        ``head(features(x))``. Exact channel Shapley (``myoxai.explain``) then evaluates each
        electrode row only once per pattern of the electrodes it can see, and verifies the result
        against the plain path before using it. Declared here rather than traced with ``torch.fx``,
        whose tracing patches ``nn.Module.__call__`` process-wide and breaks forwards in other threads.
        """
        return None

    def n_parameters(self) -> int:
        """Trainable + frozen parameter count (buffers excluded)."""
        return sum(p.numel() for p in self.parameters())
