"""LSTM-FIN: a feature-imitating LSTM plus a small CNN head, on the raw filtered window.

Input is the high-pass-filtered window (batch, 50 samples, 8 electrodes) — ``input_kind ==
"window"``, i.e. ``WindowBatch.windows`` — not the spectrogram. A per-electrode LSTM (shared
weights, one sequence per electrode) is first trained to imitate closed-form features of its
electrode's standardised signal (stage 1), then its hidden state and imitated features feed a
small 1-D CNN over the electrode ring and everything is fine-tuned for gestures (stage 2).

Imitation targets per electrode (computed with ``myoxai.dsp.features`` on the standardised
window, so they are exactly the registry's definitions): log RMS, log VAR, log SSI and the
amplitude-histogram entropy. The three energy features are imitated on a log scale because
they span orders of magnitude between rest and contraction (a linear-scale MSE would be
dominated by a few strong windows); each target is z-scored with training statistics.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from myoxai.dsp.features import hist_entropy, rms, ssi, var
from myoxai.models.base import WINDOW, MyoModel

FIN_TARGETS = ("log_rms", "log_var", "log_ssi", "entropy")
_EPS = 1e-8


def imitation_targets(std_windows: np.ndarray) -> np.ndarray:
    """Closed-form targets (n, electrodes, 4) of standardised windows (n, samples, electrodes)."""
    w = np.asarray(std_windows, dtype=np.float64)
    return np.concatenate([np.log(rms(w) + _EPS), np.log(var(w) + _EPS), np.log(ssi(w) + _EPS),
                           hist_entropy(w)], axis=-1)


class LstmFin(MyoModel):
    """Per-electrode LSTM feature imitator + CNN head over electrodes.

    Parameters
    ----------
    n_classes:
        Number of gestures.
    hidden:
        LSTM hidden size (per electrode).
    conv_channels:
        Width of the two 1-D convs over the electrode axis.
    dropout:
        Dropout before the linear classifier.
    """

    name = "lstm-fin"
    input_kind = WINDOW

    def __init__(self, n_classes: int, hidden: int = 16, conv_channels: int = 32, dropout: float = 0.2) -> None:
        super().__init__(n_classes, hidden=hidden, conv_channels=conv_channels, dropout=dropout)
        n_t = len(FIN_TARGETS)
        self.lstm = nn.LSTM(1, hidden, batch_first=True)
        self.imitate = nn.Linear(hidden, n_t)
        self.register_buffer("target_mean", torch.zeros(n_t))
        self.register_buffer("target_std", torch.ones(n_t))
        self.cnn = nn.Sequential(nn.Conv1d(hidden + n_t, conv_channels, 3, padding=1), nn.ELU(),
                                 nn.Conv1d(conv_channels, conv_channels, 3, padding=1), nn.ELU())
        self.dropout = nn.Dropout(dropout)
        self.feature_dim = conv_channels * 8
        self.head = nn.Linear(self.feature_dim, n_classes)
        self.first_conv = None  # not a spectrogram model: the Shapley conv fast path does not apply

    def encode(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Time-averaged per-electrode LSTM output (batch, 8, hidden) and imitated z-scored features (batch, 8, 4)."""
        b, n, e = x.shape
        seq = self.standardize(x).permute(0, 2, 1).reshape(b * e, n, 1)
        out, _ = self.lstm(seq)
        h = out.mean(dim=1).reshape(b, e, -1)  # time-average: RMS/VAR/SSI are averages over the window
        return h, self.imitate(h)

    def features(self, x: torch.Tensor) -> torch.Tensor:
        """LSTM states and FIN features through the 1-D CNN, flattened, then dropout."""
        h, fin = self.encode(x)
        z = self.cnn(torch.cat([h, fin], dim=-1).transpose(1, 2))
        return self.dropout(z.flatten(1))

    def imitation_data(self, windows: np.ndarray) -> np.ndarray:
        """Z-scored imitation targets (n, 8, 4) for raw windows, using the model's own statistics."""
        mean = self.standardize.mean.numpy()
        std = self.standardize.std.numpy()
        t = imitation_targets((np.asarray(windows, dtype=np.float64) - mean) / std)
        return ((t - self.target_mean.numpy()) / self.target_std.numpy()).astype(np.float32)

    def pretrain_stages(self, x: np.ndarray, settings: Any, train_idx: np.ndarray, val_idx: np.ndarray,
                        fit_scalers: bool) -> dict[str, Any]:
        """Stage 1, feature imitation (its report is ``"fin"``), before the gesture loss."""
        return {"fin": _fit_imitation(self, x, settings, train_idx, val_idx, fit_scalers)}

    @torch.no_grad()
    def fit_target_scaler(self, windows: np.ndarray) -> None:
        """Set the target z-scoring from training windows (after ``fit_standardizer``)."""
        mean = self.standardize.mean.numpy()
        std = self.standardize.std.numpy()
        t = imitation_targets((np.asarray(windows, dtype=np.float64) - mean) / std).reshape(-1, len(FIN_TARGETS))
        self.target_mean.copy_(torch.as_tensor(t.mean(axis=0), dtype=torch.float32))
        self.target_std.copy_(torch.as_tensor(np.maximum(t.std(axis=0), 1e-6), dtype=torch.float32))


def _fit_imitation(model: LstmFin, x: np.ndarray, settings: Any, train_idx: np.ndarray,
                   val_idx: np.ndarray, fit_scaler: bool) -> dict[str, Any]:
    """Stage 1 of LSTM-FIN: train LSTM + imitation layer to reproduce the closed-form features."""
    from myoxai.models.training import TrainSettings, fit_loop

    if fit_scaler:
        model.fit_target_scaler(x[train_idx])
    targets = model.imitation_data(x)
    stage = TrainSettings(**{**settings.to_dict(), "epochs": settings.fin_epochs,
                            "batch_size": max(32, settings.batch_size // 4)})  # more steps: targets are easy
    out = fit_loop(model, lambda xb: model.encode(xb)[1], x, targets, nn.MSELoss(), stage, val_idx, train_idx,
                   desc="lstm-fin imitation")
    idx = val_idx if len(val_idx) else train_idx
    with torch.no_grad():
        model.eval()
        pred = model.encode(torch.as_tensor(x[idx], dtype=torch.float32))[1].numpy()
    out["r2"] = r2_per_target(pred, targets[idx])
    out.pop("history")
    return out


def r2_per_target(pred: np.ndarray, target: np.ndarray) -> dict[str, float]:
    """Coefficient of determination of each imitated feature, pooled over windows and electrodes."""
    p = pred.reshape(-1, len(FIN_TARGETS))
    t = target.reshape(-1, len(FIN_TARGETS))
    ss_res = ((p - t) ** 2).sum(axis=0)
    ss_tot = ((t - t.mean(axis=0)) ** 2).sum(axis=0)
    return {name: float(1 - r / s) if s > 0 else float("nan") for name, r, s in zip(FIN_TARGETS, ss_res, ss_tot,
                                                                                   strict=True)}
