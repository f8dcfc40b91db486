"""ScatNet: a fixed wavelet-scattering front-end per electrode with a small learned head.

Seed 003 found that a scattering front-end (no learned filters) beats a CNN when training data is
scarce. Each electrode's high-passed window goes through kymatio's ``Scattering1D`` (orders 0–2,
J = 3, Q = 4), the coefficients are log-compressed and averaged over time, one small linear layer
shared by all electrodes embeds them, and a linear head maps the 8 embeddings to the gestures.
kymatio 0.3's top-level ``kymatio.torch`` fails to import with SciPy ≥ 1.15 (its 3-D module needs
``scipy.special.sph_harm``), so the 1-D torch frontend is imported directly.
"""

from __future__ import annotations

import warnings

import torch
from torch import nn

from myoxai.errors import require_extra
from myoxai.models.base import WINDOW, MyoModel


def _scattering(window: int, j: int, q: int) -> nn.Module:
    require_extra("kymatio", "scatnet", "The ScatNet model")
    from kymatio.scattering1d.frontend.torch_frontend import ScatteringTorch1D

    with warnings.catch_warnings():  # a 50-sample window is short for J = 3; the border effect is accepted
        warnings.simplefilter("ignore", UserWarning)
        return ScatteringTorch1D(J=j, shape=window, Q=q, max_order=2)


class ScatNet(MyoModel):
    """Scattering per electrode → log → time average → shared per-electrode embedding → linear head.

    Parameters
    ----------
    n_classes:
        Number of gestures.
    window:
        Samples per window (the signal config's ``window``).
    j, q:
        Scattering scale (2**j samples) and wavelets per octave.
    embed:
        Embedding size per electrode.
    dropout:
        Dropout before the head.
    """

    name = "scatnet"
    input_kind = WINDOW
    transfer_frozen = 1  # transfer learning freezes the shared electrode embedding

    def __init__(self, n_classes: int, window: int = 50, j: int = 3, q: int = 4, embed: int = 16,
                 dropout: float = 0.2) -> None:
        if not (8 <= window <= 4096 and 1 <= j <= 8 and 2**j <= window and 1 <= q <= 16):
            raise ValueError(f"scattering arguments window={window}, j={j}, q={q} out of range "
                             "(8-4096 samples, 1 <= j <= 8 with 2**j <= window, 1 <= q <= 16)")
        super().__init__(n_classes, window=window, j=j, q=q, embed=embed, dropout=dropout)
        with torch.device("cpu"), torch.no_grad():  # fixed filters, also when the layers are built on ``meta``
            self.scattering = _scattering(window, j, q)
            n_coef = self.scattering(torch.zeros(1, window)).shape[-2]
        self.embed = nn.Sequential(nn.Linear(n_coef, embed), nn.ELU())
        self.mix = nn.Sequential(nn.Linear(8 * embed, 64), nn.ELU())
        self.dropout = nn.Dropout(dropout)
        self.head = nn.Linear(64, n_classes)
        self.feature_dim = 64

    def scatter(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, samples, 8) standardised windows → (batch, 8, coefficients) log scattering."""
        b, t, e = x.shape
        s = self.scattering(x.permute(0, 2, 1).reshape(b * e, t).contiguous())
        return torch.log(s.abs().mean(dim=-1) + 1e-3).reshape(b, e, -1)

    @property
    def first_conv(self) -> None:
        """None: the scattering front-end is fixed, there is no first convolution to weight."""
        return None

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Scattering coefficients per electrode, embedded and mixed across electrodes."""
        with torch.no_grad():  # the front-end is fixed; no gradient flows into the input
            s = self.scatter(self.standardize(x))
        return self.dropout(self.mix(self.embed(s).flatten(1)))

    def freeze_early_layers(self, n: int = 1) -> None:
        """Freeze the electrode embedding (``n`` ≥ 1) and, with ``n`` ≥ 2, the mixing layer."""
        for layer in [self.embed, self.mix][:n]:
            for p in layer.parameters():
                p.requires_grad_(False)
