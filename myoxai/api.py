"""myoxai's Python API: the handful of entry points a script needs, as thin wrappers over the commands' functions.

``import myoxai`` stays light: these names are imported on first use (``myoxai.__getattr__``), and each
imports torch, Qt-free engine parts or the evaluation only when it is called.

- ``open_recording(path)``: any file or folder ``myoxai info`` reads (XDF, dataset sessions, LibEMG folders).
- ``open_source(spec)``: a live source (``myo``, ``myo-ble``, ``lsl:NAME``, ``replay:FILE``; ``None`` = bundled demo).
- ``record(path, source, seconds)``: a source recorded to XDF, as ``myoxai record`` does.
- ``load_model(path)`` / ``train_model(recording, ...)`` / ``classify(model, recording)``.
- ``run_live(on_decision, ...)``: the engine headless, calling ``on_decision(decision)`` for every decision
  (gesture, probabilities, exact per-electrode Shapley values ``decision.phi``); ``lsl=True`` also publishes them.
- ``evaluate(dataset, root, protocol, ...)``: ``myoxai eval`` with its JSON report returned.
- ``explain_recording(model, recording)``: exact per-electrode Shapley values of every labelled window.
"""

from __future__ import annotations

import json
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.errors import MyoxaiError

__all__ = ["open_recording", "open_source", "record", "load_model", "train_model", "classify", "run_live",
           "evaluate", "explain_recording", "Explanation"]


def open_recording(path: str | Path) -> Any:
    """A ``myoxai.io.Recording`` (samples, timestamps, fs, labels, class_names, meta) of a file or folder."""
    from myoxai.io.open import open_recording as _open

    return _open(path)


def open_source(spec: str | None = None, speed: float = 1.0, loop: bool = False) -> Any:
    """A live source, not yet started (``start()``, ``read()`` chunks, ``stop()``); ``None`` = the bundled replay."""
    from myoxai.live.setup import open_source as _open

    return _open(spec, speed=speed, loop=loop)[0]


def record(path: str | Path, source: str, seconds: float, speed: float = 1.0, overwrite: bool = False) -> Path:
    """Record ``seconds`` of ``source`` (a spec as for ``open_source``) to the XDF file ``path`` (speed 0: unpaced)."""
    from myoxai.cli import main

    argv = ["record", str(path), "--source", source, "--seconds", str(seconds), "--speed", str(speed or "max")]
    if main(argv + (["--overwrite"] if overwrite else [])) != 0:
        raise MyoxaiError(f"recording {source} to {path} failed (see the message above)")
    return Path(path)


def load_model(path: str | Path | None = None) -> Any:
    """A model file (safetensors + JSON); ``None`` = the bundled demo model."""
    from myoxai.live.setup import load_live_model

    return load_live_model(path)


def train_model(recording: Any, model: str = "allconvnet", epochs: int = 30, seed: int = 0,
                out: str | Path | None = None, overwrite: bool = False) -> Any:
    """A new ``model`` trained on a labelled Recording (or a path to one) with the evaluation's recipe.

    With ``out`` it is also saved, with its drift reference, as ``myoxai train`` saves it.
    """
    from myoxai.config import DEFAULT_CONFIG
    from myoxai.evaluation.data import recording_windows
    from myoxai.evaluation.protocols import fit_fresh
    from myoxai.models import TrainSettings, save_model

    rec = open_recording(recording) if isinstance(recording, (str, Path)) else recording
    data = recording_windows(rec, DEFAULT_CONFIG)
    if np.count_nonzero(np.bincount(data.y, minlength=len(data.class_names))) < 2:
        raise MyoxaiError("training needs at least two labelled gestures in the recording")
    trained, report = fit_fresh(model, data, TrainSettings(epochs=epochs, seed=seed, progress=False))
    trained.class_names = tuple(data.class_names)
    if out is not None:
        reference = None
        if trained.input_kind == "spectrogram":
            from myoxai.live.drift_reference import reference_for_model

            reference = reference_for_model(trained, data.spec, seed=seed).to_dict()
        metrics = {k: v for k, v in report.items() if k in ("val_accuracy", "best_epoch", "epochs_run")}
        save_model(trained, out, data.class_names, DEFAULT_CONFIG, training={"windows": len(data)},
                   metrics=metrics, drift_reference=reference, overwrite=overwrite)
    return trained


