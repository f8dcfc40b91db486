"""Exact per-channel Shapley values of a spectrogram classifier (the 8 electrodes are the players).

A coalition S keeps the spectrogram rows of its electrodes and replaces the others by a
baseline (zero by default: a silent electrode, since every model standardises internally, so
f(∅) = model(zeros)). All 2^N coalitions of a window run in one batched forward pass and

    φ_n = Σ_{S ∌ n} |S|!(N−|S|−1)!/N! · [f(S∪{n}) − f(S)]

becomes one matrix product ``f(coalitions) @ M`` with a (2^N × N) weight matrix built once (the
pairwise interactions, ``myoxai.explain.interactions``, are more columns of M). Hand-written: shap and
shapiq cannot group the raw input by electrode without wrapping the model, nor take the fast paths.

Fast paths (chosen at construction, each verified against the plain path and used only when they
agree to 1e-5 relative to the logits' scale — float32 rounding). The probe holds small uniform
inputs *and* draws at the scale of real data, ``mean + std · randn`` from the model's own
standardiser statistics, so a cross-electrode term that stays off near zero cannot slip through.
The first real batch a fast path explains is checked against the plain path once more; on any
mismatch the explainer falls back to the plain path for good and logs a warning.

- ``members`` (``myoxai.explain._members``): an ensemble's coalitions from each member on its own fastest path.
- ``structure`` (``myoxai.explain._structure``): the model computes its coalitions (``shapley_coalitions``).
- ``rowlocal`` (``myoxai.explain._rowlocal``): through a chain of convolutions the row of
  electrode r only sees a few neighbouring electrodes, so each row is computed once per distinct
  pattern of its receptive field (e.g. 32 instead of 256 after two 3×3 convs), and a global
  average pooling is done per row before expanding to the 256 coalitions.
- ``firstconv``: the first convolution is linear and the model's standardisation is affine per
  element, so its output for coalition S is ``bias + Σ_c conv(std(x)_c) if c ∈ S else
  conv(std(b)_c)`` — N convolutions per window instead of 2^N; the rest runs on all coalitions.
- ``plain``: one batched forward pass of the 2^N masked inputs (any model).
"""

from __future__ import annotations

import copy
import logging
import math
import threading
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from myoxai.config import DEFAULT_CONFIG, SignalConfig
from myoxai.errors import MyoxaiError

log = logging.getLogger(__name__)

ELECTRODE_AXIS = 2  # spectrogram (batch, frames, electrodes, freqs)


@dataclass(frozen=True)
class ShapleyResult:
    """Exact channel Shapley values of k windows.

    Attributes
    ----------
    phi_prob, phi_logit:
        (k, n_classes, n_channels) Shapley values of each class's probability / logit.
    f_all, f_empty:
        (k, n_classes) probabilities with every channel kept / every channel at the baseline.
    logit_all, logit_empty:
        the same on logits.
    inter_prob, inter_logit:
        (k, n_classes, pairs) pairwise interaction indices (``myoxai.explain.interactions``).
    """

    phi_prob: np.ndarray
    phi_logit: np.ndarray
    f_all: np.ndarray
    f_empty: np.ndarray
    logit_all: np.ndarray
    logit_empty: np.ndarray
    inter_prob: np.ndarray | None = None
    inter_logit: np.ndarray | None = None

    @property
    def total(self) -> np.ndarray:
        """(k, n_classes) total contribution C = f(all) − f(∅) = Σ_n φ_n (probabilities)."""
        return self.f_all - self.f_empty

    @property
    def total_logit(self) -> np.ndarray:
        """(k, n_classes) total contribution on logits, f(all) − f(∅) = Σ_n φ_n."""
        return self.logit_all - self.logit_empty

    def for_class(self, classes: np.ndarray, logits: bool = False) -> np.ndarray:
        """(k, n_channels) φ of one class per window (e.g. the predicted or the true class)."""
        phi = self.phi_logit if logits else self.phi_prob
        return phi[np.arange(phi.shape[0]), np.asarray(classes, dtype=np.int64)]


