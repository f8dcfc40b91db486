"""RingTowerNet: one tower shared by the 8 electrodes, then a circular convolution over the armband ring.

Built for its explanation. Each electrode's 4 × 10 spectrogram patch goes through the same small
tower to an embedding; only the fusion stage (circular convolutions over the 8 embeddings, then a
linear head) mixes electrodes. Two consequences:

- exact channel Shapley is cheap: a coalition keeps some electrodes' embeddings and uses the
  baseline's for the others, so the tower runs once per electrode of the window (and once for the
  baseline, cached) and only the small fusion stage runs on the 2^8 coalitions
  (``shapley_coalitions``, the capability ``myoxai.explain`` looks for);
- an armband rotation by whole electrodes is a circular permutation of the embeddings, which the
  ring convolutions commute with (only the head sees absolute positions).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import torch
from torch import nn

from myoxai.models.base import SPECTROGRAM, MyoModel


class RingTowerNet(MyoModel):
    """Shared per-electrode tower (MLP on the 4 × 10 patch) → circular ring convolutions → linear head.

    Parameters
    ----------
    n_classes:
        Number of gestures.
    tower:
        Widths of the tower's layers; the last is the embedding size.
    ring:
        Output channels of each circular convolution (kernel 3) over the 8 embeddings.
    dropout:
        Dropout on the tower's hidden layers and before the head.
    in_frames, n_freqs:
        Spectrogram time frames and frequency bins (one patch is ``in_frames × n_freqs``).
    log_input:
        Standardise log power instead of power (see ``ElectrodeStandardizer``).
    """

    name = "ring-tower"
    input_kind = SPECTROGRAM
    transfer_frozen = 1  # transfer learning freezes the shared electrode tower (as ScatNet's embedding)

    def __init__(self, n_classes: int, tower: Sequence[int] = (64, 24), ring: Sequence[int] = (32, 32),
                 dropout: float = 0.2, in_frames: int = 4, n_freqs: int = 10, log_input: bool = False,
                 input_rotation: dict | None = None) -> None:
        super().__init__(n_classes, log_input, input_rotation, tower=list(tower), ring=list(ring), dropout=dropout,
                         in_frames=in_frames, n_freqs=n_freqs)
        layers: list[nn.Module] = []
        c_in = in_frames * n_freqs
        for i, c_out in enumerate(tower):
            layers += [nn.Linear(c_in, c_out), nn.ELU()]
            if i < len(tower) - 1:
                layers.append(nn.Dropout(dropout))
            c_in = c_out
        self.tower = nn.Sequential(*layers)
        convs: list[nn.Module] = []
        for c_out in ring:
            convs += [nn.Conv1d(c_in, c_out, 3, padding=1, padding_mode="circular"), nn.ELU()]
            c_in = c_out
        self.ring = nn.Sequential(*convs)
        self.dropout = nn.Dropout(dropout)
        self.feature_dim = c_in * self.standardize.mean.numel()
        self.head = nn.Linear(self.feature_dim, n_classes)

    def embed(self, x: torch.Tensor) -> torch.Tensor:
        """(batch, electrodes, embedding) tower output of each electrode's standardised patch."""
        z = self.standardize(x)  # (batch, frames, electrodes, freqs)
        patches = z.permute(0, 2, 1, 3).reshape(z.shape[0], z.shape[2], -1)
        return self.tower(patches)

    def fuse(self, emb: torch.Tensor) -> torch.Tensor:
        """The flattened ring-convolution output (batch, feature_dim) of embeddings (batch, electrodes, d)."""
        return self.dropout(self.ring(emb.transpose(1, 2)).flatten(1))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """Tower per electrode, then the ring convolutions (what the head classifies)."""
        return self.fuse(self.embed(x))

    def freeze_early_layers(self, n: int = 1) -> None:
        """Freeze the shared tower (``n`` ≥ 1) and, with ``n`` ≥ 2, the first ``n - 1`` ring convolutions."""
        convs = [m for m in self.ring if isinstance(m, nn.Conv1d)]
        for layer in [self.tower, *convs][:n]:
            for p in layer.parameters():
                p.requires_grad_(False)

    @torch.no_grad()
    def shapley_coalitions(self, baseline: torch.Tensor,
                           keep: torch.Tensor) -> Callable[[torch.Tensor], torch.Tensor] | None:
        """Coalition logits by structure: ``x (k, F, E, Q) -> (k · len(keep), classes)``, or ``None``.

        ``keep`` (coalitions, electrodes) bool says which electrodes a coalition keeps; an absent
        one gets the embedding of ``baseline`` (one window, computed here once). The tower runs
        once per electrode of each window. The ring convolutions of position p only see the 2r + 1
        electrodes around it (r = number of ring layers) and the head is linear, so the logits are
        ``bias + Σ_p g_p(pattern of kept electrodes around p)``: the fusion runs once per position
        and local pattern (8 × 2^(2r+1) rows instead of 256 × 8), then each coalition gathers its
        8 terms. Returns ``None`` when an input rotation is set (it mixes electrodes before the
        tower, so masking the raw input is no longer masking embeddings) or the ring is too deep.
        """
        n = self.standardize.mean.numel()
        convs = [m for m in self.ring if isinstance(m, nn.Conv1d)]
        r = len(convs)  # kernel 3: one electrode more on each side per layer
        if "rotation" in self.standardize._buffers or 2 * r + 1 > n:
            return None
        if any(isinstance(m, nn.ELU) and m.alpha != 1.0 for m in self.modules()):
            return None  # ``_elu`` below is ELU with alpha 1, as built
        width = 2 * r + 1
        # numpy, float32: at 8 × 2^width rows per window torch's per-call dispatch would cost more than the sums
        std = self.standardize
        mean, sd = (_np(t).reshape(-1, 1) for t in (std.mean, std.std))  # per electrode, broadcast over freqs
        offset = float(std.offset) if std.log else None
        tower = [(_np(m.weight.T), _np(m.bias)) for m in self.tower if isinstance(m, nn.Linear)]
        base = _np(self.embed(baseline[None].float()))  # (1, E, d): the baseline's tower, once
        pos = np.arange(n)
        # layer l's table holds, for each centre electrode e and pattern q of the 2l + 1 electrodes
        # e - l … e + l (bit i = electrode e - l + i kept), the ring output there. Its three taps read rows
        # of layer l - 1, so each tap's product with the previous table is computed once and summed by index.
        layers = []
        for level, conv in enumerate(convs, start=1):
            q = np.arange(2 ** (2 * level + 1))
            low = 2 ** (2 * level - 1)
            rows = np.stack([((pos - 1) % n)[:, None] * low + (q % low)[None],  # left neighbour: bits 0 … 2l - 2
                             pos[:, None] * low + ((q >> 1) % low)[None],  # centre: bits 1 … 2l - 1
                             ((pos + 1) % n)[:, None] * low + (q >> 2)[None]], axis=-1).reshape(-1, 3)
            taps = _np(conv.weight.permute(1, 2, 0).reshape(conv.in_channels, -1))  # (c_in, 3 · c_out): every tap
            layers.append((taps, _np(conv.bias), np.ascontiguousarray((rows * 3 + np.arange(3)).T)))  # (3, rows)
        # pattern index of every coalition at every position: bit i = electrode p - r + i kept
        neighbours = (pos[:, None] + np.arange(-r, r + 1)[None, :]) % n  # (E, width)
        pattern = (np.asarray(keep, dtype=bool)[:, neighbours].astype(np.int64) << np.arange(width)).sum(-1)  # (S, E)
        terms = np.ascontiguousarray((pos[None, :] * 2**width + pattern).T)  # (E, S): the row of g each adds
        w_head = _np(self.head.weight.reshape(self.n_classes, -1, n).permute(2, 1, 0))  # (E, c, classes)
        head_bias = _np(self.head.bias)

        def logits(x: torch.Tensor) -> torch.Tensor:
            a = np.asarray(x.detach().cpu().numpy(), dtype=np.float32)
            k = a.shape[0]
            if offset is not None:
                a = np.log(np.maximum(a, 0) + np.float32(offset))
            z = ((a - mean) / sd).transpose(0, 2, 1, 3).reshape(k, n, -1)  # (k, E, F · Q) patches
            for w, b in tower:
                z = _elu(z @ w + b)  # the tower once per electrode of each window
            table = np.empty((k, n, 2, z.shape[-1]), np.float32)  # per electrode: pattern 0 (baseline) / 1
            table[:, :, 0], table[:, :, 1] = base, z
            table = table.reshape(k, 2 * n, -1)
            for taps, bias, index in layers:  # each ring conv once per (centre, pattern)
                products = (table @ taps).reshape(k, -1, len(bias))  # each previous row through each tap
                summed = products.take(index[0], axis=1)
                summed += products.take(index[1], axis=1)
                summed += products.take(index[2], axis=1)
                summed += bias
                table = _elu(summed)
            g = np.matmul(table.reshape(k, n, 2**width, -1), w_head).reshape(k, -1, self.n_classes)
            out = np.add.reduce(g.take(terms, axis=1), axis=1)  # (k, S, classes): each coalition's E terms
            out += head_bias
            return torch.from_numpy(out.reshape(-1, self.n_classes))

        return logits


def _np(t: torch.Tensor) -> np.ndarray:
    """A float32 numpy copy of a parameter or buffer."""
    return np.array(t.detach().cpu(), dtype=np.float32)


def _elu(a: np.ndarray) -> np.ndarray:
    """ELU (alpha 1) in place: max(a, expm1(min(a, 0))) equals it, since expm1(v) ≥ v."""
    m = np.minimum(a, 0)
    np.expm1(m, out=m)
    return np.maximum(a, m, out=a)
