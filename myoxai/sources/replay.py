"""A recording played back as a live ``Source``: real time, ×N, or as fast as possible, optionally looping."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np

from myoxai.errors import MyoxaiError
from myoxai.io.recording import Recording
from myoxai.sources.base import ThreadedSource, local_clock

MAX_STEP_S = 3600.0
"""Longest pause between two samples a replay honours (a recording paused for an hour is plausible)."""
MAX_BACK_S = 0.5
"""Largest step back in time tolerated (clock-synchronised LSL stamps jitter by milliseconds)."""


def _check_times(ts: np.ndarray, where: str) -> None:
    """Refuse timestamps that go back by more than ``MAX_BACK_S`` or jump by more than ``MAX_STEP_S``."""
    dt = np.diff(ts)
    bad = np.flatnonzero((dt < -MAX_BACK_S) | (dt > MAX_STEP_S))
    if bad.size:
        i = int(bad[0])
        what = "go back" if dt[i] < 0 else "jump forward"
        raise MyoxaiError(f"{where}: timestamps {what} by {abs(float(dt[i])):.6g} s after sample {i} "
                          f"({bad.size} such step(s)); a replay cannot pace that — re-record it or convert it "
                          "with corrected times")


class ReplaySource(ThreadedSource):
    """Play a Recording (or a file ``open_recording`` understands) in chunks.

    Timestamps are ``local_clock()`` at the start plus the recording's own sample times divided by
    ``speed`` (so gaps in the recording stay gaps); pacing sleeps until a chunk's last sample is due.
    Labels travel with the chunks. Sequence numbers continue across loops.

    Parameters
    ----------
    recording:
        A Recording, or a path to an XDF file / dataset session.
    speed:
        1 = real time, N = N× faster, 0 = as fast as possible (the consumer's queue bounds memory:
        with ``speed=0`` the thread waits instead of dropping).
    chunk:
        Samples per chunk (10 = 50 ms at 200 Hz).
    loop:
        Start again at the end (until stopped).
    seconds:
        Play only the first ``seconds`` of the recording.
    """

    name = "replay"

    def __init__(self, recording: Recording | str | Path, speed: float = 1.0, chunk: int = 10, loop: bool = False,
                 seconds: float | None = None, queue_chunks: int = 2000) -> None:
        if not isinstance(recording, Recording):
            from myoxai.io.open import open_recording

            recording = open_recording(recording)
        if chunk < 1:
            raise MyoxaiError("replay chunk must be at least 1 sample")
        if speed < 0:
            raise MyoxaiError("replay speed must be positive (or 0 for as fast as possible)")
        self.recording = recording
        self.fs = float(recording.fs)
        self.n_channels = recording.n_channels
        super().__init__(queue_chunks=queue_chunks)
        self.speed, self.chunk, self.loop = float(speed), int(chunk), loop
        self.n = len(recording) if seconds is None else min(len(recording), int(round(seconds * recording.fs)))
        if self.n == 0:
            raise MyoxaiError("the recording holds no samples to replay")
        _check_times(recording.timestamps[:self.n], str(recording.meta.get("source", "the recording")))
        self._set(info={"source": str(recording.meta.get("source", "")), "samples": self.n,
                        "class_names": list(recording.class_names)})

    def match_classes(self, class_names: tuple[str, ...] | list[str], what: str = "the model") -> None:
        """Re-index the recording's labels to ``class_names`` (a model's gestures) by name, before ``start``.

        Labels travel as indices; a model with other gestures (or another order) would otherwise
        score "flexion" as correct for "fist". A gesture the recording uses but ``class_names``
        lacks is refused (``MyoxaiError``).
        """
        from myoxai.io.validate import label_index_map

        rec = self.recording
        if rec.labels is None or tuple(rec.class_names) == tuple(class_names):
            return
        used = np.unique(rec.labels[:self.n])
        mapping = label_index_map(rec.class_names, class_names, used,
                                  f"the replayed recording {rec.meta.get('source', '')}".rstrip())
        labels = np.where(rec.labels >= 0, mapping[np.maximum(rec.labels, 0)], rec.labels)
        self.recording = Recording(rec.samples, rec.timestamps, rec.fs, labels, tuple(class_names), rec.meta)
        self._set(info={**self.status().info, "class_names": list(class_names)})

    def _acquire(self, stop: threading.Event) -> None:
        rec, n = self.recording, self.n
        rel = rec.timestamps[:n] - rec.timestamps[0]
        period = float(np.median(np.diff(rel))) if n > 1 else 1.0 / self.fs
        span = rel[-1] + period  # one loop of recording time
        t0_wall, t0_clock = time.perf_counter(), local_clock()
        self._set(connected=True, state="streaming")
        lap = 0
        while not stop.is_set():
            for start in range(0, n, self.chunk):
                if stop.is_set():
                    return
                stop_i = min(n, start + self.chunk)
                t_rel = lap * span + rel[start:stop_i]
                if self.speed > 0:
                    delay = t0_wall + t_rel[-1] / self.speed - time.perf_counter()
                    if delay > 0:
                        stop.wait(min(delay, MAX_STEP_S))
                    ts = t0_clock + t_rel / self.speed
                else:
                    while len(self._queue) >= self._queue_max and not stop.is_set():  # never drop when unpaced
                        stop.wait(0.005)
                    if stop.is_set():
                        return  # emitting now would push the oldest queued chunk out (a drop at every stop)
                    ts = t0_clock + t_rel
                labels = None if rec.labels is None else rec.labels[start:stop_i]
                self._emit(rec.samples[start:stop_i], ts, labels=labels)
            if not self.loop:
                return
            lap += 1