def coalition_masks(n_players: int) -> np.ndarray:
    """(2^N, N) bool: row s is the coalition whose bit n is set iff player n is in it."""
    s = np.arange(2**n_players)[:, None]
    return ((s >> np.arange(n_players)[None, :]) & 1).astype(bool)


def shapley_matrix_weights(n_players: int) -> np.ndarray:
    """(2^N, N) float64 M with φ = f(coalitions) @ M (exact Shapley values).

    M[S, n] = w(|S|−1) if n ∈ S (S plays the role S'∪{n}) and −w(|S|) if n ∉ S,
    with w(s) = s!(N−s−1)!/N!.
    """
    masks = coalition_masks(n_players)
    size, fact = masks.sum(axis=1), math.factorial
    w = np.array([fact(s) * fact(n_players - s - 1) / fact(n_players) for s in range(n_players)])
    m = np.where(masks, w[np.clip(size - 1, 0, None)][:, None], -w[np.clip(size, None, n_players - 1)][:, None])
    return m.astype(np.float64)


def _resolve_baseline(baseline: str | np.ndarray, spec_shape: tuple[int, ...]) -> torch.Tensor:
    if isinstance(baseline, str):
        if baseline != "zero":
            raise MyoxaiError(f"unknown Shapley baseline {baseline!r}; use 'zero' or pass a "
                              f"spectrogram array of shape {spec_shape} (e.g. rest_baseline(...))")
        return torch.zeros(spec_shape, dtype=torch.float32)
    arr = np.asarray(baseline, dtype=np.float32)
    if arr.shape != tuple(spec_shape):
        raise MyoxaiError(f"Shapley baseline has shape {arr.shape}; expected {tuple(spec_shape)}")
    return torch.from_numpy(arr.copy())


def rest_baseline(spectrograms: np.ndarray, labels: np.ndarray, rest_label: int = 0) -> np.ndarray:
    """Mean spectrogram of the rest windows (a 'resting electrode' baseline); pass TRAINING windows only."""
    sel = np.asarray(labels) == rest_label
    if not sel.any():
        raise MyoxaiError(f"no windows with the rest label {rest_label}; pick the rest class with rest_label=")
    return np.asarray(spectrograms, dtype=np.float64)[sel].mean(axis=0).astype(np.float32)


def _keep_shape(rows: int, spec_shape: tuple[int, ...]) -> tuple[int, ...]:
    """Shape of a (rows, N) keep-mask broadcast over one window (electrode on axis 1)."""
    return (rows, 1, spec_shape[1], *([1] * (len(spec_shape) - 2)))


def input_shape_of(model: nn.Module, config: SignalConfig = DEFAULT_CONFIG) -> tuple[int, ...]:
    """Per-window input shape of a contract model: spectrogram (4, 8, 10) or window (50, 8)."""
    if getattr(model, "input_kind", "spectrogram") == "window":
        return (config.window, config.n_channels)
    return tuple(config.spec_shape)  # models of this contract without input_kind take spectrograms


class _Injected(nn.Module):
    """Stands in for the first convolution in the private copy: returns the precomputed output."""

    def __init__(self) -> None:
        super().__init__()
        self.value: torch.Tensor | None = None

    def forward(self, x: torch.Tensor) -> torch.Tensor:  # noqa: ARG002 - input is replaced by design
        assert self.value is not None
        return self.value


