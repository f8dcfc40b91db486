"""The 35-second labeled recalibration: one hold per gesture fine-tunes the serving model.

When the unlabeled Quick adapt is not enough, the user holds each gesture once (about 1.5 s each,
35 s for 22 gestures). ``recalibrate_35s`` compensates rotation and re-normalises the calibration
model on today's windows (``quick_adapt`` without the prototype head, the same computation as
``METHODS["quick"]``), then fine-tunes it on those labeled windows with the transfer recipe of
``myoxai.models.transfer``: the first layer frozen, the rest trained for a fixed number of
optimiser steps (no early stopping: one hold per gesture leaves nothing to validate on),
class-balanced. The gesture set and the head are kept, and so is the standardiser Quick adapt
re-fitted.

Chosen on the long-term dataset's selection days (subjects 1-4, days 3-8, seed 0; mean accuracy on
trials 3-4 after fine-tuning on trial 1): from the quick+proto model, 150 steps, lr 1e-3, transfer's
default freezing 75.4; lr 3e-3 76.5; 300 steps 76.5; one frozen block 76.2; standardiser re-fitted on
the holds 75.1; from the quick model (no prototype head) 77.1, with lr 3e-3 77.2, and with lr 3e-3 and
one frozen block **77.6** (these settings).
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from myoxai.adapt import quick
from myoxai.errors import MyoxaiError
from myoxai.models import MyoModel
from myoxai.models.transfer import FineTuneSettings, fine_tune, freeze_early, frozen_layers_default

HOLD_WINDOWS = 26  # one long-term-dataset trial (1.5 s at a 50 ms step): the evaluation's "one hold"
FROZEN_LAYERS = 1  # early layers kept as calibrated (selection days, see above)
START_PIPELINE = "quick"  # what the fine-tuning starts from: rotation + re-normalisation (METHODS["quick"])


def default_fine_tune() -> FineTuneSettings:
    """The fine-tuning settings chosen on the selection days (see the module docstring)."""
    return FineTuneSettings(steps=150, batch_size=64, lr=3e-3, refit_standardizer=False, threads=1)


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
        The fixed step budget and optimiser (``FineTuneSettings``; 150 steps, lr 3e-3, one torch thread:
        on a busy 2-core machine two threads made the All-ConvNet's fine-tuning 18 times slower).
    frozen:
        Early layers to freeze (default ``FROZEN_LAYERS``).
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
    s = settings or default_fine_tune()
    t0 = time.perf_counter()
    net = copy.deepcopy(model)
    for p in net.parameters():
        p.requires_grad_(True)
    n_frozen = min(FROZEN_LAYERS, frozen_layers_default(net)) if frozen is None else frozen
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


def recalibrate_35s(model: MyoModel, x: np.ndarray, y: np.ndarray, buffer: np.ndarray | None = None,
                    reference_profile: np.ndarray | None = None, source: Any = None,
                    settings: FineTuneSettings | None = None, progress: Any = None,
                    cancel: threading.Event | None = None) -> tuple[MyoModel, LabeledRecalibrationReport]:
    """The 35-s recalibration the app offers: Quick adapt (rotation + re-normalisation), then fine-tuning.

    Parameters
    ----------
    model:
        The calibration model (the one Quick adapt starts from, not an already adapted copy).
    x, y:
        One hold per gesture: (n, 4, 8, 10) spectrograms and their gesture indices.
    buffer:
        Today's unlabeled windows for the rotation estimate and re-normalisation (default: ``x``).
    reference_profile, source:
        As for Quick adapt (the calibration energy profile; default: the model file's).
    settings, progress, cancel:
        As for ``recalibrate_labeled``.
    """
    today = np.asarray(x if buffer is None else buffer, dtype=np.float32)
    ref = reference_profile if reference_profile is not None else quick.reference_profile(model, source)
    start, quick_report = quick.quick_adapt(model, today, ref, prototypes=False, min_windows=1)
    net, report = recalibrate_labeled(start, x, y, settings, progress=progress, cancel=cancel)
    report.settings = {**report.settings, "start": START_PIPELINE, "rotation_shift": quick_report.rotation_shift}
    return net, report
