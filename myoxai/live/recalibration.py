"""Recalibration: an instant quick adapt, then SCADANN in the background, while decisions keep flowing.

``quick_adapt`` (also the first step of ``start``) runs the registered default pipeline
``METHODS[DEFAULT_PIPELINE]`` (``myoxai.adapt.methods``, the same call ``--adapt default`` evaluates):
it estimates the armband's rotation from the buffer's per-electrode energy profile, compensates it,
re-normalises the model on the buffer and rebuilds its head from the buffer's class prototypes (no
labels, no gradient steps, well under a second) and swaps that model in at once; the panel shows
the estimated rotation. SCADANN then starts from it.

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


def _prototype_note(report: Any) -> str:
    """", prototype head (k of n gestures seen)" when the quick adapt rebuilt the head, else ""."""
    coverage = report.prototype_coverage
    return "" if coverage is None else f", prototype head ({coverage[0]} of {coverage[1]} gestures seen)"


@dataclass
class RecalibrationState:
    """What the recalibrate panel shows (a copy)."""

    state: str = "idle"  # idle, running, done, cancelled, failed
    progress: float = 0.0
    message: str = ""
    n_windows: int = 0
    report: RecalibrationReport | None = None  # adaptation's report once it finished (or was cancelled)
    quick: Any = None  # the QuickReport of the instant step (rotation estimate, seconds)
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
        self._base: Any = None  # the model active before this job's quick adapt (SCADANN's calibration model)
        self._quick_model: Any = None

    def state(self) -> RecalibrationState:
        """A copy of the current state (safe to read from the GUI thread)."""
        with self._lock:
            return dataclasses.replace(self._state)

    def _set(self, **kw: Any) -> None:
        with self._lock:
            for k, v in kw.items():
                setattr(self._state, k, v)

    def _reference_profile(self, model: Any) -> Any:
        from myoxai.adapt.quick import reference_profile

        return reference_profile(model, self.source_data)

    def quick_adapt(self, windows: Any = None) -> Any:
        """The default pipeline (``METHODS[DEFAULT_PIPELINE]``) on the buffer, swapped in now; its report."""
        from myoxai.adapt.methods import DEFAULT_PIPELINE, METHODS, AdaptContext
        from myoxai.adapt.quick import QuickReport

        if windows is None:
            windows = self.engine.buffer.snapshot()
        if len(windows) < min(self.min_windows, 100):
            raise MyoxaiError(f"only {len(windows)} windows buffered; quick adapt needs at least "
                              f"{min(self.min_windows, 100)} (keep streaming a little longer)")
        if self._base is None:
            self._base = copy.deepcopy(self.engine.active.model)
        ctx = AdaptContext(windows.inputs, source=self.source_data,
                           reference_profile=self._reference_profile(self._base))
        adapted = METHODS[DEFAULT_PIPELINE].run(self._base, ctx)
        report = QuickReport.from_steps(DEFAULT_PIPELINE, ctx.report)
        for attr in ("class_names", "description"):
            if hasattr(self._base, attr):
                setattr(adapted, attr, copy.deepcopy(getattr(self._base, attr)))
        shift = "n/a" if report.rotation_shift is None else f"{report.rotation_shift:+.2f}"
        self.engine.swap_model(adapted, origin=f"quick adapt (rotation {shift} electrodes)")
        self._quick_model = adapted
        self._set(quick=report, message=f"quick adapt: rotation {shift} electrodes, re-normalised"
                  f"{_prototype_note(report)} on {report.n_target} windows in {report.seconds:.2f} s")
        return report

    def start(self, quick_first: bool = True) -> None:
        """Quick adapt now (``quick_first``), then SCADANN from it in the worker (MyoxaiError if it cannot start)."""
        if self._thread is not None and self._thread.is_alive():
            raise MyoxaiError("a recalibration is already running; cancel it first")
        if self.source_data is None:
            raise MyoxaiError("recalibration needs the model's labelled training data; load the recording the "
                              "model was trained on (or train one with the calibration wizard)")
        windows = self.engine.buffer.snapshot()
        if len(windows) < self.min_windows:
            raise MyoxaiError(f"only {len(windows)} windows buffered; recalibration needs at least "
                              f"{self.min_windows} (keep streaming a little longer)")
        quick = self.quick_adapt(windows) if quick_first else None
        base = self._base if quick_first else self.engine.active.model
        model = copy.deepcopy(base)
        self._cancel.clear()
        self._state = RecalibrationState(state="running", message="starting", n_windows=len(windows), quick=quick)
        start_model = copy.deepcopy(self._quick_model) if quick_first else None
        self._thread = threading.Thread(target=self._work, args=(model, windows.inputs, start_model), daemon=True,
                                        name="myoxai-recalibration")
        self._thread.start()

    def _progress(self, fraction: float, message: str = "") -> None:
        self._set(progress=float(fraction), message=str(message))

    def _work(self, model: Any, inputs: Any, start: Any = None) -> None:
        try:
            if self.isolate:
                new_model, report = self._run_in_child(model, inputs, start)
            else:
                new_model, report = self._run_here(model, inputs, start)
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
            if not self.isolate:  # the child process computes it on its own (see _child_main)
                _attach_drift_reference(new_model, model, _drift_reference(new_model, inputs))
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

    def _run_here(self, model: Any, inputs: Any, start: Any = None) -> tuple[Any, RecalibrationReport]:
        fn = self._fn
        if fn is None:
            from myoxai.adapt import recalibrate as fn
        if self.niceness:
            lower_thread_priority(self.niceness)
        extra = {} if self.settings is None else {"settings": self.settings}
        if start is not None:
            extra["start"] = start
        return fn(model, self.source_data, inputs, method=self.method, progress=self._progress,
                  cancel=self._cancel, **extra)

    def _run_in_child(self, model: Any, inputs: Any, start: Any = None) -> tuple[Any, RecalibrationReport]:
        """Train in a spawned process; relay its progress and cancel; return (model to use, report)."""
        ctx = multiprocessing.get_context("spawn")  # never fork a process that runs Qt and torch threads
        messages = ctx.Queue()
        cancel = ctx.Event()
        child = ctx.Process(target=_child_main, name="myoxai-recalibration", daemon=True,
                            args=(_portable(model), self.source_data, inputs, self.method, self.settings,
                                  self.threads, self.niceness, messages, cancel,
                                  None if start is None else _portable(start)))
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
                    report, new, reference = payload
                    if new is None:
                        return (model if start is None else start), report
                    rebuilt = _rebuild(new, like=model)
                    _attach_drift_reference(rebuilt, model, reference)
                    return rebuilt, report
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
            self.engine.revert()  # SCADANN's model → the quick-adapted (or previous) one
        elif self._new_version is None and self.engine.status().can_revert:
            self.engine.revert()  # only a quick adapt happened: back to the model before it
        self._set(swapped=False, committed=False, message="reverted to the previous model")


def _portable(model: Any) -> dict[str, Any]:
    """A model as plain data (architecture, arguments, weights as numpy) for the other process.

    Torch tensors are not sent as such: multiprocessing would share their memory through file
    descriptors that die with the process that sent them.
    """
    return {"name": model.name, "n_classes": model.n_classes, "init_args": dict(model.init_args),
            "training": bool(model.training), "class_names": tuple(getattr(model, "class_names", ()) or ()),
            "state": {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}}


def _build(portable: dict[str, Any]) -> Any:
    from myoxai.models import build_model

    net = build_model(portable["name"], portable["n_classes"], **portable["init_args"])
    net.load_state_dict(_tensors(portable["state"]))
    net.train(portable["training"])
    if portable.get("class_names"):
        net.class_names = tuple(portable["class_names"])
    return net


def _rebuild(portable: dict[str, Any], like: Any) -> Any:
    """The model the child sent (its own arguments: e.g. an input rotation), with ``like``'s names and description."""
    net = _build(portable)
    for attr in ("class_names", "description"):
        if hasattr(like, attr):
            setattr(net, attr, copy.deepcopy(getattr(like, attr)))
    return net


