"""Decision sinks run in the engine thread: an LSL outlet and a recorder. Both are non-blocking.

``LslDecisionOutlet`` publishes ``myoxai-decisions`` (irregular rate, float32): channel 0 is the
post-processed label (−1 = rejected), then one probability per class, then φ of the predicted
class per electrode — the layout is also written into the stream's ``<desc>`` so a receiver can
label its columns. ``DecisionLog`` appends decisions to a CSV-free, numpy-friendly JSON-lines file.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from myoxai.engine.decision import Decision


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
    """

    def __init__(self, class_names: Sequence[str], n_channels: int = 8, name: str = "myoxai-decisions") -> None:
        import pylsl

        self.n_values = 1 + len(class_names) + n_channels
        info = pylsl.StreamInfo(name, "Decisions", self.n_values, pylsl.IRREGULAR_RATE, pylsl.cf_float32,
                                f"{name}-{'-'.join(class_names)[:40]}")
        channels = info.desc().append_child("channels")
        labels = ["label"] + [f"p:{c}" for c in class_names] + [f"phi:ch{i + 1}" for i in range(n_channels)]
        for lab in labels:
            channels.append_child("channel").append_child_value("label", lab)
        classes = info.desc().append_child("classes")
        for c in class_names:
            classes.append_child_value("class", c)
        self.outlet = pylsl.StreamOutlet(info)

    def __call__(self, decisions: list[Decision]) -> None:
        if not decisions:
            return
        rows = np.stack([self._row(d) for d in decisions])
        self.outlet.push_chunk(rows.tolist(), [d.timestamp for d in decisions])

    def _row(self, d: Decision) -> np.ndarray:
        v = d.as_vector()
        out = np.full(self.n_values, np.nan, np.float32)
        out[:len(v)] = v[:self.n_values]
        return out


class DecisionLog:
    """Append every decision as one JSON line (timestamp, label, probabilities, φ, C, latency).

    Written from the engine thread in small buffered writes; ``close`` flushes.
    """

    def __init__(self, path: str | Path, class_names: Sequence[str]) -> None:
        self.path = Path(path)
        self._f = open(self.path, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()
        self._lock = threading.Lock()
        self._f.write(json.dumps({"classes": list(class_names)}) + "\n")

    def __call__(self, decisions: list[Decision]) -> None:
        lines = []
        for d in decisions:
            rec = {"t": d.timestamp, "label": d.label, "raw": d.raw_label, "conf": round(d.confidence, 5),
                   "p": np.round(d.probabilities, 5).tolist(), "latency_ms": round(d.latency_s * 1e3, 3),
                   "model": d.model_version, "gap": d.after_gap}
            if d.phi is not None:
                rec["phi"] = np.round(d.phi_label, 5).tolist()
                rec["C"] = round(float(d.total[d.raw_label]), 5)
            lines.append(json.dumps(rec))
        with self._lock:
            self._f.write("\n".join(lines) + "\n")

    def close(self) -> None:
        with self._lock:
            self._f.close()
