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

from myoxai.models.kinds import SPECTROGRAM, WINDOW

__all__ = ["SPECTROGRAM", "WINDOW", "ElectrodeStandardizer", "MyoModel"]


class ElectrodeStandardizer(nn.Module):
    """(x - mean_e) / std_e per electrode, statistics pooled over every other axis.

    With ``log=True`` the input is first mapped to ``log(x + offset)`` (power spectrograms): a
    gain on an electrode then becomes an additive constant, which re-fitting ``mean`` removes
    exactly, and the heavy tail of EMG power is compressed. ``offset`` (a small share of the
    training power) keeps a silent, zeroed electrode finite, so channel-Shapley masking still
    means "this electrode is silent".

    Parameters
    ----------
    n_electrodes:
        Number of electrodes (size of the electrode axis).
    electrode_dim:
        Axis of the electrode in the batched input (2 for both spectrograms and windows).
    log:
        Standardise ``log(x + offset)`` instead of ``x`` (non-negative inputs only).
    """

    LOG_OFFSET_SHARE = 0.01  # offset = this share of the mean training power

    def __init__(self, n_electrodes: int = 8, electrode_dim: int = 2, log: bool = False) -> None:
        super().__init__()
        self.electrode_dim = electrode_dim
        self.log = bool(log)
        self.register_buffer("mean", torch.zeros(n_electrodes))
        self.register_buffer("std", torch.ones(n_electrodes))
        if self.log:
            self.register_buffer("offset", torch.ones(()))

    def transform(self, x: np.ndarray) -> np.ndarray:
        """The array the statistics describe: ``x`` itself, or ``log(x + offset)``."""
        a = np.asarray(x, dtype=np.float64)
        return np.log(np.maximum(a, 0.0) + float(self.offset)) if self.log else a

    @torch.no_grad()
    def fit(self, x: np.ndarray | torch.Tensor, refit_offset: bool = True) -> None:
        """Set mean/std from training inputs ``x`` (float64 accumulation; std floored to stay finite).

        ``refit_offset=False`` keeps a log model's offset (re-normalising on new data).
        """
        a = np.asarray(x, dtype=np.float64)
        if self.log and refit_offset:
            self.offset.fill_(max(self.LOG_OFFSET_SHARE * float(np.maximum(a, 0).mean()), 1e-12))
        a = self.transform(a)
        a = np.moveaxis(a, self.electrode_dim, -1).reshape(-1, a.shape[self.electrode_dim])
        mean = a.mean(axis=0)
        std = a.std(axis=0)
        std = np.maximum(std, 1e-6 * max(float(std.max()), 1e-12))
        self.mean.copy_(torch.as_tensor(mean, dtype=self.mean.dtype))
        self.std.copy_(torch.as_tensor(std, dtype=self.std.dtype))

    def set_rotation(self, matrix: np.ndarray | torch.Tensor | None) -> None:
        """Resample the input electrodes by ``matrix`` (n × n, ``out = M @ electrodes``) first; ``None`` removes it."""
        if matrix is None:
            if "rotation" in self._buffers:
                del self._buffers["rotation"]
            return
        m = torch.as_tensor(np.asarray(matrix), dtype=self.mean.dtype)
        if "rotation" in self._buffers:
            self.rotation.copy_(m)
        else:
            self.register_buffer("rotation", m)

    def rotate(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` with its electrodes resampled by the rotation matrix (unchanged when there is none)."""
        if "rotation" not in self._buffers:
            return x
        return torch.movedim(torch.movedim(x, self.electrode_dim, -1) @ self.rotation.T, -1, self.electrode_dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``x`` rotated, log-compressed if configured, and standardised per electrode."""
        shape = [1] * x.dim()
        shape[self.electrode_dim] = -1
        x = self.rotate(x)
        if self.log:
            x = torch.log(x.clamp_min(0) + self.offset)
        return (x - self.mean.view(shape)) / self.std.view(shape)


class MyoModel(nn.Module):
    """Base of the torch classifiers: ``features`` → ``head`` gives logits; ``standardize`` is inside.

    Subclasses set ``input_kind`` and keep their constructor arguments in ``init_args`` so a model
    file can rebuild the exact architecture.
    """

    name: ClassVar[str] = ""
    input_kind: ClassVar[str] = SPECTROGRAM
    explainable: ClassVar[bool] = True  # the torch explainers of ``myoxai.explain`` run on it

    def __init__(self, n_classes: int, log_input: bool = False, input_rotation: dict[str, Any] | None = None,
                 **init_args: Any) -> None:
        super().__init__()
        self.n_classes = int(n_classes)
        self.init_args = dict(init_args)
        if log_input:  # only recorded when set, so files written before the option load unchanged
            self.init_args["log_input"] = True
        self.standardize = ElectrodeStandardizer(8, electrode_dim=2, log=log_input)
        if input_rotation:
            self.set_input_rotation(**input_rotation)

    def fit_standardizer(self, x: np.ndarray) -> None:
        """Set the standardisation statistics from training inputs (never test data)."""
        self.standardize.fit(x)

    def set_input_rotation(self, shift: float, method: str = "linear") -> None:
        """Resample the input electrodes by ``shift`` (``myoxai.dsp.ring`` convention) before standardising.

        Undoing an armband rotation ``s`` estimated since calibration is ``shift=-s``; ``0`` removes it.
        The shift is kept in ``init_args`` (so the model file says so) and the matrix as a buffer.
        """
        from myoxai.dsp.ring import shift_matrix

        if shift == 0:
            self.standardize.set_rotation(None)
            self.init_args.pop("input_rotation", None)
            return
        self.standardize.set_rotation(shift_matrix(shift, self.standardize.mean.numel(), method))
        self.init_args["input_rotation"] = {"shift": float(shift), "method": method}

    @property
    def input_rotation(self) -> float:
        """The electrode shift applied to inputs (0 when none)."""
        return float(self.init_args.get("input_rotation", {}).get("shift", 0.0))

    @torch.no_grad()
    def rotate_input_np(self, x: np.ndarray) -> np.ndarray:
        """``x`` resampled by the model's input rotation (numpy in and out; a no-op without one)."""
        if "rotation" not in self.standardize._buffers:
            return np.asarray(x)
        return self.standardize.rotate(torch.as_tensor(np.asarray(x, dtype=np.float32))).numpy()

    def features(self, x: torch.Tensor) -> torch.Tensor:  # pragma: no cover - abstract
        """The (batch, feature_dim) vector the head classifies; each model defines it."""
        raise NotImplementedError

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits: the head applied to ``features``."""
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

    # -- the classifier interface every model implements (``LdaBaseline`` too) ----------------
    @torch.no_grad()
    def logits(self, x: np.ndarray, batch_size: int = 4096) -> np.ndarray:
        """Logits (n, n_classes) float64 of numpy inputs, in eval mode (the training mode is restored)."""
        was_training = self.training
        self.eval()
        try:
            out = [self(torch.as_tensor(np.asarray(x[i:i + batch_size]), dtype=torch.float32)).double().numpy()
                   for i in range(0, len(x), batch_size)]
        finally:
            self.train(was_training)
        return np.concatenate(out) if out else np.empty((0, self.n_classes))

    def logits_on(self, data: Any) -> np.ndarray:
        """Logits on every window of a window set (anything with ``inputs(input_kind)``)."""
        return self.logits(data.inputs(self.input_kind))

    def train_on(self, x: np.ndarray, y: np.ndarray, settings: Any = None, *, fit_standardizer: bool = True,
                 val_mask: np.ndarray | None = None, groups: np.ndarray | None = None) -> dict[str, Any]:
        """Train by gradient descent (``myoxai.models.training.train_network``); returns its report."""
        from myoxai.models.training import train_network

        return train_network(self, x, y, settings, fit_standardizer=fit_standardizer, val_mask=val_mask,
                             groups=groups)

    def fit_on(self, data: Any, settings: Any = None, *, groups: np.ndarray | None = None) -> dict[str, Any]:
        """``train_on`` the window set's inputs of this model's kind and its labels ``data.y``."""
        return self.train_on(data.inputs(self.input_kind), data.y, settings, groups=groups)

    def pretrain_stages(self, x: np.ndarray, settings: Any, train_idx: np.ndarray, val_idx: np.ndarray,
                        fit_scalers: bool) -> dict[str, Any]:
        """Stages a model trains before the gesture loss (after the standardiser); their reports by name."""
        return {}

    def state_arrays(self) -> dict[str, np.ndarray]:
        """Every weight and buffer as numpy arrays (what a model file stores)."""
        return {k: v.detach().cpu().numpy() for k, v in self.state_dict().items()}

    def load_arrays(self, arrays: dict[str, np.ndarray]) -> None:
        """Restore weights and buffers from a model file (strict) and switch to eval mode."""
        self.load_state_dict({k: torch.from_numpy(np.array(v)) for k, v in arrays.items()}, strict=True)
        self.eval()
