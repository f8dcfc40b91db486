"""Decision sinks run in the engine thread: an LSL outlet and a recorder. Both are non-blocking.

Each receives the engine's ``DecisionBatch``: the decisions and the drift assessment made with them.
``LslDecisionOutlet`` publishes ``myoxai-decisions`` (irregular rate, float32): channel 0 is the
post-processed label (−1 = rejected), then one probability per class, then φ of the predicted
class per electrode, then (``with_drift``) the drift score and state — the layout is also written
into the stream's ``<desc>`` so a receiver can label its columns. ``DecisionLog`` appends decisions
to a CSV-free, numpy-friendly JSON-lines file.

Both fix their columns to a set of gestures when built. The engine therefore owns them through
``ClassSinks``: it builds each from a factory for the active model's gestures, rebuilds it (a new
LSL outlet; a new header line in the log) when a model with other gestures takes over, and closes
it when the engine stops.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Protocol

import numpy as np

from myoxai.engine.decision import Decision, DecisionBatch
from myoxai.engine.drift import STATE_CODES
from myoxai.errors import MyoxaiError

log = logging.getLogger(__name__)


class DecisionSink(Protocol):
    """A consumer of decision batches that holds a resource (an outlet, a file)."""

    def __call__(self, batch: DecisionBatch) -> None:
        """Consume one batch of decisions (called from the engine thread)."""

    def close(self) -> None:
        """Release the resource; no call follows."""


SinkFactory = Callable[[tuple[str, ...]], DecisionSink]  # class names -> a sink laid out for them


class ClassSinks:
    """Sinks laid out for the active gestures: built from factories, rebuilt on a class change, closed on stop.

    ``add`` builds the sink at once in the caller's thread, so a bad path or a missing LSL library
    is reported to whoever asked for the sink; rebuilds happen in the engine thread, at the first
    decision of a model with other gestures, before that decision is published.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._factories: list[SinkFactory] = []
        self._sinks: list[DecisionSink | None] = []
        self._classes: tuple[str, ...] | None = None

    def add(self, factory: SinkFactory, class_names: tuple[str, ...]) -> DecisionSink:
        """Build a sink for ``class_names`` with ``factory`` and keep the factory for later rebuilds."""
        with self._lock:
            if self._classes is not None and self._classes != class_names:
                self._rebuild(class_names)
            sink = factory(class_names)
            self._factories.append(factory)
            self._sinks.append(sink)
            self._classes = class_names
            return sink

    @property
    def sinks(self) -> list[DecisionSink]:
        """The sinks built so far (a copy, in the order they were added)."""
        with self._lock:
            return [s for s in self._sinks if s is not None]

    def publish(self, batch: DecisionBatch, call: Callable[[Callable, DecisionBatch], None]) -> None:
        """Hand ``batch`` (one model's, so one class set) to every sink, rebuilding them first if needed."""
        if not batch or not self._factories:
            return
        with self._lock:
            if batch[0].class_names != self._classes:
                self._rebuild(batch[0].class_names)
            sinks = [s for s in self._sinks if s is not None]
        for sink in sinks:
            call(sink, batch)

    def _rebuild(self, class_names: tuple[str, ...]) -> None:
        for i, factory in enumerate(self._factories):
            _close(self._sinks[i])
            try:
                self._sinks[i] = factory(class_names)
            except (MyoxaiError, OSError, RuntimeError):  # logged; the other sinks and the decisions go on
                log.exception("could not rebuild decision sink %r for the gestures %s", factory, class_names)
                self._sinks[i] = None
        self._classes = class_names
        log.info("decision sinks rebuilt for the gestures %s", ", ".join(class_names))

    def close(self) -> None:
        """Close every sink; the next decision rebuilds them (an engine can be started again)."""
        with self._lock:
            for i, sink in enumerate(self._sinks):
                _close(sink)
                self._sinks[i] = None
            self._classes = None


def _close(sink: DecisionSink | None) -> None:
    if sink is None:
        return
    try:
        sink.close()
    except (OSError, RuntimeError):
        log.exception("closing decision sink %r failed", sink)


