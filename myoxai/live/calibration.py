"""A screen-guided calibration session: prompts on a schedule, EMG + markers to XDF, then a trained model.

The schedule runs on the *source's* clock, not the GUI's: the session listens to the engine's raw
chunks, starts the schedule at the first sample it sees and writes each prompt's marker at the
exact sample time the prompt begins. So the labels in the file line up with the samples even if
the GUI stutters, and a replayed source at ×N speed gives a consistent file too. The view only
asks ``current()`` what to show. The listener runs in the engine thread, so it only hands samples
to a ``QueuedRecorder``: the XDF is written (and fsynced) by its own writer thread, and ``done`` is
set once the file is complete.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.engine.worker import ThreadOwner
from myoxai.errors import MyoxaiError
from myoxai.live.writer import QueuedRecorder

log = logging.getLogger(__name__)

REST = "rest"
# Whether the wizard's full calibration starts from the pre-trained model (when a compatible one exists)
# by default; the user can always tick or untick it. On by the rule declared before the All-ConvNet's
# run (docs/recalibration.md, "A base model that moves less": default +1.8 on the selection days 3-8).
START_FROM_PRETRAINED = True


@dataclass(frozen=True)
class Prompt:
    """Hold ``label`` from ``start`` for ``duration`` seconds (session time)."""

    label: str
    start: float
    duration: float

    @property
    def end(self) -> float:
        """Session time at which the prompt ends."""
        return self.start + self.duration


def make_schedule(gestures: Sequence[str], repetitions: int, hold_s: float, rest_s: float,
                  lead_in_s: float = 2.0) -> list[Prompt]:
    """Rest lead-in, then ``repetitions`` rounds of (gesture hold, rest) for every gesture."""
    gestures = [g for g in gestures if g != REST]
    if not gestures:
        raise MyoxaiError("pick at least one gesture besides rest")
    if repetitions < 1 or hold_s <= 0 or rest_s <= 0:
        raise MyoxaiError("repetitions must be ≥ 1 and hold/rest times positive")
    out, t = [Prompt(REST, 0.0, lead_in_s)], lead_in_s
    for _ in range(repetitions):
        for g in gestures:
            out += [Prompt(g, t, hold_s), Prompt(REST, t + hold_s, rest_s)]
            t += hold_s + rest_s
    return out


@dataclass(frozen=True)
class SessionView:
    """What the wizard shows now."""

    prompt: Prompt | None
    remaining_s: float  # until the current prompt ends
    next_prompt: Prompt | None
    elapsed_s: float
    total_s: float
    done: bool


class CalibrationSession:
    """Records the engine's raw chunks and the prompts' markers into one XDF file.

    Parameters
    ----------
    engine:
        The running engine (its chunk listeners feed the recorder).
    path:
        Output ``.xdf`` (refuses to overwrite).
    gestures, repetitions, hold_s, rest_s, lead_in_s:
        The protocol (see ``make_schedule``). Class 0 is always ``rest``.
    schedule:
        Prompts to follow instead (e.g. the quick calibration's); the other protocol numbers are then
        only recorded in the file's metadata.
    """

    def __init__(self, engine: Any, path: str | Path, gestures: Sequence[str], repetitions: int = 3,
                 hold_s: float = 5.0, rest_s: float = 3.0, lead_in_s: float = 2.0,
                 schedule: list[Prompt] | None = None) -> None:
        from myoxai.io.xdf import EmgXdfRecorder

        self.engine = engine
        self.schedule = schedule or make_schedule(gestures, repetitions, hold_s, rest_s, lead_in_s)
        self.class_names = (REST,) + tuple(dict.fromkeys(g for g in gestures if g != REST))
        self.total_s = self.schedule[-1].end
        meta = {"protocol": {"gestures": list(self.class_names[1:]), "repetitions": repetitions, "hold_s": hold_s,
                             "rest_s": rest_s, "lead_in_s": lead_in_s,
                             "schedule": "custom" if schedule else "repetitions"}}
        self.done = threading.Event()  # set when the file is complete
        self.error: str | None = None  # why the file is incomplete, if it is
        self.recorder = QueuedRecorder(EmgXdfRecorder(path, engine.config.fs, self.class_names,
                                                      engine.config.n_channels, meta=meta),
                                       on_closed=self._closed)
        self.path = self.recorder.path
        self._lock = threading.Lock()
        self._t0: float | None = None
        self._last_ts: float | None = None
        self._next_marker = 0
        self._finished = False  # no more samples are taken (the file may still be being written)
        self.samples = 0
        self.gaps = 0

    def start(self) -> None:
        """Start taking the engine's chunks (the schedule's clock starts at the first one)."""
        self.engine.add_chunk_listener(self._on_chunks)

    def _on_chunks(self, chunks: Sequence[Any]) -> None:
        with self._lock:
            if self._finished:
                return
            for c in chunks:
                if len(c) == 0:
                    continue
                if self._t0 is None:
                    self._t0 = float(c.timestamps[0])
                end_t = self._t0 + self.total_s
                keep = c.timestamps < end_t
                while self._next_marker < len(self.schedule) and \
                        self._t0 + self.schedule[self._next_marker].start <= float(c.timestamps[-1]):
                    p = self.schedule[self._next_marker]
                    self.recorder.marker(self._t0 + p.start, p.label)
                    self._next_marker += 1
                if keep.any():
                    self.recorder.append(c.samples[keep], c.timestamps[keep])
                    self.samples += int(keep.sum())
                self.gaps += int(c.gap > 0)
                self._last_ts = float(c.timestamps[-1])
                if not keep.all():
                    self._finish()
                    return

    def _finish(self) -> None:
        self._finished = True
        self.recorder.finish()  # returns at once: the writer thread closes the file and then sets ``done``
        self.engine.remove_chunk_listener(self._on_chunks)

    def _closed(self, error: str | None) -> None:
        self.error = error
        log.info("calibration session saved to %s (%d samples, %d gaps)%s", self.path, self.samples, self.gaps,
                 f"; {error}" if error else "")
        self.done.set()

    def cancel(self) -> None:
        """Stop early; what was recorded stays in the (valid) file."""
        with self._lock:
            if not self._finished:
                self._finish()

    def current(self) -> SessionView:
        """The prompt at the newest sample received."""
        with self._lock:
            t = 0.0 if self._t0 is None or self._last_ts is None else self._last_ts - self._t0
        idx = next((i for i, p in enumerate(self.schedule) if p.start <= t < p.end), None)
        prompt = None if idx is None else self.schedule[idx]
        nxt = None if idx is None or idx + 1 >= len(self.schedule) else self.schedule[idx + 1]
        remaining = 0.0 if prompt is None else prompt.end - t
        return SessionView(prompt, remaining, nxt, min(t, self.total_s), self.total_s, self.done.is_set())


@dataclass
class TrainingState:
    """Progress of a ``TrainingJob`` as shown by the wizard (a copy per ``state()`` call)."""

    state: str = "idle"  # running, done, failed
    progress: float = 0.0
    message: str = ""
    error: str | None = None


class TrainingJob(ThreadOwner):
    """Train a live model on a calibration recording in a worker thread.

    The result is ``(model, source_data, metrics)``: ``source_data`` (``myoxai.adapt.SourceData``) is what
    recalibration later keeps the model anchored to. ``trainer(progress)`` replaces the default
    training (``train_from_recording``, from random weights or from the ``init_from`` model file; the
    quick calibration fine-tunes a pre-trained model instead); a ``"summary"`` in its metrics becomes
    the final message.
    """

    def __init__(self, path: str | Path, epochs: int = 30, seed: int = 0, threads: int = 1,
                 channels: Sequence[int] | None = None,
                 trainer: Callable[[Callable[[float, str], None]], tuple[Any, Any, dict[str, Any]]] | None = None,
                 init_from: str | Path | None = None) -> None:
        self.path = Path(path)
        self.epochs, self.seed, self.threads = epochs, seed, threads
        self.channels = channels
        self.init_from = init_from
        self.trainer = trainer
        self.result: tuple[Any, Any, dict[str, Any]] | None = None
        self._state = TrainingState()
        self._lock = threading.Lock()
        self._thread: threading.Thread | None = None

    def state(self) -> TrainingState:
        """A copy of the current state (safe to read from the GUI thread)."""
        with self._lock:
            return TrainingState(**self._state.__dict__)

    def _set(self, **kw: Any) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self._state, k, v)

    def start(self, on_done: Callable[[], None] | None = None) -> None:
        """Train in a worker thread; ``on_done`` runs in that thread when it ends, failed or not."""
        self._set(state="running", progress=0.0, message="reading the recording")
        self._thread = threading.Thread(target=self._work, args=(on_done,), daemon=True, name="myoxai-train")
        self._thread.start()


    def _work(self, on_done: Callable[[], None] | None) -> None:
        from myoxai.live.recalibration import lower_thread_priority

        lower_thread_priority()
        try:
            def progress(f: float, m: str) -> None:
                self._set(progress=f, message=m)

            if self.trainer is not None:
                self.result = self.trainer(progress)
            else:
                self.result = train_from_recording(self.path, self.epochs, self.seed, self.threads, self.channels,
                                                   progress=progress, init_from=self.init_from)
            self._set(state="done", progress=1.0, message=self.result[2].get(
                "summary", f"trained on {self.result[2]['n_train_windows']} windows"))
        except Exception as exc:  # shown in the wizard and logged
            log.exception("training on %s failed", self.path)
            self._set(state="failed", error=str(exc), message=f"training failed: {exc}")
        if on_done is not None:
            on_done()


def full_calibration_model(n_classes: int, seed: int = 0, channels: Sequence[int] | None = None) -> Any:
    """The fresh All-ConvNet the full calibration trains (the live model's half widths by default)."""
    from myoxai.live.bundled import CHANNELS
    from myoxai.models import build_model

    return build_model("allconvnet", n_classes, seed=seed, channels=tuple(channels or CHANNELS))


def init_problem(path: str | Path, channels: Sequence[int] | None = None) -> str | None:
    """Why the model file ``path`` cannot start the full calibration's model, or ``None`` when it can."""
    from myoxai.models import load_model
    from myoxai.models.warm_start import init_mismatch

    try:
        pretrained = load_model(path, expect_config=None)
    except (MyoxaiError, OSError) as exc:
        return str(exc)
    return init_mismatch(full_calibration_model(2, channels=channels), pretrained)


def train_from_recording(path: str | Path, epochs: int = 30, seed: int = 0, threads: int = 1,
                         channels: Sequence[int] | None = None,
                         progress: Callable[[float, str], None] | None = None,
                         init_from: str | Path | None = None) -> tuple[Any, Any, dict[str, Any]]:
    """(model, source_data, metrics): an All-ConvNet trained on every labelled window of a recording.

    ``init_from`` (a model file of the same architecture, e.g. the bundled pre-trained one) gives the
    starting weights (``myoxai.models.warm_start``); the description records its path and SHA-256.
    Early stopping validates on whole held-out holds (a hold = one contiguous run of one label), so
    no validation window is a near-copy of a training window; ``source_data`` keeps those holds as
    its validation groups, so a recalibration is judged on them too.
    """
    from myoxai.adapt import SourceData
    from myoxai.io import read_recording
    from myoxai.live.bundled import labelled_holds
    from myoxai.models import TrainSettings, train_model

    rec = read_recording(path)
    if rec.labels is None or not len(rec.class_names):
        raise MyoxaiError(f"{path} has no gesture markers; record it with the calibration wizard")
    x, y, holds = labelled_holds(rec)
    present = np.unique(y)
    if len(present) < 2:
        raise MyoxaiError(f"{path} holds windows of {len(present)} gesture(s); a model needs at least two")
    model = full_calibration_model(len(rec.class_names), seed, channels)
    init = None
    if init_from is not None:
        from myoxai.models.warm_start import init_from_file

        init = init_from_file(model, init_from, rec.class_names)
    if progress:
        start = "from the pre-trained model" if init else "from random weights"
        progress(0.1, f"training on {len(y)} windows ({len(present)} gestures, {epochs} epochs max, {start})")
    report = train_model(model, x, y, TrainSettings(epochs=epochs, seed=seed, threads=threads), groups=holds)
    model.class_names = tuple(rec.class_names)
    from myoxai.live.drift_reference import reference_for_model

    training = {"data": str(path), "seed": seed, "n_train_windows": int(len(y)),
                "validation": "whole held-out holds", "init_from": init}
    model.description = {"training": training, "drift_reference": reference_for_model(model, x, seed=seed).to_dict()}
    metrics = {"n_train_windows": int(len(y)), "val_accuracy": report.get("val_accuracy"),
               "epochs_run": report.get("epochs_run"),
               "summary": f"trained on {len(y)} windows from {'the pre-trained model' if init else 'random weights'}"}
    val_groups = report.get("val_groups") or None
    source = SourceData(x, y, holds, {"data": str(path)},
                        validation_groups=None if val_groups is None else np.asarray(val_groups))
    return model, source, metrics