def classify(model: Any, recording: Any) -> tuple[np.ndarray, np.ndarray]:
    """(predicted gesture index, label) of every labelled window of a Recording, in the model's class order."""
    from myoxai.explain.data import labelled_windows
    from myoxai.io.validate import label_index_map
    from myoxai.models import predict

    rec = open_recording(recording) if isinstance(recording, (str, Path)) else recording
    x, y = labelled_windows([rec], model.input_kind)
    to_model = label_index_map(rec.class_names, model.class_names, np.unique(y), "the recording")
    return np.asarray(predict(model, x)), to_model[y]


def run_live(on_decision: Callable[[Any], bool | None], source: str | None = None, model: str | Path | None = None,
             seconds: float | None = None, speed: float = 1.0, shapley: bool = True, lsl: bool = False,
             threads: int = 1) -> int:
    """Run the engine without a window; ``on_decision(d)`` gets every decision; returns how many there were.

    ``d`` has ``label``, ``confidence``, ``probs``, ``timestamp``, ``true_label`` (replays), ``phi``
    (per class × electrode exact Shapley values; ``phi_label`` for the decided gesture) when ``shapley``.
    Stops after ``seconds`` of signal, when the source ends, or when ``on_decision`` returns ``False``.
    ``lsl=True`` also publishes every decision as the LSL stream ``myoxai-decisions``.
    """
    from myoxai.live.setup import EngineOptions, build_engine
    from myoxai.models import set_torch_threads

    set_torch_threads(threads)
    engine, _ = build_engine(EngineOptions(source=source, model=model, speed=speed,
                                           loop=source is None and seconds is not None, explain=shapley, lsl=lsl))
    limit = None if seconds is None else int(seconds * engine.config.fs / engine.config.step)
    sub = engine.subscribe(maxlen=100_000)
    engine.start()
    n = 0
    try:
        while limit is None or n < limit:
            running = engine.running
            for d in sub.drain():
                n += 1
                if on_decision(d) is False or (limit is not None and n >= limit):
                    return n
            if not running:
                break
            time.sleep(0.02)
    finally:
        engine.stop()
    return n


def evaluate(dataset: str, root: str | Path, protocol: str, out: str | Path | None = None, **options: Any) -> dict:
    """``myoxai eval`` on ``dataset`` under ``root``; its JSON report (also kept in ``out`` when given).

    ``options`` are the command's other options by their Python names: ``models="lda"``, ``seeds="0,1"``,
    ``adapt="none,quick"``, ``model_cache=DIR`` … (``True`` for a flag).
    """
    from myoxai.cli import main

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(out) if out is not None else Path(tmp) / "eval.json"
        argv = ["eval", "--dataset", dataset, "--root", str(root), "--protocol", protocol, "--json", str(path)]
        for key, value in options.items():
            flag = "--" + key.replace("_", "-")
            if value is True:
                argv.append(flag)
            elif value not in (False, None):
                argv += [flag, str(value)]
        if main(argv) != 0:
            raise MyoxaiError(f"myoxai {' '.join(argv)} failed (see the message above)")
        return json.loads(path.read_text())


@dataclass
class Explanation:
    """Exact per-electrode Shapley values of a recording's labelled windows.

    ``phi[i, e]`` is electrode ``e``'s share of window ``i``'s probability for its true gesture ``label[i]``;
    ``matrix[g, e]`` their mean per gesture (NaN for a gesture with no window).
    """

    phi: np.ndarray
    label: np.ndarray
    predicted: np.ndarray
    matrix: np.ndarray
    class_names: tuple[str, ...]

    @property
    def accuracy(self) -> float:
        """The model's accuracy on the explained windows."""
        return float(np.mean(self.predicted == self.label))


def explain_recording(model: Any, recording: Any, max_windows: int | None = None, seed: int = 0) -> Explanation:
    """Exact channel Shapley values of every labelled window (or ``max_windows`` drawn with ``seed``)."""
    from myoxai.explain.data import labelled_windows
    from myoxai.explain.matrix import shapley_matrix
    from myoxai.explain.shapley import ChannelShapley
    from myoxai.io.validate import label_index_map
    from myoxai.models import predict

    rec = open_recording(recording) if isinstance(recording, (str, Path)) else recording
    x, y = labelled_windows([rec], model.input_kind)
    y = label_index_map(rec.class_names, model.class_names, np.unique(y), "the recording")[y]
    if max_windows is not None and len(y) > max_windows:
        keep = np.sort(np.random.default_rng(seed).choice(len(y), max_windows, replace=False))
        x, y = x[keep], y[keep]
    res = ChannelShapley(model).explain(x)
    phi = res.for_class(y)
    matrix, _ = shapley_matrix(phi, y, model.n_classes)
    return Explanation(phi, y, np.asarray(predict(model, x)), matrix, tuple(model.class_names))
