"""One Motion Test session on a running engine: collects decisions and prompts, records everything to XDF.

Attach it to an ``Engine`` (it adds a decision sink and a chunk listener, both non-blocking and run in
the engine thread). Prompts come from one of two places:

- live: the caller shows a gesture and calls ``prompt(gesture, timestamp)`` / ``end_prompt(timestamp)``
  (timestamps on the source clock, LSL ``local_clock``);
- against a recording: every label onset of a labelled replay is a prompt (``from_labels=True``).

With ``xdf_path`` the session writes one XDF file holding the raw EMG, the prompts as gesture markers
(the class name at a prompt's onset, the rest class at its end — so the file replays as a labelled
recording and can be scored again with ``from_labels``), and the decision stream (label, confidence).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.live.motion.scoring import LabelOnsets, MotionTestResult, Prompt, score_motion_test


def rest_index(class_names: Sequence[str]) -> int | None:
    """Index of the rest class ('rest', any case), if the model has one."""
    lowered = [c.lower() for c in class_names]
    return lowered.index("rest") if "rest" in lowered else None


class MotionSession:
    """Decisions and prompts of one Motion Test, optionally recorded to XDF.

    Parameters
    ----------
    engine:
        The running (or about to run) engine.
    from_labels:
        Use the replay's label onsets as prompts (no ``prompt`` calls needed).
    include_rest:
        Score rest runs as prompts too (recording mode); a live test never prompts rest.
    xdf_path, overwrite:
        Record EMG, prompt markers and decisions to this XDF file (refused if it exists, unless ``overwrite``).

    Scored against a replay's labels at N× speed, whose samples are stamped N times closer together,
    the results are scaled back to recording seconds (``time_scale`` = the source's ``speed``; 1 for
    live prompts, which run on the wall clock like the person, and for unpaced replays).
    """

    def __init__(self, engine: Any, from_labels: bool = False, include_rest: bool = False,
                 xdf_path: str | Path | None = None, overwrite: bool = False) -> None:
        self.engine = engine
        self.class_names = tuple(engine.class_names)
        self.rest = rest_index(self.class_names)
        skip = () if include_rest or self.rest is None else (self.rest,)
        self.onsets = LabelOnsets(skip) if from_labels else None
        speed = float(getattr(engine.source, "speed", 1.0) or 1.0)  # 0 = unpaced: stamps in recording time
        self.time_scale = speed if from_labels and speed > 0 else 1.0  # live prompts run on the wall clock
        self._times: list[float] = []
        self._labels: list[int] = []
        self._truth: list[int] = []
        self._live: list[list[Any]] = []  # [gesture, onset, end]
        self._origin: float | None = None  # the first sample's (or prompt's) time: results count seconds from it
        self._lock = threading.Lock()
        self._xdf: Any = None
        self._decision_stream = -1
        if xdf_path is not None:  # written by its own thread: the engine thread only queues (engine.writer)
            from myoxai.io.xdf import EmgXdfRecorder
            from myoxai.live.writer import QueuedRecorder

            cfg = engine.config
            recorder = EmgXdfRecorder(xdf_path, cfg.fs, self.class_names, cfg.n_channels,
                                      meta={"recorded_by": "myoxai motion-test"},
                                      source_id="myoxai-motion-test", overwrite=overwrite)
            self._decision_stream = recorder.writer.add_stream("myoxai-decisions", "Decisions", 2, 0.0, "float32",
                                                               "myoxai-motion-test-decisions")
            self._write_decisions = recorder.writer.write_samples
            self._xdf = QueuedRecorder(recorder)
        engine.add_sink(self._on_decisions)
        engine.add_chunk_listener(self._on_chunks)

    @property
    def xdf_path(self) -> Path | None:
        """The XDF file the session records into, or None when it does not record."""
        return None if self._xdf is None else Path(self._xdf.path)

    # -- engine thread -----------------------------------------------------------------------------
    def _on_chunks(self, chunks: Sequence[Any]) -> None:
        if self._origin is None and chunks and len(chunks[0]):
            with self._lock:
                self._origin = float(chunks[0].timestamps[0]) if self._origin is None else self._origin
        if self.onsets is not None:
            self.onsets(chunks)
        if self._xdf is not None:
            for c in chunks:
                self._xdf.append(c.samples, c.timestamps)

    def _on_decisions(self, decisions: Sequence[Any]) -> None:
        with self._lock:
            for d in decisions:
                self._times.append(d.timestamp)
                self._labels.append(d.label)
                self._truth.append(-1 if d.true_label is None else d.true_label)
            if self._xdf is not None and decisions:
                self._xdf.write(self._write_decisions, self._decision_stream, [d.timestamp for d in decisions],
                                [[d.label, d.confidence] for d in decisions])

    # -- prompts (caller's thread) -----------------------------------------------------------------
    def prompt(self, gesture: int, timestamp: float) -> None:
        """The gesture appeared on screen at ``timestamp`` (source clock)."""
        with self._lock:
            self._close_open(timestamp)
            self._origin = float(timestamp) if self._origin is None else min(self._origin, float(timestamp))
            self._live.append([int(gesture), float(timestamp), None])
            if self._xdf is not None:
                self._xdf.marker(timestamp, self.class_names[gesture])

    def end_prompt(self, timestamp: float) -> None:
        """The prompt left the screen (the rest between trials begins)."""
        with self._lock:
            self._close_open(timestamp)
            if self._xdf is not None:
                self._xdf.marker(timestamp, self.class_names[self.rest] if self.rest is not None else "unlabeled")

    def _close_open(self, timestamp: float) -> None:
        if self._live and self._live[-1][2] is None:
            self._live[-1][2] = float(timestamp)

    # -- results -----------------------------------------------------------------------------------
    def prompts(self) -> list[Prompt]:
        """The prompts so far: the label runs of a labelled replay, else the live prompts shown."""
        with self._lock:
            live = [Prompt(g, on, end) for g, on, end in self._live]
        return self.onsets.prompts() if self.onsets is not None else live

    def decisions(self) -> tuple[np.ndarray, np.ndarray]:
        """(times, labels) of every decision so far."""
        with self._lock:
            return np.asarray(self._times, float), np.asarray(self._labels, int)

    def running_accuracy(self) -> tuple[float | None, int]:
        """(accuracy, n) of decisions against the replay's labels (any labelled replay; rejected = wrong)."""
        with self._lock:
            truth, labels = np.asarray(self._truth, int), np.asarray(self._labels, int)
        known = truth >= 0
        n = int(known.sum())
        return (float(np.mean(labels[known] == truth[known])) if n else None), n

    def result(self, k_correct: int = 10, hold_limit_s: float = 5.0) -> MotionTestResult:
        """The metrics so far, in recording seconds from the session's first sample (see ``time_scale``)."""
        times, labels = self.decisions()
        k = self.time_scale
        with self._lock:
            o = self._origin if self._origin is not None else (float(times[0]) if len(times) else 0.0)
        prompts = [Prompt(p.gesture, (p.onset - o) * k, None if p.end is None else (p.end - o) * k)
                   for p in self.prompts()]
        return score_motion_test((times - o) * k, labels, prompts, self.class_names, k_correct, hold_limit_s)

    def close(self) -> None:
        """Detach from the engine and finish the XDF file (raises ``MyoxaiError`` if it is incomplete)."""
        self.engine.remove_sink(self._on_decisions)
        self.engine.remove_chunk_listener(self._on_chunks)
        if self._xdf is not None:
            self._xdf.close()