class LslDecisionOutlet:
    """The ``myoxai-decisions`` LSL stream (push is non-blocking in liblsl).

    Parameters
    ----------
    class_names:
        Gesture names (one probability column each).
    n_channels:
        Electrodes (one φ column each).
    name:
        Stream name.
    with_drift:
        Two more columns: the batch's drift score and state (0 ok, 1 watch, 2 recalibrate; NaN without one).
    """

    def __init__(self, class_names: Sequence[str], n_channels: int = 8, name: str = "myoxai-decisions",
                 with_drift: bool = False) -> None:
        import pylsl

        self.with_drift = with_drift
        self.n_values = 1 + len(class_names) + n_channels + (2 if with_drift else 0)
        info = pylsl.StreamInfo(name, "Decisions", self.n_values, pylsl.IRREGULAR_RATE, pylsl.cf_float32,
                                f"{name}-{'-'.join(class_names)[:40]}")
        channels = info.desc().append_child("channels")
        labels = ["label"] + [f"p:{c}" for c in class_names] + [f"phi:ch{i + 1}" for i in range(n_channels)]
        labels += ["drift", "drift_state"] if with_drift else []
        for lab in labels:
            channels.append_child("channel").append_child_value("label", lab)
        classes = info.desc().append_child("classes")
        for c in class_names:
            classes.append_child_value("class", c)
        self.outlet: pylsl.StreamOutlet | None = pylsl.StreamOutlet(info)
        self.class_names = tuple(class_names)

    def __call__(self, batch: DecisionBatch) -> None:
        """Push one row per decision with its timestamp (nothing once closed)."""
        if not batch or self.outlet is None:
            return
        rows = np.stack([self._row(d, batch) for d in batch])
        self.outlet.push_chunk(rows.tolist(), [d.timestamp for d in batch])

    def _row(self, d: Decision, batch: DecisionBatch) -> np.ndarray:
        v = d.as_vector()
        out = np.full(self.n_values, np.nan, np.float32)
        n = self.n_values - (2 if self.with_drift else 0)
        out[:min(len(v), n)] = v[:n]
        if self.with_drift and batch.drift is not None:
            out[-2:] = batch.drift.score, STATE_CODES[batch.drift.state]
        return out

    def close(self) -> None:
        """Withdraw the stream from the network (receivers see it end)."""
        self.outlet = None  # liblsl destroys the outlet with its last reference


class DecisionLog:
    """Append every decision as one JSON line (timestamp, label, probabilities, φ, C, latency).

    Written from the engine thread in small buffered writes; ``close`` flushes.
    """

    def __init__(self, path: str | Path, class_names: Sequence[str]) -> None:
        self.path = Path(path)
        from myoxai.io.outputs import open_log

        self._f = open_log(self.path, "classes")  # appends; refuses a file that is not a decision log
        self._lock = threading.Lock()
        self.class_names = tuple(class_names)
        self._f.write(json.dumps({"classes": list(class_names)}) + "\n")  # a new header at every class change

    def __call__(self, batch: DecisionBatch) -> None:
        """Append one JSON line per decision (with the batch's drift score, state and cause when it has them)."""
        lines = []
        for d in batch:
            rec = {"t": d.timestamp, "label": d.label, "raw": d.raw_label, "conf": round(d.confidence, 5),
                   "p": np.round(d.probabilities, 5).tolist(), "latency_ms": round(d.latency_s * 1e3, 3),
                   "model": d.model_version, "gap": d.after_gap}
            if d.phi is not None:
                rec["phi"] = np.round(d.phi_label, 5).tolist()
                rec["C"] = round(float(d.total[d.raw_label]), 5)
            if (a := batch.drift) is not None:
                rec.update({"drift": round(a.score, 4), "drift_state": a.state, "drift_cause": a.cause})
            lines.append(json.dumps(rec))
        with self._lock:
            if not self._f.closed:
                self._f.write("\n".join(lines) + "\n")

    def close(self) -> None:
        """Flush and close the file (idempotent)."""
        with self._lock:
            self._f.close()
