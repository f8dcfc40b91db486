"""Row-local evaluation of all 2^N coalitions: compute each electrode row only for the patterns it can see.

In a stack of 3×3 convolutions over (electrodes × freqs), the output row of electrode r after
the first convolution depends only on electrodes r−1..r+1, after the second on r−2..r+2, and so
on. Among the 2^8 = 256 coalitions a row after the second convolution therefore takes at most
2^5 = 32 distinct values, so computing it 256 times is 8× wasted work. This module computes
every row once per distinct pattern of the electrodes in its receptive field, for as long as
the layers are row-local (convolutions with zero padding and pointwise layers), then expands
to all coalitions and runs the rest of the network (pooling, head) on the full batch.

The layer chain is what the model declares with ``row_local_layers()`` (standardiser → those
layers → global average pooling → ``head``); a model that declares none is left to the simpler
paths, and the caller verifies equality with the plain path before using this one. (An earlier
version traced the model with ``torch.fx``, which patches ``nn.Module.__call__`` process-wide
while tracing and so broke forward passes running in other threads.)
"""

from __future__ import annotations

import logging

import numpy as np
import torch
from torch import nn

log = logging.getLogger(__name__)

POINTWISE = (nn.ReLU, nn.ELU, nn.LeakyReLU, nn.Tanh, nn.Sigmoid, nn.GELU, nn.SiLU, nn.BatchNorm2d,
             nn.Dropout, nn.Dropout2d, nn.Identity)


def _conv_ok(conv: nn.Conv2d) -> bool:
    return (isinstance(conv.padding, tuple) and conv.padding_mode == "zeros" and conv.dilation[0] == 1
            and conv.groups == 1)


def _rows_as_channels(weight: torch.Tensor) -> torch.Tensor:
    """(C_out, C, kh, kw) → (C_out, kh·C, 1, kw): a kh-row slab read as kh·C channels of one row."""
    co, c, kh, kw = weight.shape
    return weight.detach().permute(0, 2, 1, 3).reshape(co, kh * c, 1, kw).contiguous()


