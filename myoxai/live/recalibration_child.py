"""The recalibration's training process: models as plain data, the child's main, and the parent's relay.

Training runs in a spawned process so it neither holds the GIL against the engine and GUI threads
nor grows the app's memory. Models cross the process boundary as plain data (architecture,
arguments, numpy weights), never as torch tensors: multiprocessing would share their memory
through file descriptors that die with the sender. The child reports ``progress`` messages from
its first second on, then ``done`` with the report, the new model and its drift reference; the
parent always joins (and if need be kills and joins) the child, so no zombie is left behind.
"""

from __future__ import annotations

import copy
import logging
import multiprocessing
import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from myoxai.errors import MyoxaiError

log = logging.getLogger(__name__)

TRAINING_FROM = 0.05  # progress before this is preparation; training fills 0.05-0.95, the reference the rest


def portable(model: Any) -> dict[str, Any]:
    """A model as plain data (architecture, arguments, weights as numpy) for the other process."""
    return {"name": model.name, "n_classes": model.n_classes, "init_args": dict(model.init_args),
            "training": bool(model.training), "class_names": tuple(getattr(model, "class_names", ()) or ()),
            "state": {k: v.detach().cpu().numpy().copy() for k, v in model.state_dict().items()}}


def build(data: dict[str, Any]) -> Any:
    """The model ``portable`` described."""
    import torch

    from myoxai.models import build_model

    net = build_model(data["name"], data["n_classes"], **data["init_args"])
    net.load_state_dict({k: torch.from_numpy(v) for k, v in data["state"].items()})
    net.train(data["training"])
    if data.get("class_names"):
        net.class_names = tuple(data["class_names"])
    return net


def rebuild(data: dict[str, Any], like: Any) -> Any:
    """The model the child sent (its own arguments: e.g. an input rotation), with ``like``'s names and description."""
    net = build(data)
    for attr in ("class_names", "description"):
        if hasattr(like, attr):
            setattr(net, attr, copy.deepcopy(getattr(like, attr)))
    return net


@dataclass
class TrainingJob:
    """Everything one recalibration needs, in a form a spawned process receives."""

    model: Any  # the calibration model (SCADANN's source domain)
    source_data: Any
    fit: Any  # buffered windows to adapt on
    held: Any  # held-back windows: the new model's symptom reference
    method: str
    settings: Any = None
    start: Any = None  # the quick-adapted model SCADANN starts from, or None
    reference: dict[str, Any] | None = None  # the calibration model's drift reference


def train(job: TrainingJob, progress: Callable[..., None], cancel: Any) -> tuple[Any, Any, dict[str, Any] | None]:
    """(model to use, report, its drift reference or None): ``recalibrate`` and, when accepted, the reference.

    ``progress(fraction, message)`` receives overall fractions: training from ``TRAINING_FROM`` to 0.95.
    """
    from myoxai.adapt import recalibrate

    extra: dict[str, Any] = {} if job.settings is None else {"settings": job.settings}
    if job.start is not None:
        extra["start"] = job.start
    new_model, report = recalibrate(job.model, job.source_data, job.fit, method=job.method, cancel=cancel,
                                    progress=lambda f, m="": progress(TRAINING_FROM + 0.9 * float(f), m), **extra)
    reference = None
    if report.accepted and job.reference is not None:
        progress(0.98, "computing the new model's drift reference on held-back windows")
        reference = new_reference(job, new_model)
    return new_model, report, reference


def new_reference(job: TrainingJob, new_model: Any) -> dict[str, Any] | None:
    """The drift reference of what the recalibrated model expects (``myoxai.live.quick_adapt.adapted_reference``)."""
    from myoxai.adapt.drift import DriftReference
    from myoxai.live.quick_adapt import adapted_reference

    try:
        ref = DriftReference.from_dict(job.reference, n_classes=int(job.model.n_classes))
        return adapted_reference(ref, job.model, new_model, job.fit, job.held).to_dict()
    except MyoxaiError as exc:
        log.warning("no drift reference for the recalibrated model: %s", exc)
        return None


def child_main(job: TrainingJob, threads: int, niceness: int, messages: Any, cancel: Any) -> None:
    """The child process: one recalibration, reported through ``messages`` (progress…, then done or an error)."""
    messages.put(("progress", 0.03, "training process started: loading torch and the data"))
    if niceness:
        try:
            os.nice(niceness)
        except OSError as exc:
            log.debug("could not lower the recalibration process's priority: %s", exc)
    from myoxai.models import set_torch_threads

    set_torch_threads(threads)
    try:
        job.model = build(job.model)
        job.start = None if job.start is None else build(job.start)
        new_model, report, reference = train(job, lambda f, m="": messages.put(("progress", float(f), str(m))),
                                             cancel)
        messages.put(("done", report, portable(new_model) if report.accepted else None, reference))
    except MyoxaiError as exc:
        messages.put(("user-error", str(exc)))
    except Exception as exc:  # the parent logs it and shows it; the traceback is logged here
        log.exception("recalibration process failed")
        messages.put(("error", f"{type(exc).__name__}: {exc}"))


def run_in_child(job: TrainingJob, threads: int, niceness: int, cancel: threading.Event,
                 progress: Callable[[float, str], None],
                 on_pid: Callable[[int | None], None] = lambda pid: None) -> tuple[Any, Any, dict[str, Any] | None]:
    """Train in a spawned process; relay its progress and ``cancel``; (model or None, report, reference).

    Until the child's first message the relay says how long it has been starting, once a second.
    """
    ctx = multiprocessing.get_context("spawn")  # never fork a process that runs Qt and torch threads
    messages = ctx.Queue()
    child_cancel = ctx.Event()
    sent = TrainingJob(**{**job.__dict__, "model": portable(job.model),
                          "start": None if job.start is None else portable(job.start)})
    child = ctx.Process(target=child_main, name="myoxai-recalibration", daemon=True,
                        args=(sent, threads, niceness, messages, child_cancel))
    t0 = time.monotonic()
    child.start()
    on_pid(child.pid)
    heard = False
    try:
        while True:
            if cancel.is_set():
                child_cancel.set()
            try:
                kind, *payload = messages.get(timeout=0.25)
            except queue.Empty:
                if not child.is_alive():
                    raise RuntimeError(f"the recalibration process ended without a result "
                                       f"(exit code {child.exitcode})") from None
                if not heard:
                    progress(0.02, f"starting the training process ({time.monotonic() - t0:.0f} s)")
                continue
            heard = True
            if kind == "progress":
                progress(*payload)
            elif kind == "done":
                report, new, reference = payload
                return (None if new is None else rebuild(new, like=job.model)), report, reference
            elif kind == "user-error":
                raise MyoxaiError(payload[0])
            else:
                raise RuntimeError(f"recalibration process failed: {payload[0]}")
    finally:
        child.join(10.0)
        if child.is_alive():
            child.kill()
            child.join()  # reaped: no zombie
        messages.close()
        messages.join_thread()
        on_pid(None)
