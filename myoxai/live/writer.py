"""A recorder behind its own writer thread, so the engine thread hands over samples and never waits on disk.

The calibration session receives raw chunks in the engine thread (a chunk listener must not
block), but the XDF recorder writes and fsyncs. ``QueuedRecorder`` puts each ``append`` /
``marker`` on a bounded queue and one writer thread performs them in order. If the disk stalls for
longer than the queue holds, the newest operations are refused (never waited for) and counted,
and ``error`` says so; ``close`` drains the queue, closes the file and reports any failure.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol

import numpy as np

from myoxai.errors import MyoxaiError

log = logging.getLogger(__name__)


class Recorder(Protocol):
    """What ``QueuedRecorder`` drives (``myoxai.io.xdf.EmgXdfRecorder``)."""

    path: Path

    def append(self, samples: np.ndarray, timestamps: np.ndarray) -> None:
        """Write samples (n, channels) with their timestamps."""

    def marker(self, timestamp: float, label: str) -> None:
        """Write a marker ``label`` at ``timestamp``."""

    def close(self) -> None:
        """Finish the file; no call follows."""


class QueuedRecorder:
    """``append``/``marker``/``finish`` return at once; a writer thread does the writing, in order.

    Parameters
    ----------
    recorder:
        The recorder that touches the disk (used only by the writer thread from now on).
    max_pending:
        Operations the queue holds (2000 ten-sample chunks = 100 s of Myo EMG) before it refuses more.
    on_closed:
        Called in the writer thread once the file is closed, with the error message or None.
    """

    def __init__(self, recorder: Recorder, max_pending: int = 2000,
                 on_closed: Callable[[str | None], None] | None = None) -> None:
        self.recorder = recorder
        self.path = recorder.path
        self.refused = 0  # operations refused because the queue was full (the disk stalled)
        self.error: str | None = None
        self.closed = threading.Event()
        self._on_closed = on_closed
        self._queue: queue.Queue[tuple[Callable[..., None], tuple]] = queue.Queue(maxsize=max_pending)
        self._finishing = threading.Event()
        self._thread = threading.Thread(target=self._write, name="myoxai-writer", daemon=True)
        self._thread.start()

    def append(self, samples: np.ndarray, timestamps: np.ndarray) -> None:
        """Queue samples (copied: the caller may reuse its arrays)."""
        self._put(self.recorder.append, np.array(samples, copy=True), np.array(timestamps, copy=True))

    def marker(self, timestamp: float, label: str) -> None:
        """Queue a marker ``label`` at ``timestamp``."""
        self._put(self.recorder.marker, float(timestamp), str(label))

    def write(self, fn: Callable[..., None], *args: Any) -> None:
        """Queue another write on the recorder (e.g. samples of an extra stream), in order with the rest."""
        self._put(fn, *args)

    def _put(self, fn: Callable[..., None], *args: Any) -> None:
        if self._finishing.is_set():
            return
        try:
            self._queue.put_nowait((fn, args))
        except queue.Full:
            self.refused += 1
            if self.error is None:
                self.error = (f"the disk did not keep up with the recording to {self.path}, so part of it is "
                              "missing; record again to a faster or less busy drive")
                log.error("%s", self.error)

    def finish(self) -> None:
        """Write what is queued, then close the file (returns at once; ``closed`` is set when done)."""
        self._finishing.set()

    def close(self, timeout: float = 30.0) -> None:
        """``finish`` and wait for it; raise ``MyoxaiError`` if the file is incomplete."""
        self.finish()
        if not self.closed.wait(timeout):
            raise MyoxaiError(f"writing {self.path} did not finish within {timeout:.0f} s; the file may be incomplete")
        if self.error:
            raise MyoxaiError(self.error)

    def _write(self) -> None:
        failed = False
        while True:
            try:
                fn, args = self._queue.get(timeout=0.05)
            except queue.Empty:
                if self._finishing.is_set():
                    break
                continue
            if failed:
                continue  # after a failed write the rest would not line up: drain without writing
            try:
                fn(*args)
            except (OSError, ValueError) as exc:
                failed = True
                self.error = f"writing {self.path} failed: {exc}"
                log.exception("recording writer failed")
        try:
            self.recorder.close()
        except OSError as exc:
            self.error = self.error or f"closing {self.path} failed: {exc}"
            log.exception("closing the recording failed")
        self.closed.set()
        if self._on_closed is not None:
            self._on_closed(self.error)