class ChannelShapley:
    """Exact per-electrode Shapley values of every decision of a spectrogram classifier.

    Parameters
    ----------
    model:
        Any ``nn.Module`` mapping raw spectrograms (batch, frames, electrodes, freqs) float32 to
        logits. A private frozen copy is taken at construction, so later changes to ``model``
        (training, an adapted model swapped in) do not affect this explainer; build a new one.
    baseline:
        ``"zero"`` (a silent electrode) or a spectrogram array (e.g. ``rest_baseline``) whose
        electrode rows replace a masked electrode's.
    spec_shape:
        Input shape of one window with the electrode on axis 1: (frames, electrodes, freqs) for
        spectrogram models, (samples, electrodes) for window models; default ``input_shape_of(model)``.
    chunk:
        Windows per forward pass (each costs 2^N rows); bounds memory for long batches.
    fast:
        Try the fast paths (module docstring); ``path`` says which one is in use.

    Notes
    -----
    Thread-safe (calls serialised by a lock; the explainer owns its model copy); the caller's torch threads.
    """

    def __init__(self, model: nn.Module, baseline: str | np.ndarray = "zero",
                 spec_shape: tuple[int, ...] | None = None, chunk: int = 64, fast: bool = True) -> None:
        self.spec_shape = tuple(spec_shape) if spec_shape is not None else input_shape_of(model)
        self.n_players = self.spec_shape[ELECTRODE_AXIS - 1]
        self.chunk = max(1, int(chunk))
        self._lock = threading.Lock()
        self._model = copy.deepcopy(model).eval().float()
        self._model.requires_grad_(False)
        self._baseline = _resolve_baseline(baseline, self.spec_shape)
        self._masks_np = masks = coalition_masks(self.n_players)
        # (2^N, 1, N, 1) keep-mask broadcast over frames and freqs
        self._keep = torch.from_numpy(masks).reshape(_keep_shape(len(masks), self.spec_shape))
        from myoxai.explain.interactions import interaction_weights  # φ and interactions: one product

        self._weights = np.concatenate([shapley_matrix_weights(self.n_players), interaction_weights(self.n_players)], 1)
        self._full_row = len(masks) - 1  # all bits set
        self._fast, self.path = None, "plain"
        self._verified = False  # the fast path has not yet been checked on real windows
        if fast:
            self._choose_fast_path(masks)
        with torch.inference_mode():
            self.n_classes = int(self._model(self._baseline[None]).shape[1])

    def _choose_fast_path(self, masks: np.ndarray) -> None:
        """Use the fastest path that reproduces the plain path on a random probe (else stay plain)."""
        from myoxai.explain._members import MembersPath
        from myoxai.explain._rowlocal import RowLocalPath
        from myoxai.explain._structure import StructurePath

        base = self._baseline.numpy()  # each member of an ensemble explained by its own ChannelShapley
        builders = [("members", lambda: MembersPath.build(self._model, lambda m: type(self)(m, base, self.spec_shape))),
                    ("structure", lambda: StructurePath.build(self._model, self._baseline, masks)),
                    ("rowlocal", lambda: RowLocalPath.build(self._model, self._baseline, self.n_players)),
                    ("firstconv", lambda: _FirstConvFastPath.build(self._model, self._baseline, masks,
                                                                   self.spec_shape))]
        probe = self._probe()
        with torch.inference_mode():
            plain = self._plain_logits(self._model, probe)
            scale = max(1.0, float(plain.abs().max()))
            for name, build in builders:
                if len(self.spec_shape) != 3:
                    break
                candidate = build()
                if candidate is None:
                    continue
                err = float((plain - candidate.logits(probe)).abs().max())
                if err <= 1e-5 * scale:  # float32 rounding of a different summation order
                    self._fast, self.path = candidate, name
                    return
                log.info("Shapley %s path disagrees with the plain path (max |diff| %.3g); not used", name, err)

    def _probe(self) -> torch.Tensor:
        """Inputs the fast paths must reproduce: three small uniform ones and five at the data's own scale."""
        gen = torch.Generator().manual_seed(0)
        small = torch.rand(3, *self.spec_shape, generator=gen) * 0.05
        std_module = getattr(self._model, "standardize", None)
        mean, std = getattr(std_module, "mean", None), getattr(std_module, "std", None)
        if mean is None or std is None or mean.numel() != self.n_players:
            return small
        shape = _keep_shape(1, self.spec_shape)[1:]  # statistics per electrode (axis 1 of a window)
        draws = mean.float().reshape(shape) + std.float().reshape(shape) * torch.randn(
            5, *self.spec_shape, generator=gen)
        return torch.cat([small, draws])

    def _verify_on_real_batch(self, xc: torch.Tensor, fast_out: torch.Tensor) -> torch.Tensor:
        """Check the fast path once on the first real windows; fall back to the plain path on a mismatch."""
        self._verified = True
        plain = self._plain_logits(self._model, xc)
        err = float((plain - fast_out).abs().max())
        if err <= 1e-5 * max(1.0, float(plain.abs().max())):
            return fast_out
        log.warning("Shapley %s path disagrees with the plain path on real windows (max |diff| %.3g); "
                    "using the plain path from now on", self.path, err)
        self._fast, self.path = None, "plain"
        return plain

    @property
    def uses_fast_path(self) -> bool:
        """True when a fast path (row-local or first-convolution) is in use; ``path`` names it."""
        return self._fast is not None

    def coalition_logits(self, spectrograms: np.ndarray | torch.Tensor, plain: bool = False) -> torch.Tensor:
        """(k, 2^N, n_classes) logits of every coalition of every window (float32)."""
        x = torch.as_tensor(np.asarray(spectrograms, dtype=np.float32) if not torch.is_tensor(spectrograms)
                            else spectrograms.float())
        if x.ndim == len(self.spec_shape):
            x = x[None]
        if tuple(x.shape[1:]) != self.spec_shape:
            want = ", ".join(map(str, self.spec_shape))
            raise MyoxaiError(f"spectrograms have shape {tuple(x.shape)}; expected (k, {want})")
        outs = []
        with self._lock, torch.inference_mode():
            for i in range(0, x.shape[0], self.chunk):
                xc = x[i:i + self.chunk]
                if self._fast is not None and not plain:
                    out = self._fast.logits(xc)
                    if not self._verified:
                        out = self._verify_on_real_batch(xc, out)
                else:
                    out = self._plain_logits(self._model, xc)
                outs.append(out.reshape(xc.shape[0], len(self._masks_np), -1))
        if len(outs) != 1:  # one chunk (a live decision) needs no copy
            return torch.cat(outs) if outs else torch.empty(0, len(self._masks_np), self.n_classes)
        return outs[0]

    def _plain_logits(self, model: nn.Module, x: torch.Tensor) -> torch.Tensor:
        keep = self._keep
        masked = torch.where(keep[None], x[:, None], self._baseline[None, None])  # (k, 2^N, F, E, B)
        return model(masked.reshape(-1, *self.spec_shape))

    def explain(self, spectrograms: np.ndarray | torch.Tensor) -> ShapleyResult:
        """Exact Shapley values of k windows' raw spectrograms (k, frames, electrodes, freqs)."""
        return self._combine(self.coalition_logits(spectrograms))

    def _combine(self, logits: torch.Tensor) -> ShapleyResult:
        k, n_coalitions, c = logits.shape  # numpy, float64, coalitions last: torch's per-call dispatch would dominate
        rows = np.empty((k, 2 * c, n_coalitions))  # probabilities then logits, one row per class
        lg, pr = rows[:, c:], rows[:, :c]
        lg[...] = logits.numpy().transpose(0, 2, 1)
        np.exp(np.subtract(lg, lg.max(axis=1, keepdims=True), out=pr), out=pr)  # softmax over each coalition's classes
        pr /= pr.sum(axis=1, keepdims=True)
        both, n, full = rows @ self._weights, self.n_players, self._full_row  # (k, 2C, N + pairs)
        return ShapleyResult(phi_prob=both[:, :c, :n], phi_logit=both[:, c:, :n], f_all=pr[:, :, full],
                             f_empty=pr[:, :, 0], logit_all=lg[:, :, full], logit_empty=lg[:, :, 0],
                             inter_prob=both[:, :c, n:], inter_logit=both[:, c:, n:])