def _tensors(state: dict[str, Any]) -> dict[str, Any]:
    import torch

    return {k: torch.from_numpy(v) for k, v in state.items()}


def _child_main(model: dict[str, Any], source_data: Any, inputs: Any, method: str, settings: Any, threads: int,
                niceness: int, messages: Any, cancel: Any, start: dict[str, Any] | None = None) -> None:
    """The child process: one recalibration, reported through ``messages`` (progress…, then done or an error)."""
    if niceness:
        try:
            os.nice(niceness)
        except OSError as exc:
            log.debug("could not lower the recalibration process's priority: %s", exc)
    from myoxai.adapt import recalibrate
    from myoxai.models import set_torch_threads

    set_torch_threads(threads)
    try:
        net = _build(model)
        extra = {} if settings is None else {"settings": settings}
        if start is not None:
            extra["start"] = _build(start)
        new_model, report = recalibrate(net, source_data, inputs, method=method, cancel=cancel,
                                        progress=lambda f, m="": messages.put(("progress", float(f), str(m))),
                                        **extra)
        # the drift reference (exact Shapley on up to 400 windows) is computed here, not in the app,
        # so the app's memory and its decision latency do not pay for it
        reference = _drift_reference(new_model, inputs) if report.accepted else None
        messages.put(("done", report, _portable(new_model) if report.accepted else None, reference))
    except MyoxaiError as exc:
        messages.put(("user-error", str(exc)))
    except Exception as exc:  # the parent logs it and shows it; the traceback is logged here
        log.exception("recalibration process failed")
        messages.put(("error", f"{type(exc).__name__}: {exc}"))


def _drift_reference(model: Any, inputs: Any) -> dict[str, Any] | None:
    """The recalibrated model's drift reference on today's (adaptation) windows, or None when it has none."""
    from myoxai.live.drift_reference import reference_for_model

    if getattr(model, "input_kind", "spectrogram") != "spectrogram":
        return None
    try:
        return reference_for_model(model, inputs).to_dict()
    except MyoxaiError as exc:  # e.g. the buffer held only rest: the monitor then has no reference
        log.warning("no drift reference for the recalibrated model: %s", exc)
        return None


def _attach_drift_reference(new_model: Any, old_model: Any, reference: dict[str, Any] | None) -> None:
    """Give ``new_model`` the old model's description with ``reference`` as its drift reference."""
    from myoxai.engine.drift import REFERENCE_KEY

    desc = dict(getattr(old_model, "description", None) or {})
    if reference is None:
        desc.pop(REFERENCE_KEY, None)
    else:
        desc[REFERENCE_KEY] = reference
    new_model.description = desc
