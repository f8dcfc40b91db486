"""Recalibration in the background: SCADANN on the buffered unlabeled windows, while decisions keep flowing.

The worker takes a time-ordered snapshot of the engine's window ring, runs
``myoxai.adapt.recalibrate`` on a private copy of the active model with progress and cancel, and,
when adaptation's own safeguards accept the result, swaps the new model in between two
decisions. The previous model stays in the engine for a one-click ``revert``; ``accept`` commits
the new one. A rejected run changes nothing (adaptation returns the old model).

By default the training runs in a child process (``isolate=True``): training is Python-heavy, and in
the app's own process it would hold the GIL against the engine and GUI threads (late decisions,
dropped frames) and grow the app's memory. The child gets the model, the labelled source data and
the buffered windows, runs with its own torch thread count and a lowered priority, and sends back
progress messages and the typed ``RecalibrationReport`` (with the new model when accepted); a thread
in the app relays them. Cancel reaches the child through a shared event.
"""

from __future__ import annotations

import copy
import dataclasses
import logging
import multiprocessing
import os
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from myoxai.engine.worker import ThreadOwner
from myoxai.errors import MyoxaiError

if TYPE_CHECKING:
    from myoxai.adapt import RecalibrationReport

log = logging.getLogger(__name__)

RecalibrateFn = Callable[..., tuple[Any, Any]]


