"""The 35-second labeled recalibration: one hold per gesture fine-tunes the serving model.

When the unlabeled Quick adapt is not enough, the user holds each gesture once (about 1.5 s each,
35 s for 22 gestures) and the current model is fine-tuned on those labeled windows with the
transfer recipe of ``myoxai.models.transfer``: its early layers frozen, the head and last block
trained for a fixed number of optimiser steps (no early stopping: one hold per gesture leaves
nothing to validate on), class-balanced. The gesture set and the head are kept; the
per-electrode standardiser is kept as Quick adapt re-fitted it on the longer unlabeled buffer.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from myoxai.errors import MyoxaiError
from myoxai.models import MyoModel
from myoxai.models.transfer import FineTuneSettings, fine_tune, freeze_early, frozen_layers_default

HOLD_WINDOWS = 26  # one long-term-dataset trial (1.5 s at a 50 ms step): the evaluation's "one hold"


def _default_fine_tune() -> FineTuneSettings:
    return FineTuneSettings(steps=150, batch_size=64, lr=1e-3, refit_standardizer=False, threads=2)


@dataclass
class LabeledRecalibrationReport:
    """What a 35-s recalibration did."""

    n_windows: int = 0
    gestures: int = 0
    frozen_layers: int = 0
    epochs_run: int = 0
    final_loss: float | None = None
    seconds: float = 0.0
    status: str = "accepted"  # or "cancelled"
    settings: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """The report as plain JSON values."""
        return asdict(self)


def recalibrate_labeled(model: MyoModel, x: np.ndarray, y: np.ndarray, settings: FineTuneSettings | None = None,
                        frozen: int | None = None, progress: Any = None,
                        cancel: threading.Event | None = None) -> tuple[MyoModel, LabeledRecalibrationReport]:
    """Fine-tune a copy of ``model`` on a few labeled holds; return it and a report.

    Parameters
    ----------
    model:
        The serving model (e.g. the Quick-adapted one); never changed.
    x, y:
        (n, 4, 8, 10) spectrograms of the holds and their gesture indices (the model's classes).
    settings:
        The fixed step budget and optimiser (``FineTuneSettings``; 150 steps, lr 1e-3, 2 threads).
    frozen:
        Early layers to freeze (default: ``frozen_layers_default``, as in transfer).
    progress:
        Called as ``progress(epoch, epochs, loss)`` after each epoch.
    cancel:
        Set it to stop after the current epoch; the copy trained so far is returned, marked cancelled.
    """
    x = np.asarray(x, dtype=np.float32)
    y = np.asarray(y, dtype=np.int64)
    if x.ndim != 4 or len(x) != len(y) or len(y) == 0:
        raise MyoxaiError("the labeled recalibration needs spectrogram windows (n, frames, electrodes, freqs) "
                          "with one gesture label each; record one hold per gesture first")
    if y.min() < 0 or y.max() >= model.n_classes:
        raise MyoxaiError(f"labels must be gesture indices 0..{model.n_classes - 1} of the serving model")
    s = settings or _default_fine_tune()
    t0 = time.perf_counter()
    net = copy.deepcopy(model)
    for p in net.parameters():
        p.requires_grad_(True)
    n_frozen = frozen_layers_default(net) if frozen is None else frozen
    freeze_early(net, n_frozen)
    info = fine_tune(net, x, y, s, progress=progress, should_stop=None if cancel is None else cancel.is_set)
    for p in net.parameters():
        p.requires_grad_(True)
    for attr in ("class_names", "description"):
        if hasattr(model, attr):
            setattr(net, attr, copy.deepcopy(getattr(model, attr)))
    report = LabeledRecalibrationReport(n_windows=len(y), gestures=int(len(np.unique(y))), frozen_layers=n_frozen,
                                        epochs_run=info["epochs_run"], final_loss=info["final_loss"],
                                        seconds=time.perf_counter() - t0, settings=s.to_dict(),
                                        status="cancelled" if cancel is not None and cancel.is_set() else "accepted")
    return net.eval(), report


def first_holds(labels: np.ndarray, per_class: int = HOLD_WINDOWS) -> np.ndarray:
    """Indices of the first ``per_class`` windows of each gesture in recording order (one hold each).

    On the long-term dataset's buffer (motion-major, trial-minor) that is trial 1 of every gesture.
    """
    labels = np.asarray(labels)
    keep = np.zeros(len(labels), bool)
    for k in np.unique(labels[labels >= 0]):
        keep[np.flatnonzero(labels == k)[:per_class]] = True
    return np.flatnonzero(keep)
