"""Spectrogram classifiers: the Côté-Allard style ConvNet and the lightweight All-ConvNet.

Both read the raw spectrogram (batch, 4 frames, 8 electrodes, 10 freqs): the time frames are the
input planes and electrodes × frequencies the image, so a 3×3 kernel mixes neighbouring
electrodes (the armband is a ring, but zero padding is kept so ``first_conv`` is a plain
``nn.Conv2d`` the Shapley fast path can use as is).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from myoxai.models.base import SPECTROGRAM, MyoModel


class SpectrogramConvNet(MyoModel):
    """Blocks of Conv2d → BatchNorm → LeakyReLU(0.1) → Dropout, global average pooling, linear head.

    Adapted from Côté-Allard et al. (2019) to the 4×8×10 spectrogram. ``features`` ends at the
    pooled vector (what DANN's domain classifier and Shapley feedback reach); ``head`` is one
    linear layer.

    Parameters
    ----------
    n_classes:
        Number of gestures.
    channels:
        Output channels of each conv block.
    dropout:
        Dropout after each block.
    in_frames:
        Spectrogram time frames (input planes).
    log_input:
        Standardise log power instead of power (see ``ElectrodeStandardizer``).
    """

    name = "spectrogram-convnet"
    input_kind = SPECTROGRAM

    def __init__(self, n_classes: int, channels: Sequence[int] = (24, 32, 32), dropout: float = 0.2,
                 in_frames: int = 4, log_input: bool = False, input_rotation: dict | None = None) -> None:
        super().__init__(n_classes, log_input, input_rotation, channels=list(channels), dropout=dropout,
                         in_frames=in_frames)
        blocks, c_in = [], in_frames
        for c_out in channels:
            blocks += [nn.Conv2d(c_in, c_out, 3, padding=1, bias=False), nn.BatchNorm2d(c_out),
                       nn.LeakyReLU(0.1), nn.Dropout(dropout)]
            c_in = c_out
        self.blocks = nn.Sequential(*blocks)
        self.head = nn.Linear(c_in, n_classes)
        self.feature_dim = c_in

    @property
    def first_conv(self) -> nn.Conv2d:
        """The first convolution (where feedback weights and Shapley injection act)."""
        return self.blocks[0]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Convolution blocks on the standardised input, averaged over time and frequency."""
        return self.blocks(self.standardize(x)).mean(dim=(2, 3))

    def row_local_layers(self) -> list[nn.Module]:
        """The convolution blocks (each keeps electrodes apart)."""
        return list(self.blocks)


class ConvClassifierHead(nn.Module):
    """A 1×1 convolution to class scores applied to pooled features.

    Global average pooling and a 1×1 convolution are both linear, so pooling first and then
    applying the 1×1 conv to the (batch, d, 1, 1) vector gives the same logits as the classic
    All-ConvNet order; it lets ``features`` return a flat (batch, d) vector like the other models.
    """

    def __init__(self, d: int, n_classes: int) -> None:
        super().__init__()
        self.conv = nn.Conv2d(d, n_classes, 1)

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        """Class scores of pooled features (batch, d)."""
        return self.conv(z[:, :, None, None]).flatten(1)


class AllConvNet(MyoModel):
    """All-convolutional net: 3×3 convs with ELU, one strided, 1×1 conv to classes, global average pooling.

    No fully connected layer. Kept small (≈ 35 k parameters) because it is the default LIVE
    model: exact channel Shapley runs 256 forward passes per decision. Transfer learning
    (Côté-Allard-style pre-train on source data, freeze the first three convs, fine-tune the
    rest on a few target trials) is ``freeze_early_layers`` + the normal trainer.

    Parameters
    ----------
    n_classes:
        Number of gestures.
    channels:
        Output channels of the four 3×3 convs (the third has stride 2: 8×10 → 4×5).
    dropout:
        Dropout before the classifier.
    in_frames:
        Spectrogram time frames (input planes).
    log_input:
        Standardise log power instead of power (see ``ElectrodeStandardizer``).
    """

    name = "allconvnet"
    input_kind = SPECTROGRAM

    def __init__(self, n_classes: int, channels: Sequence[int] = (16, 32, 32, 64), dropout: float = 0.2,
                 in_frames: int = 4, log_input: bool = False, input_rotation: dict | None = None) -> None:
        super().__init__(n_classes, log_input, input_rotation, channels=list(channels), dropout=dropout,
                         in_frames=in_frames)
        if len(channels) != 4:
            raise ValueError("AllConvNet takes exactly four conv widths")
        c1, c2, c3, c4 = channels
        self.convs = nn.ModuleList([nn.Conv2d(in_frames, c1, 3, padding=1), nn.Conv2d(c1, c2, 3, padding=1),
                                    nn.Conv2d(c2, c3, 3, stride=2, padding=1), nn.Conv2d(c3, c4, 3, padding=1)])
        self.act = nn.ELU()
        self.dropout = nn.Dropout(dropout)
        self.head = ConvClassifierHead(c4, n_classes)
        self.feature_dim = c4

    @property
    def first_conv(self) -> nn.Conv2d:
        """The first convolution (where feedback weights and Shapley injection act)."""
        return self.convs[0]

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """The convolutions on the standardised input, globally averaged, then dropout."""
        h = self.standardize(x)
        for conv in self.convs:
            h = self.act(conv(h))
        return self.dropout(h.mean(dim=(2, 3)))

    def row_local_layers(self) -> list[nn.Module]:
        """Each convolution with its activation (each keeps electrodes apart)."""
        return [m for conv in self.convs for m in (conv, self.act)]  # dropout after pooling: identity in eval

    def freeze_early_layers(self, n: int = 3) -> None:
        """Freeze the first ``n`` convolutions (transfer learning keeps the generic filters)."""
        for conv in self.convs[:n]:
            for p in conv.parameters():
                p.requires_grad_(False)
