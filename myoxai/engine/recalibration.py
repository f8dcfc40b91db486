"""Recalibration in the background: SCADANN on the buffered unlabeled windows, while decisions keep flowing.

The worker takes a time-ordered snapshot of the engine's window ring, runs
``myoxai.adapt.recalibrate`` on a private copy of the active model with progress and cancel, and,
when adaptation's own safeguards accept the result, swaps the new model in between two
decisions. The previous model stays in the engine for a one-click ``revert``; ``accept`` commits
the new one. A rejected run changes nothing (adaptation returns the old model).
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from myoxai.engine.worker import ThreadOwner
from myoxai.errors import MyoxaiError

log = logging.getLogger(__name__)

RecalibrateFn = Callable[..., tuple[Any, Any]]


@dataclass
class RecalibrationState:
    """What the recalibrate panel shows (a copy)."""

    state: str = "idle"  # idle, running, done, cancelled, failed
    progress: float = 0.0
    message: str = ""
    n_windows: int = 0
    report: dict[str, Any] = field(default_factory=dict)  # RecalibrationReport.to_dict()
    verdict: str = ""  # adaptation's own status: accepted / rejected
    swapped: bool = False  # the new model is the engine's active model
    committed: bool = False
    error: str | None = None


def report_dict(report: Any) -> dict[str, Any]:
    """Adaptation's report as a plain dict (it may be a dataclass, an object with to_dict, or a dict)."""
    if isinstance(report, dict):
        return dict(report)
    if hasattr(report, "to_dict"):
        return dict(report.to_dict())
    return dataclasses.asdict(report)


def lower_thread_priority(niceness: int = 10) -> None:
    """Nice the calling thread (Linux schedules threads individually) so decisions and frames go first.

    Elsewhere, or when not permitted, the thread keeps its priority.
    """
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (AttributeError, OSError) as exc:
        log.debug("could not lower the worker's priority: %s", exc)