class RowLocalPath:
    """Coalition logits by row-local memoisation (see the module docstring).

    All rows of a layer live in one tensor (k, Σ_r P_r, C, 1, W) — row r's P_r patterns one after
    another — so each layer is one gather, one convolution and one call per pointwise module,
    whatever the number of rows. Build with ``RowLocalPath.build(model, baseline, n_players)``;
    it returns ``None`` when the model is not a standardiser followed by a chain of row-local layers.
    """

    def __init__(self, std: nn.Module, layers: list[nn.Module], tail: nn.Module, baseline: torch.Tensor,
                 n_players: int) -> None:
        self.std, self.layers, self.tail, self.n = std, layers, tail, n_players
        self.zb = std(baseline[None])[0]  # (F, E, B) standardised baseline
        intervals = [(r, r) for r in range(n_players)]
        self.plans: list[torch.Tensor | None] = []  # per layer: gather index for convs, None for pointwise
        for layer in layers:
            if isinstance(layer, nn.Conv2d):
                gather, intervals = self._plan_conv(layer, intervals)
                self.plans.append(gather)
            else:
                self.plans.append(None)
        self.kh = [layer.kernel_size[0] if isinstance(layer, nn.Conv2d) else 0 for layer in layers]
        self.weights = [_rows_as_channels(layer.weight) if isinstance(layer, nn.Conv2d) else None for layer in layers]
        # final expansion: coalition s, row r -> position of row r's pattern of s in the last state
        coalitions = np.arange(2**n_players)
        offsets = np.cumsum([0] + [2 ** (hi - lo + 1) for lo, hi in intervals])
        self.final = torch.as_tensor(np.stack(
            [offsets[r] + ((coalitions >> lo) & ((1 << (hi - lo + 1)) - 1)) for r, (lo, hi) in enumerate(intervals)],
            axis=1).reshape(-1))
        self.h_out = len(intervals)
        # first state: row r patterns (baseline, present) at positions 2r, 2r+1

    @staticmethod
    def _plan_conv(conv: nn.Conv2d, intervals: list[tuple[int, int]]):
        """Gather index (Σ P'_r · kh,) into the previous state (with a zero row appended last)."""
        kh, sh, ph = conv.kernel_size[0], conv.stride[0], conv.padding[0]
        h = len(intervals)
        sizes = [2 ** (hi - lo + 1) for lo, hi in intervals]
        offsets = np.cumsum([0] + sizes)
        zero_row = offsets[-1]
        h_out = (h + 2 * ph - kh) // sh + 1
        gathers, new_intervals = [], []
        for r in range(h_out):
            rows = [r * sh - ph + i for i in range(kh)]
            valid = [q for q in rows if 0 <= q < h]
            lo, hi = min(intervals[q][0] for q in valid), max(intervals[q][1] for q in valid)
            bits = (np.arange(2 ** (hi - lo + 1))[:, None] >> np.arange(hi - lo + 1)[None]) & 1
            cols = []
            for q in rows:
                if not 0 <= q < h:
                    cols.append(np.full(len(bits), zero_row))
                    continue
                qlo, qhi = intervals[q]
                sub = bits[:, qlo - lo:qhi - lo + 1]
                cols.append(offsets[q] + (sub << np.arange(sub.shape[1])[None]).sum(axis=1))
            gathers.append(np.stack(cols, axis=1))  # (P', kh)
            new_intervals.append((lo, hi))
        return torch.as_tensor(np.concatenate(gathers).reshape(-1)), new_intervals

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        """(k·2^N, n_classes) logits of every coalition of each of the k windows."""
        k = x.shape[0]
        z = self.std(x)  # (k, F, E, B)
        zb = self.zb.expand(k, *self.zb.shape)
        # state (k, Σ P_r, C, 1, W): row r's patterns (baseline, present) at 2r, 2r+1
        state = torch.stack([zb, z], dim=3).permute(0, 2, 3, 1, 4).reshape(k, 2 * self.n, z.shape[1], 1, z.shape[3])
        for layer, gather, kh, weight in zip(self.layers, self.plans, self.kh, self.weights, strict=True):
            c, w = state.shape[2], state.shape[4]
            if gather is None:
                state = layer(state.reshape(-1, c, 1, w)).reshape(k, -1, c, 1, w)
                continue
            padded = torch.cat([state, state.new_zeros(k, 1, c, 1, w)], dim=1)
            # the kh gathered rows become input channels (no transpose copy): weight is (C_out, kh·C, 1, kw)
            slab = padded[:, gather].reshape(-1, kh * c, 1, w)
            out = nn.functional.conv2d(slab, weight, layer.bias, (1, layer.stride[1]), (0, layer.padding[1]),
                                       (1, layer.dilation[1]))
            state = out.reshape(k, -1, *out.shape[1:])
        c = state.shape[2]
        # global mean = mean over rows of each row's mean over W, so pool before expanding to coalitions
        row_means = state.mean(dim=(3, 4))  # (k, Σ P, C)
        pooled = row_means[:, self.final].reshape(k * 2**self.n, self.h_out, c).mean(dim=1)
        return self.tail(pooled)

    @classmethod
    def build(cls, model: nn.Module, baseline: torch.Tensor, n_players: int) -> RowLocalPath | None:
        declared = getattr(model, "row_local_layers", None)
        layers = declared() if callable(declared) else None
        if not layers or not hasattr(model, "standardize") or not hasattr(model, "head"):
            return None
        if not all(isinstance(m, POINTWISE) or (isinstance(m, nn.Conv2d) and _conv_ok(m)) for m in layers):
            return None
        if not any(isinstance(m, nn.Conv2d) for m in layers):
            return None
        return cls(model.standardize, list(layers), model.head, baseline, n_players)
