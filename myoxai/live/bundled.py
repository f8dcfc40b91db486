"""The demo that runs out of the box: a small model trained on the first part of the bundled recording.

The bundled recording (``recordings/myo_readings_12548-1.xdf``) is eight 30 s gesture files joined
end to end, each alternating rest and its gesture every 5 s. The shipped model is trained with a
fixed seed on the first ``TRAIN_S`` seconds of every file only; ``held_out_recording`` joins the
remaining seconds of every file, which is what ``myoxai live`` replays by default — the model has
never seen a sample of it, so the live accuracy shown is honest.

Made by ``myoxai live --train-bundled`` (seed 0, one torch thread).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.config import DEFAULT_CONFIG, SignalConfig
from myoxai.errors import MyoxaiError
from myoxai.io.open import BUNDLED_RECORDING
from myoxai.io.recording import Recording, concatenate

log = logging.getLogger(__name__)

BUNDLED_MODEL = BUNDLED_RECORDING.parent / "bundled_allconvnet.safetensors"
FILE_S = 30.0  # seconds of each gesture file in the bundled excerpt
TRAIN_S = 18.0  # first seconds of every file used for training; the rest is held out
SEED = 0
# Half the default All-ConvNet widths: exact Shapley runs 2^8 = 256 forward passes per decision, so the
# live model's size sets the decision latency (≈ 4× fewer multiply-adds than the default widths).
CHANNELS = (8, 16, 16, 32)


def _parts(rec: Recording, train: bool) -> list[tuple[int, int]]:
    per_file = int(FILE_S * rec.fs)
    cut = int(TRAIN_S * rec.fs)
    return [(s, s + cut) if train else (s + cut, min(len(rec), s + per_file)) for s in range(0, len(rec), per_file)]


def split_bundled(rec: Recording) -> tuple[Recording, Recording]:
    """(training part, held-out part) of the bundled recording, each as one joined Recording."""
    train = concatenate([rec.slice(a, b) for a, b in _parts(rec, True)])
    test = concatenate([rec.slice(a, b) for a, b in _parts(rec, False)])
    for part in (train, test):
        part.meta.pop("parts", None)
    return train, test


def labelled_windows(rec: Recording, config: SignalConfig = DEFAULT_CONFIG, input_kind: str = "spectrogram",
                     pieces: list[tuple[int, int]] | None = None) -> tuple[np.ndarray, np.ndarray]:
    """Model inputs and labels of the windows lying wholly inside one label run of each piece.

    Each piece is processed as its own stream (no window straddles a seam between joined files).
    """
    x, y, _ = labelled_holds(rec, config, input_kind, pieces)
    return x, y


def labelled_holds(rec: Recording, config: SignalConfig = DEFAULT_CONFIG, input_kind: str = "spectrogram",
                   pieces: list[tuple[int, int]] | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """``labelled_windows`` plus each window's hold: the id of the contiguous label run it lies in.

    Windows of one hold are near-copies of each other, so validation holds out whole holds
    (``train_model(groups=...)``). Ids are unique across pieces.
    """
    from myoxai.dsp import process_signal

    if rec.labels is None:
        raise MyoxaiError("the recording has no labels; training needs a labelled recording")
    highpass = rec.meta.get("highpass_hz") != config.highpass_hz
    xs, ys, hs = [], [], []
    offset = 0
    for a, b in pieces or [(0, len(rec))]:
        batch = process_signal(rec.samples[a:b], config, highpass=highpass)
        lab = rec.labels[a:b]
        run = np.concatenate([[0], np.cumsum(np.diff(lab) != 0)])  # label run of every sample
        first, last = lab[batch.start], lab[batch.end - 1]
        keep = (first == last) & (first >= 0)
        if len(batch):  # a label change inside the window also disqualifies it
            keep &= run[batch.start] == run[batch.end - 1]
        x = batch.spectrograms if input_kind == "spectrogram" else batch.windows
        xs.append(x[keep].astype(np.float32))
        ys.append(first[keep].astype(np.int64))
        hs.append(offset + run[batch.start][keep].astype(np.int64))
        offset += int(run[-1]) + 1
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(hs)


def _training_windows(rec: Recording, config: SignalConfig = DEFAULT_CONFIG) -> tuple[np.ndarray, np.ndarray]:
    """Spectrograms and labels of the training part, pieces in file order (the trainer's order)."""
    return labelled_windows(rec, config, pieces=_parts(rec, True))


def bundled_source_data(config: SignalConfig = DEFAULT_CONFIG, model_path: Path = BUNDLED_MODEL) -> Any:
    """The bundled model's training windows (``myoxai.adapt.SourceData``), validation = its trainer's held-out windows.

    The shipped model's trainer held out a class-stratified 25 % of these windows (seed 0) for early
    stopping and never trained on them; they are the safeguard's source validation, so a
    recalibration is judged on windows neither the model nor the recalibration trained on. (Whole
    held runs would be better still, but this 8-file excerpt has only two runs of each gesture in its
    training part, and holding one out stopped training after one epoch: 0.385 held-out accuracy.)
    """
    from myoxai.adapt import SourceData
    from myoxai.io import read_recording
    from myoxai.io.model_files import read_model_file
    from myoxai.models.recipes import recipe
    from myoxai.models.training import stratified_split

    rec = read_recording(BUNDLED_RECORDING)
    x, y = _training_windows(rec, config)
    val = None
    if Path(model_path).exists():
        val = read_model_file(model_path, None)[1].get("training", {}).get("val_index")
    if val is None:
        # what train_model held out for the shipped model
        val = stratified_split(y, recipe("allconvnet")[1].val_fraction, SEED)[1]
    return SourceData(x, y, np.arange(len(y)), {"data": BUNDLED_RECORDING.name,
                                                "part": f"first {TRAIN_S:g} s of every gesture file"},
                      validation_groups=np.asarray(val))


def train_bundled_model(path: Path = BUNDLED_MODEL, progress: Callable[[float, str], None] | None = None,
                        epochs: int | None = None) -> dict[str, Any]:
    """Train the demo All-ConvNet with its recipe on the training part (seed 0, one thread); returns metrics.

    The recipe (``myoxai.models.recipes``: log input, day-to-day augmentation, early stopping) is the
    evaluation's; ``epochs`` caps it (tests use a few).

    The held-out validation windows' indices and the calibration energy profile of the training
    windows (for rotation compensation) are written into the model file.
    """
    from myoxai.adapt.quick import calibration_profile
    from myoxai.io import read_recording
    from myoxai.models import build_model, predict, save_model, train_model
    from myoxai.models.recipes import recipe
    from myoxai.models.training import stratified_split

    rec = read_recording(BUNDLED_RECORDING)
    x, y = _training_windows(rec)
    xt, yt = labelled_windows(rec, pieces=_parts(rec, False))
    if progress:
        progress(0.05, f"training allconvnet on {len(y)} windows")
    args, settings = recipe("allconvnet")
    args["channels"] = list(CHANNELS)
    settings.seed, settings.threads, settings.progress = SEED, 1, progress is None
    if epochs is not None:
        settings.epochs = epochs
    model = build_model("allconvnet", len(rec.class_names), seed=SEED, **args)
    # Early stopping on a class-stratified share of windows, not on whole held-out runs: the training
    # part has only two runs of each gesture (5 s and 3 s), the first of which the participant held
    # differently, so holding one out leaves 3-5 s per gesture and stops training after one epoch
    # (held-out runs 0.31, then 0.385 on the replayed part; notes of issue 10).
    report = train_model(model, x, y, settings)
    train_idx, val_idx = stratified_split(y, settings.val_fraction, SEED)  # the split train_model used
    held_out = float(np.mean(predict(model, xt) == yt))
    metrics = {"held_out_accuracy": held_out, "n_held_out_windows": int(len(yt)),
               "val_accuracy": report.get("val_accuracy"), "epochs_run": report.get("epochs_run")}
    training = {"data": BUNDLED_RECORDING.name, "part": f"first {TRAIN_S:g} s of every {FILE_S:g} s gesture file",
                "n_train_windows": int(len(y)), "seed": SEED, "command": "myoxai live --train-bundled",
                "recipe": {"args": args, "settings": settings.to_dict()},
                "val_index": val_idx.tolist(), "calibration_profile": calibration_profile(x[train_idx]).tolist()}
    from myoxai.live.drift_reference import reference_for_model

    model.class_names = tuple(rec.class_names)
    reference = reference_for_model(model, x[train_idx], seed=SEED).to_dict()
    save_model(model, path, rec.class_names, DEFAULT_CONFIG, training, metrics, drift_reference=reference)
    if progress:
        progress(1.0, f"held-out accuracy {held_out:.3f}")
    log.info("bundled model saved to %s (held-out accuracy %.3f)", path, held_out)
    return metrics


def held_out_recording() -> Recording:
    """The part of the bundled recording the shipped model never saw (last seconds of every file)."""
    from myoxai.io import read_recording

    return split_bundled(read_recording(BUNDLED_RECORDING))[1]