class Recalibration(ThreadOwner):
    """One recalibration run over an engine's buffer.

    Parameters
    ----------
    engine:
        The running ``Engine`` (its buffer and active model are used; its stream never stops).
    source_data:
        The active model's labelled training data, passed to ``recalibrate`` unchanged.
    method:
        Adaptation method (``"scadann"`` by default).
    min_windows:
        Refuse to start with fewer buffered windows (10 s at 20 windows/s by default, adaptation's minimum).
    recalibrate_fn:
        The adaptation function; ``myoxai.adapt.recalibrate`` unless given.
    settings:
        ``myoxai.adapt.RecalibrationSettings`` (adaptation's defaults when None).
    threads:
        Torch threads of the worker (bounded so the engine and the GUI keep their share).
    niceness:
        How much to lower the worker thread's scheduling priority (0 = keep it), so decisions and
        frames go first on a busy machine.
    """

    def __init__(self, engine: Any, source_data: Any, method: str = "scadann", min_windows: int = 200,
                 recalibrate_fn: RecalibrateFn | None = None, settings: Any = None, threads: int = 1,
                 niceness: int = 10) -> None:
        self.engine = engine
        self.source_data = source_data
        self.method = method
        self.min_windows = min_windows
        self.threads = threads
        self.niceness = niceness
        self._fn = recalibrate_fn
        self.settings = settings
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._state = RecalibrationState()
        self._thread: threading.Thread | None = None
        self._new_model: Any = None
        self._new_version: int | None = None

    def state(self) -> RecalibrationState:
        with self._lock:
            return dataclasses.replace(self._state, report=dict(self._state.report))

    def _set(self, **kw: Any) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self._state, k, v)

    def start(self) -> None:
        """Snapshot the buffer and start the worker (raises MyoxaiError when it cannot start)."""
        if self._thread is not None and self._thread.is_alive():
            raise MyoxaiError("a recalibration is already running; cancel it first")
        if self.source_data is None:
            raise MyoxaiError("recalibration needs the model's labelled training data; load the recording the "
                              "model was trained on (or train one with the calibration wizard)")
        windows = self.engine.buffer.snapshot()
        if len(windows) < self.min_windows:
            raise MyoxaiError(f"only {len(windows)} windows buffered; recalibration needs at least "
                              f"{self.min_windows} (keep streaming a little longer)")
        fn = self._fn
        if fn is None:
            try:
                from myoxai.adapt import recalibrate as fn
            except ImportError as exc:
                raise MyoxaiError(f"recalibration is unavailable in this build ({exc})") from exc
        model = copy.deepcopy(self.engine.active.model)
        self._cancel.clear()
        self._state = RecalibrationState(state="running", message="starting", n_windows=len(windows))
        self._thread = threading.Thread(target=self._work, args=(fn, model, windows.inputs), daemon=True,
                                        name="myoxai-recalibration")
        self._thread.start()

    def _progress(self, fraction: float, message: str = "") -> None:
        self._set(progress=float(fraction), message=str(message))

    def _work(self, fn: RecalibrateFn, model: Any, inputs: Any) -> None:
        from myoxai.models import torch_threads

        if self.niceness:
            lower_thread_priority(self.niceness)
        try:
            with torch_threads(self.threads):
                extra = {} if self.settings is None else {"settings": self.settings}
                new_model, report = fn(model, self.source_data, inputs, method=self.method,
                                       progress=self._progress, cancel=self._cancel, **extra)
        except Exception as exc:  # shown in the panel and logged; the engine keeps running on the old model
            cancelled = self._cancel.is_set() or type(exc).__name__ == "Cancelled"
            if not cancelled:
                log.exception("recalibration failed")
            self._set(state="cancelled" if cancelled else "failed", error=None if cancelled else str(exc),
                      message="cancelled" if cancelled else f"failed: {exc}")
            return
        rep = report_dict(report)
        verdict = str(rep.get("status", ""))
        if self._cancel.is_set() or verdict == "cancelled":
            self._set(state="cancelled", message="cancelled", report=rep, verdict=verdict)
            return
        swapped = verdict == "accepted"  # a rejected run returns the old model: nothing to swap
        if swapped:
            _attach_drift_reference(new_model, model, inputs)
            try:
                self._new_version = self.engine.swap_model(new_model, origin=f"{self.method} recalibration").version
            except MyoxaiError as exc:  # e.g. the user loaded a model with other gestures meanwhile
                self._set(state="failed", error=str(exc), message=f"not swapped in: {exc}", report=rep,
                          verdict=verdict)
                return
            self._new_model = new_model
        self._set(state="done", progress=1.0, report=rep, verdict=verdict, swapped=swapped,
                  message="new model active: Accept keeps it, Revert restores the old one" if swapped
                  else f"adaptation {verdict or 'finished'}: {rep.get('reason') or 'old model kept'}")

    def cancel(self) -> None:
        """Ask the worker to stop at its next check (the engine keeps its current model)."""
        self._cancel.set()



    def accept(self) -> None:
        """Keep the recalibrated model (swapping it back in if the user had reverted)."""
        if self._new_model is None:
            raise MyoxaiError("no recalibrated model to accept (adaptation rejected or has not finished)")
        if self.engine.active.version != self._new_version:
            self._new_version = self.engine.swap_model(self._new_model, origin=f"{self.method} (accepted)").version
        self.engine.commit()
        self._set(swapped=True, committed=True, message="recalibrated model accepted")

    def revert(self) -> None:
        """Go back to the model that was active before the recalibrated one."""
        if self._new_version is not None and self.engine.active.version == self._new_version:
            self.engine.revert()
        self._set(swapped=False, committed=False, message="reverted to the previous model")


def _attach_drift_reference(new_model: Any, old_model: Any, inputs: Any) -> None:
    """The recalibrated model's drift reference: today's (adaptation) windows are its calibration data."""
    from myoxai.engine.drift import REFERENCE_KEY, reference_for_model

    desc = dict(getattr(old_model, "description", None) or {})
    if getattr(new_model, "input_kind", "spectrogram") == "spectrogram":
        try:
            desc[REFERENCE_KEY] = reference_for_model(new_model, inputs).to_dict()
        except MyoxaiError as exc:  # e.g. the buffer held only rest: the monitor then has no reference
            log.warning("no drift reference for the recalibrated model: %s", exc)
            desc.pop(REFERENCE_KEY, None)
    new_model.description = desc
