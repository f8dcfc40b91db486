"""The app's 35-second labeled recalibration: the wizard's quick-mode recording fine-tunes the current model.

The wizard records one hold per gesture of the serving model, then one short held-out hold of
each (``quick_calibration.quick_schedule``). ``recalibrate_from_recording`` maps the recording's
gesture names to the model's classes, runs ``myoxai.adapt.labeled.recalibrate_35s`` on the first
round (Quick adapt's rotation and re-normalisation on the engine's buffer, then fine-tuning with
the first layer frozen) and scores the result on the held-out round, which it never trains on.
The gesture set and the calibration energy profile stay the model's (a later Quick adapt measures
rotation against the calibration, as before); the drift reference is rebuilt from today's holds,
its symptoms from the held-out round, so the monitor reads OK on the signal just recalibrated on.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.errors import MyoxaiError


def _windows_in_model_classes(rec: Any, pieces: list[tuple[int, int]], class_names: tuple[str, ...]
                              ) -> tuple[np.ndarray, np.ndarray]:
    """The labelled windows of ``pieces`` relabelled to ``class_names`` indices (other gestures dropped)."""
    from myoxai.live.bundled import labelled_windows

    x, y = labelled_windows(rec, pieces=pieces)
    index = {name: i for i, name in enumerate(class_names)}
    to_model = np.array([index.get(name, -1) for name in rec.class_names], dtype=np.int64)
    y = to_model[y]
    keep = y >= 0
    return x[keep], y[keep]


def recalibrate_from_recording(rec: Any, split_s: float, model: Any, buffer: np.ndarray | None = None,
                               source_data: Any = None, progress: Callable[[float, str], None] | None = None,
                               cancel: Any = None) -> tuple[Any, Any, dict[str, Any]]:
    """(model, source_data, metrics) of a 35-s recalibration; ``metrics["test_accuracy"]`` is the held-out hold's.

    Parameters
    ----------
    rec:
        The wizard's labelled quick-mode Recording: a hold of every gesture of ``model.class_names``
        before ``split_s`` (a gesture left out would be forgotten, so it is refused).
    split_s:
        Seconds from its first sample where the held-out round starts (never trained on).
    model:
        The calibration model the panel adapts (not an adapted copy); never changed.
    buffer:
        The engine buffer's inputs for the rotation estimate and re-normalisation (default: the holds).
    source_data:
        The model's calibration data: the rotation reference when the file has no profile; returned
        unchanged so Recalibrate stays anchored to it.
    """
    from myoxai.adapt.labeled import recalibrate_35s
    from myoxai.engine.drift import REFERENCE_KEY
    from myoxai.live.drift_reference import reference_for_model, with_held_out_symptoms
    from myoxai.models import predict

    names = tuple(getattr(model, "class_names", ()) or ())
    if rec.labels is None or not names:
        raise MyoxaiError("the 35-s recalibration needs the wizard's labelled recording and a model with "
                          "gesture names; record it from the Adapt panel")
    cut = int(np.searchsorted(rec.timestamps, rec.timestamps[0] + split_s))
    x, y = _windows_in_model_classes(rec, [(0, cut)], names)
    xt, yt = _windows_in_model_classes(rec, [(cut, len(rec))], names) if cut < len(rec) else (x[:0], y[:0])
    missing = [n for i, n in enumerate(names) if i not in set(y.tolist())]
    if missing:  # a gesture without a hold is forgotten by the fine-tuning (docs/live.md)
        raise MyoxaiError(f"the first round has no hold of {', '.join(missing)}; the 35-s recalibration needs one "
                          "hold of every gesture of the model (a gesture left out would be forgotten)")
    if progress:
        progress(0.0, f"Quick adapt, then fine-tuning the current model on {len(y)} windows")

    def on_epoch(epoch: int, total: int, loss: float) -> None:
        if progress:
            progress(epoch / total, f"fine-tuning: epoch {epoch}/{total}, loss {loss:.3f}")

    t0 = time.perf_counter()
    buf = None if buffer is None or len(buffer) == 0 else np.asarray(buffer, np.float32)
    net, report = recalibrate_35s(model, x, y, buffer=buf, source=source_data, progress=on_epoch, cancel=cancel)
    seconds = time.perf_counter() - t0
    if report.status == "cancelled":
        raise MyoxaiError("the 35-s recalibration was cancelled; the current model keeps serving")
    acc = float(np.mean(predict(net, xt) == yt)) if len(yt) else float("nan")
    acc_before = float(np.mean(predict(model, xt) == yt)) if len(yt) else float("nan")  # same windows, old model
    desc = dict(getattr(model, "description", None) or {})
    desc["labeled_recalibration"] = {**report.to_dict(), "test_accuracy": acc, "n_test_windows": int(len(yt))}
    try:
        ref = reference_for_model(net, x)
        desc[REFERENCE_KEY] = (with_held_out_symptoms(ref, net, xt) if len(xt) else ref).to_dict()
    except MyoxaiError:  # e.g. only rest was held: keep the model's reference
        pass
    net.description = desc
    metrics = {"n_train_windows": int(len(y)), "n_test_windows": int(len(yt)), "test_accuracy": acc,
               "test_accuracy_before": acc_before, "fine_tune_seconds": seconds, "epochs_run": report.epochs_run,
               "rotation_shift": report.settings.get("rotation_shift"),
               "summary": f"accuracy on the held-out hold (not trained on): {100 * acc:.1f} % of {len(yt)} windows "
                          f"(the calibration model: {100 * acc_before:.1f} %); "
                          f"Quick adapt + fine-tuning of the current model on {len(y)} windows in {seconds:.1f} s"}
    return net, source_data, metrics


def recalibrate_from_file(path: str | Path, split_s: float, model: Any, buffer: Callable[[], np.ndarray | None],
                          source_data: Any = None, progress: Callable[[float, str], None] | None = None
                          ) -> tuple[Any, Any, dict[str, Any]]:
    """``recalibrate_from_recording`` on the wizard's XDF file (what its training job runs in a worker thread).

    ``buffer()`` is called then, so the rotation estimate sees the windows of the session just recorded.
    """
    from myoxai.io import read_recording

    if progress:
        progress(0.0, "reading the recording")
    return recalibrate_from_recording(read_recording(path), split_s, model, buffer(), source_data, progress)