class _FirstConvFastPath:
    """Coalition logits via the linearity of the first convolution (see the module docstring)."""

    def __init__(self, tail: nn.Module, injected: _Injected, conv: nn.Conv2d, std_fn, baseline: torch.Tensor,
                 keep: torch.Tensor, spec_shape: tuple[int, ...]) -> None:
        self.tail = tail
        self.injected = injected
        self.conv = conv
        self.std_fn = std_fn  # raw spectrogram -> first_conv input (same shape)
        self.keep = keep.float()  # (2^N, N)
        self.spec_shape = spec_shape
        n = spec_shape[ELECTRODE_AXIS - 1]
        eye = torch.eye(n).reshape(n, 1, n, 1)  # electrode c alone
        self.eye = eye
        zb = std_fn(baseline[None])[0]  # (F, E, B) standardised baseline
        self.base_parts = self._parts(zb[None])[0]  # (N, C, H, W)
        self.bias = conv.bias.reshape(1, -1, 1, 1) if conv.bias is not None else None

    def _parts(self, z: torch.Tensor) -> torch.Tensor:
        """(k, N, C, H, W) bias-free first-conv output of each electrode's rows alone."""
        k = z.shape[0]
        per = (z[:, None] * self.eye[None]).reshape(-1, *z.shape[1:])
        out = nn.functional.conv2d(per, self.conv.weight, None, self.conv.stride, self.conv.padding,
                                   self.conv.dilation, self.conv.groups)
        return out.reshape(k, self.eye.shape[0], *out.shape[1:])

    def first_conv_out(self, x: torch.Tensor) -> torch.Tensor:
        """(k·2^N, C, H, W) first-convolution output of every coalition."""
        parts = self._parts(self.std_fn(x)) - self.base_parts[None]  # (k, N, C, H, W)
        k, n = parts.shape[:2]
        summed = (self.keep @ parts.reshape(k, n, -1)) + self.base_parts.sum(0).reshape(1, 1, -1)
        out = summed.reshape(k * self.keep.shape[0], *parts.shape[2:])
        return out + self.bias if self.bias is not None else out

    def logits(self, x: torch.Tensor) -> torch.Tensor:
        self.injected.value = self.first_conv_out(x)
        try:
            dummy = x.new_zeros(1).expand(self.injected.value.shape[0], *self.spec_shape)
            return self.tail(dummy)
        finally:
            self.injected.value = None

    @classmethod
    def build(cls, model: nn.Module, baseline: torch.Tensor, masks: np.ndarray,
              spec_shape: tuple[int, ...]) -> _FirstConvFastPath | None:
        if len(spec_shape) != 3 or not isinstance(getattr(model, "first_conv", None), nn.Conv2d):
            log.info("no usable model.first_conv; Shapley uses the plain batched path")
            return None
        std_fn = _input_of_first_conv(copy.deepcopy(model))
        probe = torch.rand(3, *spec_shape, generator=torch.Generator().manual_seed(0)) * 0.05
        with torch.inference_mode():
            z = std_fn(probe)
            if tuple(z.shape) != (3, *spec_shape):
                log.info("first_conv input shape %s is not the spectrogram's; plain Shapley path", tuple(z.shape))
                return None
            # the input transform must be per element: masking x must mask z the same way
            keep = torch.from_numpy(masks[[1, len(masks) // 3, len(masks) - 2]]).reshape(_keep_shape(3, spec_shape))
            zm = torch.where(keep, z, std_fn(baseline[None]))
            if not torch.allclose(std_fn(torch.where(keep, probe, baseline[None])), zm, atol=1e-6, rtol=1e-5):
                log.info("model input transform is not per element; plain Shapley path")
                return None
        tail, injected = copy.deepcopy(model), _Injected()
        target = tail.first_conv
        for mod in list(tail.modules()):
            for child_name, child in list(mod.named_children()):
                if child is target:
                    setattr(mod, child_name, injected)
        return cls(tail, injected, model.first_conv, std_fn, baseline, torch.from_numpy(masks), spec_shape)


class _StopForward(Exception):
    """Raised by a pre-hook to end a forward pass once the first convolution's input is known."""


def _input_of_first_conv(model: nn.Module):
    """Function x -> the input of ``model.first_conv`` (runs only the layers before it)."""
    captured: list[torch.Tensor] = []

    def grab(_module: nn.Module, inputs: tuple[torch.Tensor, ...]) -> None:
        captured.append(inputs[0])
        raise _StopForward

    model.first_conv.register_forward_pre_hook(grab)

    def run(x: torch.Tensor) -> torch.Tensor:
        captured.clear()
        try:
            model(x)
        except _StopForward:
            return captured[0]
        raise MyoxaiError("model never called its first_conv; it does not follow the model contract")

    return run
