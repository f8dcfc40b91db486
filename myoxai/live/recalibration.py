"""Recalibrate: a checked Quick adapt at once, SCADANN in the background, then one Accept or Revert.

One state machine, each state with one meaning (``RecalibrationState.state``)::

    idle ──quick──▶ adapting ──▶ idle (Quick adapt applied or not, and why)
    idle ──start──▶ preparing ──▶ running ──▶ offered ──accept──▶ accepted
                        │            │           └─────revert──▶ reverted
                        └────────────┴──▶ declined | cancelled | failed

- ``preparing`` (from the click on, with a message within a second): the checked Quick adapt
  (``myoxai.live.quick_adapt``; swapped in only if it passes the no-harm check) and the start of the
  training process, which says how long it has been starting until its first message.
- ``running``: SCADANN in a child process (``myoxai.live.recalibration_child``) on the buffer's
  windows to adapt on; the held-back windows give the new model's symptom reference.
- ``offered``: adaptation's safeguards accepted the result; it is already in service, and Accept
  and Revert are the only choices. ``declined``: they rejected it; the Quick-adapted (or previous)
  model stays.
- ``accepted`` / ``reverted``: the user chose; Revert put back the model that served before this
  Recalibrate (before its Quick adapt too). Nothing is offered until the next run.

Every swap is recorded in a ``ModelHistory``, so the app's one Undo takes back the last action
(a whole Recalibrate is one action). The quick step adapts the job's calibration model (the one
serving when the job was made), never an adapted one.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import os
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from myoxai.engine.worker import ThreadOwner
from myoxai.errors import MyoxaiError
from myoxai.live.history import ModelHistory

log = logging.getLogger(__name__)

RecalibrateFn = Callable[..., tuple[Any, Any]]
BUSY = ("adapting", "preparing", "running")  # states in which work is under way


@dataclass
class RecalibrationState:
    """What the recalibrate panel shows (a copy)."""

    state: str = "idle"  # idle, adapting, preparing, running, offered, accepted, reverted, declined, cancelled, failed
    progress: float = 0.0
    message: str = ""
    n_windows: int = 0
    report: Any = None  # adaptation's RecalibrationReport once it finished (or was cancelled)
    quick: Any = None  # the QuickAdaptResult of the instant step (rotation, no-harm check)
    error: str | None = None

    @property
    def busy(self) -> bool:
        """A run is under way (Start disabled, Cancel enabled)."""
        return self.state in BUSY

    @property
    def can_choose(self) -> bool:
        """A result is offered: Accept and Revert enabled."""
        return self.state == "offered"


def lower_thread_priority(niceness: int = 10) -> None:
    """Nice the calling thread (Linux schedules threads individually) so decisions and frames go first."""
    try:
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), niceness)
    except (AttributeError, OSError) as exc:
        log.debug("could not lower the worker's priority: %s", exc)


class Recalibration(ThreadOwner):
    """Quick adapt and Recalibrate over one engine's buffer.

    Parameters
    ----------
    engine:
        The running ``Engine`` (its buffer and active model are used; its stream never stops).
    source_data:
        The calibration model's labelled training data (``myoxai.adapt.SourceData``).
    history:
        Where swaps are recorded for Undo (a new one when None).
    method:
        Adaptation method (``"scadann"`` by default).
    min_windows:
        Refuse to start with fewer buffered windows (10 s at 20 windows/s by default).
    recalibrate_fn:
        Stand-in for ``myoxai.adapt.recalibrate`` (tests); trains in a thread of this process.
    settings:
        ``myoxai.adapt.RecalibrationSettings`` (adaptation's defaults when None).
    threads, niceness:
        Torch threads and lowered priority of the training process, so decisions and frames go first.
    isolate:
        Train in a child process (default). ``False`` trains in a thread of this process.
    """

    def __init__(self, engine: Any, source_data: Any, history: ModelHistory | None = None, method: str = "scadann",
                 min_windows: int = 200, recalibrate_fn: RecalibrateFn | None = None, settings: Any = None,
                 threads: int = 1, niceness: int = 10, isolate: bool = True) -> None:
        self.engine = engine
        self.source_data = source_data
        self.history = history or ModelHistory(engine)
        self.method = method
        self.min_windows = min_windows
        self.settings = settings
        self.threads, self.niceness = threads, niceness
        self.isolate = isolate and recalibrate_fn is None
        self._fn = recalibrate_fn
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._state = RecalibrationState()
        self._thread: threading.Thread | None = None
        self._base = engine.active.model  # the calibration model every quick step and SCADANN adapt
        self._before: Any = None  # the model serving when this Recalibrate was clicked (Revert's target)
        self.child_pid: int | None = None  # the training process while it runs (benchmarks read its memory)

    def state(self) -> RecalibrationState:
        """A copy of the current state (safe to read from the GUI thread)."""
        with self._lock:
            return dataclasses.replace(self._state)

    def _set(self, **kw: Any) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self._state, k, v)

    def _windows(self, need: int) -> Any:
        windows = self.engine.buffer.snapshot()
        if len(windows) < need:
            raise MyoxaiError(f"only {len(windows)} windows buffered; this needs at least {need} "
                              "(keep streaming a little longer)")
        return windows

    def _checked_quick(self, inputs: Any, label: str) -> Any:
        """The checked Quick adapt of the calibration model against the serving one; swapped in when it passes."""
        from myoxai.live.quick_adapt import checked_quick_adapt

        serving = self.engine.active.model
        result = checked_quick_adapt(self._base, inputs, self.source_data, serving=serving)
        if result.accepted:
            self.history.swap(result.model, label)
        return result

    def quick_adapt(self) -> Any:
        """Quick adapt alone, now (well under a second); its ``QuickAdaptResult`` (applied only if no harm)."""
        if self._state.busy or self._state.can_choose:
            raise MyoxaiError("a recalibration is under way or waiting for Accept/Revert; finish it first")
        result = self._checked_quick(self._windows(min(self.min_windows, 100)).inputs, "quick adapt")
        self._set(quick=result, message=result.message())
        return result

    def start_quick(self) -> None:
        """Quick adapt in a thread (the button: the window never waits for it); state ``adapting`` meanwhile."""
        if self._state.busy or self._state.can_choose:
            raise MyoxaiError("a recalibration is under way or waiting for Accept/Revert; finish it first")
        windows = self._windows(min(self.min_windows, 100))
        before = self._state.state
        self._set(state="adapting", message=f"Quick adapt on {len(windows)} buffered windows…")

        def work() -> None:
            try:
                result = self._checked_quick(windows.inputs, "quick adapt")
            except Exception as exc:  # shown in the panel; the engine keeps its model
                if not isinstance(exc, MyoxaiError):
                    log.exception("quick adapt failed")
                self._set(state=before, message=f"quick adapt failed: {exc}")
                return
            self._set(state=before, quick=result, message=result.message())

        self._thread = threading.Thread(target=work, daemon=True, name="myoxai-quick-adapt")
        self._thread.start()

    def start(self) -> None:
        """Start a Recalibrate (``MyoxaiError`` if it cannot); the work runs in a thread and a child process."""
        if self._state.busy or self._state.can_choose:
            raise MyoxaiError("a recalibration is under way or waiting for Accept/Revert; finish it first")
        if self.source_data is None:
            raise MyoxaiError("recalibration needs the model's labelled training data; load the recording the "
                              "model was trained on (or train one with the calibration wizard)")
        windows = self._windows(self.min_windows)
        self._cancel.clear()
        self._before = self.engine.active.model
        with self._lock:
            self._state = RecalibrationState(state="preparing", progress=0.01, n_windows=len(windows),
                                             message=f"preparing: Quick adapt on {len(windows)} buffered windows")
        self._thread = threading.Thread(target=self._work, args=(windows.inputs,), daemon=True,
                                        name="myoxai-recalibration")
        self._thread.start()

    def _progress(self, fraction: float, message: str = "") -> None:
        from myoxai.live.recalibration_child import TRAINING_FROM

        training = fraction >= TRAINING_FROM and self._state.state == "preparing"
        state = {"state": "running"} if training else {}
        self._set(progress=max(0.01, float(fraction)), message=str(message), **state)

    def _work(self, inputs: Any) -> None:
        from myoxai.adapt.no_harm import split_held_back
        from myoxai.engine.drift import REFERENCE_KEY
        from myoxai.live.recalibration_child import TrainingJob

        try:
            quick = self._checked_quick(inputs, "Recalibrate")
            self._set(quick=quick, progress=0.02, message=f"{quick.message()}; starting the training process")
            fit, held = split_held_back(len(inputs))
            desc = getattr(self._base, "description", None) or {}
            job = TrainingJob(self._base, self.source_data, inputs[fit], inputs[held], self.method, self.settings,
                              copy.deepcopy(quick.model) if quick.accepted else None, desc.get(REFERENCE_KEY))
            new_model, report, reference = self._train(job)
        except Exception as exc:  # shown in the panel and logged; the engine keeps its model
            if not isinstance(exc, MyoxaiError):
                log.exception("recalibration failed")
            self._set(state="failed", error=str(exc), message=f"failed: {exc}")
            return
        if self._cancel.is_set() or report.status == "cancelled":
            self._set(state="cancelled", report=report, message="cancelled: the current model stays")
            return
        if new_model is None or not report.accepted:
            self._set(state="declined", report=report, progress=1.0,
                      message=f"{self.method} declined its result ({report.reason or 'no gain'}); the current "
                              "model stays")
            return
        self._offer(new_model, report, reference, quick.accepted)

    def _train(self, job: Any) -> tuple[Any, Any, Any]:
        from myoxai.live.recalibration_child import run_in_child, train

        if self.isolate:
            return run_in_child(job, self.threads, self.niceness, self._cancel, self._progress,
                                on_pid=lambda pid: setattr(self, "child_pid", pid))
        if self.niceness:
            lower_thread_priority(self.niceness)
        if self._fn is None:
            return train(job, self._progress, self._cancel)
        extra = {} if job.settings is None else {"settings": job.settings}
        new_model, report = self._fn(job.model, job.source_data, job.fit, method=job.method, cancel=self._cancel,
                                     progress=lambda f, m="": self._progress(0.05 + 0.9 * float(f), m),
                                     start=job.start, **extra)
        return new_model, report, None

    def _offer(self, new_model: Any, report: Any, reference: Any, quick_swapped: bool) -> None:
        """Put SCADANN's model in service, offered for Accept / Revert."""
        from myoxai.engine.drift import REFERENCE_KEY

        desc = dict(getattr(self._base, "description", None) or {})
        desc.pop(REFERENCE_KEY, None)
        if reference is not None:
            desc[REFERENCE_KEY] = reference
        new_model.description = desc
        new_model.class_names = getattr(self._base, "class_names", getattr(new_model, "class_names", ()))
        try:  # the explainer is built here, in this thread: the engine only swaps a reference
            active = self.engine.swap_model(new_model, origin=f"{self.method} recalibration")
        except MyoxaiError as exc:  # e.g. the user loaded a model with other gestures meanwhile
            self._set(state="failed", error=str(exc), report=report, message=f"not swapped in: {exc}")
            return
        if quick_swapped:
            self.history.amend(active.version)  # one Recalibrate = one action for Undo
        else:
            self.history.record("Recalibrate", self._before, active.version)
        self._set(state="offered", progress=1.0, report=report,
                  message="new model in service: Accept keeps it, Revert returns to the model before Recalibrate")

    def cancel(self) -> None:
        """Ask the run to stop at its next check (the engine keeps its current model)."""
        self._cancel.set()

    def accept(self) -> None:
        """Keep the offered model; nothing is offered any more."""
        if not self._state.can_choose:
            raise MyoxaiError("nothing to accept: no recalibrated model is offered")
        self.engine.commit()
        self._set(state="accepted", message="recalibrated model accepted")

    def revert(self) -> None:
        """Put back the model that served before this Recalibrate (before its Quick adapt too)."""
        if not self._state.can_choose:
            raise MyoxaiError("nothing to revert: no recalibrated model is offered")
        last = self.history.last
        if last is not None and last.label == "Recalibrate" and last.before is self._before:
            self.history.undo()
        else:
            self.engine.swap_model(self._before, origin="reverted recalibration", new_classes=True)
        self._set(state="reverted", message="reverted to the model before Recalibrate")
