"""Small models that follow the model contract, for the explain tests (real models are trained elsewhere)."""

from __future__ import annotations

import torch
from torch import nn


class Standardise(nn.Module):
    """Per-electrode affine standardisation with buffers (as the contract's models have)."""

    def __init__(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        super().__init__()
        self.register_buffer("mean", mean.reshape(1, 1, -1, 1).float())
        self.register_buffer("std", std.reshape(1, 1, -1, 1).float())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


class TinyConvNet(nn.Module):
    """Contract model: raw (batch, 4, E, 10) -> logits; .features, .head, .first_conv."""

    def __init__(self, n_classes: int = 5, n_electrodes: int = 8, seed: int = 0, ignore: int | None = None) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.std = Standardise(torch.rand(n_electrodes, generator=g) * 0.01,
                               0.005 + torch.rand(n_electrodes, generator=g) * 0.01)
        self.ignore = ignore
        self.first_conv = nn.Conv2d(4, 8, 3, padding=1)
        self.body = nn.Sequential(self.first_conv, nn.ReLU(), nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
                                  nn.AdaptiveAvgPool2d((4, 2)), nn.Flatten())
        self.head = nn.Linear(64, n_classes)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        z = self.std(x)
        if self.ignore is not None:
            keep = torch.ones(z.shape[2], device=z.device)
            keep[self.ignore] = 0.0
            z = z * keep.reshape(1, 1, -1, 1)
        return self.body(z)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class SymmetricNet(nn.Module):
    """Treats every electrode alike (shared per-electrode conv, sum over electrodes)."""

    def __init__(self, n_classes: int = 3, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.std = Standardise(torch.full((8,), 0.01), torch.full((8,), 0.02))
        self.first_conv = nn.Conv2d(4, 6, (1, 3), padding=(0, 1))
        self.head = nn.Linear(6 * 10, n_classes)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = torch.tanh(self.first_conv(self.std(x)))  # (b, 6, 8, 10)
        return (h ** 2).sum(dim=2).flatten(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class NoConvNet(nn.Module):
    """No first_conv: the generic (plain) Shapley path."""

    def __init__(self, n_classes: int = 4, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.net = nn.Sequential(nn.Flatten(), nn.Linear(320, 16), nn.Tanh())
        self.head = nn.Linear(16, n_classes)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x * 50.0)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def spectrograms(n: int, seed: int = 0, n_electrodes: int = 8) -> torch.Tensor:
    """Positive spectrogram-like inputs at the long-term dataset's scale (median ~0.005)."""
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 4, n_electrodes, 10, generator=g) ** 2 * 0.03


class SkipNet(nn.Module):
    """A residual connection around the second convolution (the row-local chain must stop before it)."""

    def __init__(self, n_classes: int = 4, seed: int = 0) -> None:
        super().__init__()
        g = torch.Generator().manual_seed(seed)
        self.std = Standardise(torch.full((8,), 0.01), torch.full((8,), 0.02))
        self.first_conv = nn.Conv2d(4, 6, 3, padding=1)
        self.conv2 = nn.Conv2d(6, 6, 3, padding=1)
        self.head = nn.Linear(6, n_classes)
        with torch.no_grad():
            for p in self.parameters():
                p.copy_(torch.randn(p.shape, generator=g) * 0.3)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        h = self.first_conv(self.std(x))
        return (torch.relu(self.conv2(h)) + h).mean(dim=(2, 3))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


class DynamicNet(TinyConvNet):
    """Data-dependent control flow (the first-conv fast path still applies)."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        out = self.head(self.features(x))
        if bool((x.sum() > -1.0).item()):
            out = out * 1.0
        return out