@dataclass
class RecalibrationState:
    """What the recalibrate panel shows (a copy)."""

    state: str = "idle"  # idle, running, done, cancelled, failed
    progress: float = 0.0
    message: str = ""
    n_windows: int = 0
    report: RecalibrationReport | None = None  # adaptation's report once it finished (or was cancelled)
    verdict: str = ""  # adaptation's own status: accepted / rejected
    swapped: bool = False  # the new model is the engine's active model
    committed: bool = False
    error: str | None = None


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
        Torch threads of the child process (bounded so the engine and the GUI keep their share).
    niceness:
        How much to lower the worker's scheduling priority (0 = keep it), so decisions and frames go
        first on a busy machine.
    isolate:
        Train in a child process (default; see the module notes). ``False`` trains in a thread of
        this process (always so with a ``recalibrate_fn``, which need not be importable by a child).
    """

    def __init__(self, engine: Any, source_data: Any, method: str = "scadann", min_windows: int = 200,
                 recalibrate_fn: RecalibrateFn | None = None, settings: Any = None, threads: int = 1,
                 niceness: int = 10, isolate: bool = True) -> None:
        self.engine = engine
        self.source_data = source_data
        self.method = method
        self.min_windows = min_windows
        self.threads = threads
        self.niceness = niceness
        self.isolate = isolate and recalibrate_fn is None
        self._fn = recalibrate_fn
        self.settings = settings
        self._cancel = threading.Event()
        self._lock = threading.Lock()
        self._state = RecalibrationState()
        self._thread: threading.Thread | None = None
        self._new_model: Any = None
        self._new_version: int | None = None
        self.child_pid: int | None = None  # the training process while it runs (benchmarks read its memory)

    def state(self) -> RecalibrationState:
        with self._lock:
            return dataclasses.replace(self._state)

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
        model = copy.deepcopy(self.engine.active.model)
        self._cancel.clear()
        self._state = RecalibrationState(state="running", message="starting", n_windows=len(windows))
        self._thread = threading.Thread(target=self._work, args=(model, windows.inputs), daemon=True,
                                        name="myoxai-recalibration")
        self._thread.start()

    def _progress(self, fraction: float, message: str = "") -> None:
        self._set(progress=float(fraction), message=str(message))

    def _work(self, model: Any, inputs: Any) -> None:
        try:
            if self.isolate:
                new_model, report = self._run_in_child(model, inputs)
            else:
                new_model, report = self._run_here(model, inputs)
        except Exception as exc:  # shown in the panel and logged; the engine keeps running on the old model
            log.exception("recalibration failed")
            self._set(state="failed", error=str(exc), message=f"failed: {exc}")
            return
        verdict = report.status
        if self._cancel.is_set() or verdict == "cancelled":
            self._set(state="cancelled", message="cancelled", report=report, verdict=verdict)
            return
        swapped = report.accepted  # a rejected run returns the old model: nothing to swap
        if swapped:
            try:
                self._new_version = self.engine.swap_model(new_model, origin=f"{self.method} recalibration").version
            except MyoxaiError as exc:  # e.g. the user loaded a model with other gestures meanwhile
                self._set(state="failed", error=str(exc), message=f"not swapped in: {exc}", report=report,
                          verdict=verdict)
                return
            self._new_model = new_model
        self._set(state="done", progress=1.0, report=report, verdict=verdict, swapped=swapped,
                  message="new model active: Accept keeps it, Revert restores the old one" if swapped
                  else f"adaptation {verdict}: {report.reason or 'old model kept'}")

    def _run_here(self, model: Any, inputs: Any) -> tuple[Any, RecalibrationReport]:
        fn = self._fn
        if fn is None:
            from myoxai.adapt import recalibrate as fn
        if self.niceness:
            lower_thread_priority(self.niceness)
        extra = {} if self.settings is None else {"settings": self.settings}
        return fn(model, self.source_data, inputs, method=self.method, progress=self._progress,
                  cancel=self._cancel, **extra)

    def _run_in_child(self, model: Any, inputs: Any) -> tuple[Any, RecalibrationReport]:
        """Train in a spawned process; relay its progress and cancel; return (model to use, report)."""
        ctx = multiprocessing.get_context("spawn")  # never fork a process that runs Qt and torch threads
        messages = ctx.Queue()
        cancel = ctx.Event()
        child = ctx.Process(target=_child_main, name="myoxai-recalibration", daemon=True,
                            args=(_portable(model), self.source_data, inputs, self.method, self.settings,
                                  self.threads, self.niceness, messages, cancel))
        child.start()
        self.child_pid = child.pid
        try:
            while True:
                if self._cancel.is_set():
                    cancel.set()
                try:
                    kind, *payload = messages.get(timeout=0.1)
                except queue.Empty:
                    if not child.is_alive():
                        raise RuntimeError(f"the recalibration process ended without a result "
                                           f"(exit code {child.exitcode})") from None
                    continue
                if kind == "progress":
                    self._progress(*payload)
                elif kind == "done":
                    report, new_state = payload
                    if new_state is None:
                        return model, report
                    new_model = copy.deepcopy(model)  # keeps class names and description
                    new_model.load_state_dict(_tensors(new_state))
                    return new_model, report
                elif kind == "user-error":
                    raise MyoxaiError(payload[0])
                else:
                    raise RuntimeError(f"recalibration process failed: {payload[0]}")
        finally:
            child.join(10.0)
            if child.is_alive():
                child.kill()
            self.child_pid = None

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


def _portable(model: Any) -> dict[str, Any]:
    """A model as plain data (architecture, arguments, weights as numpy) for the other process.

    Torch tensors are not sent as such: multiprocessing would share their memory through file
    descriptors that die with the process that sent them.
    """
    return {"name": model.name, "n_classes": model.n_classes, "init_args": dict(model.init_args),
            "training": bool(model.training),
            "state": {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}}


def _tensors(state: dict[str, Any]) -> dict[str, Any]:
    import torch

    return {k: torch.from_numpy(v) for k, v in state.items()}


def _child_main(model: dict[str, Any], source_data: Any, inputs: Any, method: str, settings: Any, threads: int,
                niceness: int, messages: Any, cancel: Any) -> None:
    """The child process: one recalibration, reported through ``messages`` (progress…, then done or an error)."""
    if niceness:
        try:
            os.nice(niceness)
        except OSError as exc:
            log.debug("could not lower the recalibration process's priority: %s", exc)
    from myoxai.adapt import recalibrate
    from myoxai.models import build_model, set_torch_threads

    set_torch_threads(threads)
    try:
        net = build_model(model["name"], model["n_classes"], **model["init_args"])
        net.load_state_dict(_tensors(model["state"]))
        net.train(model["training"])
        extra = {} if settings is None else {"settings": settings}
        new_model, report = recalibrate(net, source_data, inputs, method=method, cancel=cancel,
                                        progress=lambda f, m="": messages.put(("progress", float(f), str(m))),
                                        **extra)
        state = _portable(new_model)["state"] if report.accepted else None
        messages.put(("done", report, state))
    except MyoxaiError as exc:
        messages.put(("user-error", str(exc)))
    except Exception as exc:  # the parent logs it and shows it; the traceback is logged here
        log.exception("recalibration process failed")
        messages.put(("error", f"{type(exc).__name__}: {exc}"))
