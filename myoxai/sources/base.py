"""The one chunk type, the status record, and the base class that owns a source's acquisition thread.

Why a base class and not only a Protocol: every source needs the same thread, the same bounded
queue that drops the *oldest* chunk and counts it, the same peek buffer for the GUI and the same gap
bookkeeping; written once here, a subclass only implements ``_acquire`` (the loop body that calls
``_emit``). Consumers type against ``Source`` (a ``typing.Protocol``) so Qt objects or test fakes
can stand in.
"""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Protocol, runtime_checkable

import numpy as np

from myoxai.config import MYO
from myoxai.errors import MyoxaiError

log = logging.getLogger(__name__)


def local_clock() -> float:
    """LSL's clock (seconds, monotonic), the time base of every chunk timestamp."""
    import pylsl  # imported lazily: LSLAPICFG must be settable before liblsl loads

    return float(pylsl.local_clock())


@dataclass
class Chunk:
    """Consecutive samples from one source.

    Attributes
    ----------
    samples:
        (n, channels) float32 (Myo raw values are the int8 numbers −128…127).
    timestamps:
        (n,) float64 LSL ``local_clock()`` seconds, non-decreasing.
    seq:
        (n,) int64 sample sequence numbers. They count every sample the device produced, lost ones
        included, so a jump in ``seq`` *is* a gap.
    gap:
        Samples missing between the source's previous chunk and this one (device loss, link drop,
        non-finite samples); 0 when continuous. Set where the chunk is made; when the full queue
        drops a chunk, the next one takes over its samples and gap, so the consumer sees one hole.
    labels:
        (n,) int64 class indices when the source knows them (replay of a labelled recording), else None.
    """

    samples: np.ndarray
    timestamps: np.ndarray
    seq: np.ndarray
    gap: int = 0
    labels: np.ndarray | None = None

    def __len__(self) -> int:
        return int(self.samples.shape[0])


@dataclass
class Gap:
    """One detected hole in the sample stream."""

    seq: int  # sequence number of the first missing sample
    n_missing: int  # samples missing (estimated for link drops, exact for out-of-order packets)
    t_start: float  # local_clock of the last sample before the gap
    t_end: float  # local_clock of the first sample after it
    reason: str  # "packet-loss", "link-drop", "queue-overflow", "timestamp-gap", "non-finite"


@dataclass
class SourceStatus:
    """A snapshot of a source's health (copy; safe to keep)."""

    state: str = "idle"  # idle, connecting, streaming, reconnecting, finished, stopped, error
    connected: bool = False
    rate_hz: float = 0.0  # measured over the last ~2 s of arrivals
    samples_received: int = 0
    samples_lost: int = 0  # missing at the device/link level (see Gap.reason)
    samples_dropped: int = 0  # received but discarded because the consumer fell behind
    samples_nonfinite: int = 0  # received as NaN/inf and discarded (also in samples_lost, as "non-finite" gaps)
    gaps: list[Gap] = field(default_factory=list)
    stalls: int = 0  # silences longer than the stall threshold while the link stayed up
    reconnects: int = 0
    reconnect_s: list[float] = field(default_factory=list)  # link-lost -> first new sample, per reconnect
    garbage_bytes: int = 0  # bytes discarded while resynchronising a byte stream
    battery: int | None = None
    error: str | None = None
    info: dict = field(default_factory=dict)


@runtime_checkable
class Source(Protocol):
    """What consumers (engine, GUI, recorder, LSL outlet) rely on."""

    fs: float
    n_channels: int

    def start(self) -> None:
        """Open the device or file and start delivering chunks."""

    def stop(self) -> None:
        """Stop delivering and release the device or file."""

    def read(self, timeout: float = 1.0) -> list[Chunk]:
        """Drain the chunks delivered since the last read, waiting up to ``timeout`` seconds for one."""

    def chunks(self, timeout: float = 1.0) -> Iterator[Chunk]:
        """Iterate over chunks as they arrive until the source stops."""

    def peek(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The last ``n`` samples and timestamps, without draining anything."""

    def status(self) -> SourceStatus:
        """Counters of lost samples, gaps, stalls and reconnects so far."""


class ThreadedSource:
    """Base class: one acquisition thread that calls ``_acquire`` and pushes chunks into a bounded queue.

    Subclasses implement ``_acquire(stop_event)`` (runs in the thread until the event is set or the
    data ends) and call ``_emit(samples, timestamps, missing=…, reason=…)`` for every block of new
    samples. ``missing`` samples before the block are recorded as a gap and skipped in ``seq``.

    Parameters
    ----------
    queue_chunks:
        Bound of the drain queue; when full the oldest chunk is dropped and counted.
    peek_seconds:
        Length of the circular buffer behind ``peek`` (for displays).
    """

    fs: float = MYO.fs  # subclasses whose device differs set their own (a replay: its file's)
    n_channels: int = MYO.n_channels
    name: str = "source"

    def __init__(self, queue_chunks: int = 2000, peek_seconds: float = 10.0) -> None:
        self._queue: collections.deque[Chunk] = collections.deque()
        self._queue_max = int(queue_chunks)
        self._cond = threading.Condition()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._status = SourceStatus()
        self._next_seq = 0
        self._emitted_seq = 0  # one past the last sample put in a chunk: a chunk's gap is its distance from it
        self._last_ts: float | None = None
        self._peek_len = max(1, int(peek_seconds * self.fs))
        self._peek_samples = np.zeros((self._peek_len, self.n_channels), np.float32)
        self._peek_stamps = np.zeros(self._peek_len, np.float64)
        self._peek_written = 0  # total samples ever written to the peek buffer
        self._rate_marks: collections.deque[tuple[float, int]] = collections.deque()
        self._finished = False
        self._error: BaseException | None = None

    # -- lifecycle ---------------------------------------------------------------------------
    def start(self) -> None:
        """Start the acquisition thread (idempotent)."""
        if self._thread is not None:
            return
        self._stop.clear()
        self._set(state="connecting")
        self._thread = threading.Thread(target=self._run, name=f"myoxai-{self.name}", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Ask the thread to stop and wait for it; queued chunks stay readable."""
        self._stop.set()
        if self._thread is not None and self._thread is not threading.current_thread():
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("%s: acquisition thread did not stop within %.1f s", self.name, timeout)
        self._close()
        with self._cond:
            if self._status.state not in ("finished", "error"):
                self._status.state = "stopped"
            self._status.connected = False
            self._cond.notify_all()

    def __enter__(self) -> ThreadedSource:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def running(self) -> bool:
        """True while the thread runs or chunks are still queued."""
        alive = self._thread is not None and self._thread.is_alive()
        return alive or bool(self._queue)

    def _run(self) -> None:
        try:
            self._acquire(self._stop)
            with self._cond:
                if not self._stop.is_set():
                    self._status.state = "finished"
        except Exception as exc:  # surfaced to the consumer through read() and status()
            if isinstance(exc, MyoxaiError):  # a user-fixable cause (no dongle…): its message, no traceback
                log.debug("%s: acquisition failed", self.name, exc_info=True)
            else:
                log.exception("%s: acquisition failed", self.name)
            with self._cond:
                self._error = exc
                self._status.state = "error"
                self._status.error = str(exc)
        finally:
            with self._cond:
                self._finished = True
                self._status.connected = False
                self._cond.notify_all()

    # -- subclass API ------------------------------------------------------------------------
    def _acquire(self, stop: threading.Event) -> None:
        raise NotImplementedError

    def _close(self) -> None:
        """Release device resources after the thread stopped (override)."""

    def _set(self, **fields: object) -> None:
        with self._cond:
            for k, v in fields.items():
                setattr(self._status, k, v)

    def _emit(self, samples: np.ndarray, timestamps: np.ndarray, missing: int = 0, reason: str = "packet-loss",
              labels: np.ndarray | None = None) -> None:
        """Queue new samples; ``missing`` samples before them were lost (recorded as a gap).

        Samples holding NaN or infinity never reach a consumer: each run of them becomes a gap
        with reason ``"non-finite"`` (counted in ``samples_lost`` and ``samples_nonfinite``), so
        the model sees a hole it knows about, never a poisoned window.
        """
        samples = np.asarray(samples, dtype=np.float32).reshape(-1, self.n_channels)
        ts = np.asarray(timestamps, dtype=np.float64).reshape(-1)
        n = samples.shape[0]
        if n == 0:
            return
        finite = np.isfinite(samples).all(axis=1) & np.isfinite(ts)
        if not finite.all():
            self._emit_finite_runs(samples, ts, finite, missing, reason, labels)
            return
        with self._cond:
            st = self._status
            if missing > 0:
                self._gap(int(missing), reason, float(ts[0]))
            gap = self._next_seq - self._emitted_seq
            seq = np.arange(self._next_seq, self._next_seq + n, dtype=np.int64)
            self._next_seq += n
            self._emitted_seq = self._next_seq
            self._last_ts = float(ts[-1])
            st.samples_received += n
            old = self._queue.popleft() if len(self._queue) >= self._queue_max else None
            self._queue.append(Chunk(samples, ts, seq, gap, labels))
            if old is not None:  # the dropped chunk's samples (and its own gap) become the next chunk's gap
                st.samples_dropped += len(old)
                st.gaps.append(Gap(int(old.seq[0]), len(old), float(old.timestamps[0]), float(old.timestamps[-1]),
                                   "queue-overflow"))
                self._queue[0].gap += old.gap + len(old)
            # peek buffer (circular, for displays)
            k = min(n, self._peek_len)
            idx = (self._peek_written + np.arange(n - k, n)) % self._peek_len
            self._peek_samples[idx], self._peek_stamps[idx] = samples[n - k:], ts[n - k:]
            self._peek_written += n
            now = time.monotonic()
            self._rate_marks.append((now, st.samples_received))
            while self._rate_marks and now - self._rate_marks[0][0] > 2.0:
                self._rate_marks.popleft()
            self._cond.notify_all()

    def _gap(self, n: int, reason: str, t_end: float) -> None:
        """Record ``n`` samples missing before ``t_end`` and skip them in ``seq`` (hold ``_cond``)."""
        st = self._status
        t_start = self._last_ts if self._last_ts is not None else t_end
        st.gaps.append(Gap(self._next_seq, n, t_start, t_end, reason))
        st.samples_lost += n
        self._next_seq += n

    def _emit_finite_runs(self, samples: np.ndarray, ts: np.ndarray, finite: np.ndarray, missing: int,
                          reason: str, labels: np.ndarray | None) -> None:
        """``_emit`` for a block with NaN/inf rows: the finite runs are emitted, the others become gaps."""
        bounds = np.flatnonzero(np.diff(np.concatenate([[0], finite.astype(np.int8), [0]])))
        starts, stops = bounds[::2], bounds[1::2]
        with self._cond:
            self._status.samples_nonfinite += int((~finite).sum())
            self._status.samples_received += int((~finite).sum())
        done = 0
        for a, b in zip(starts, stops, strict=True):
            with self._cond:
                if missing > 0:
                    self._gap(int(missing), reason, float(ts[a]))
                    missing = 0
                if a > done:
                    self._gap(int(a - done), "non-finite", float(ts[a]))
            self._emit(samples[a:b], ts[a:b], labels=None if labels is None else labels[a:b])
            done = int(b)
        with self._cond:
            t_end = float(ts[-1]) if np.isfinite(ts[-1]) else (self._last_ts or 0.0)
            if missing > 0:
                self._gap(int(missing), reason, t_end)
            if len(finite) > done:
                self._gap(int(len(finite) - done), "non-finite", t_end)
            self._cond.notify_all()

    # -- consumer API ------------------------------------------------------------------------
    def read(self, timeout: float = 1.0) -> list[Chunk]:
        """Drain every queued chunk (waits up to ``timeout`` for the first one).

        Returns an empty list on timeout or when the source has ended. Raises the acquisition
        thread's error (as ``MyoxaiError``) once the queue is empty.
        """
        with self._cond:
            if not self._queue and not self._finished:
                self._cond.wait_for(lambda: bool(self._queue) or self._finished, timeout)
            out = list(self._queue)
            self._queue.clear()
            if not out and self._error is not None:
                err, self._error = self._error, None
                raise MyoxaiError(f"{self.name}: {err}") from err
            return out

    def chunks(self, timeout: float = 1.0) -> Iterator[Chunk]:
        """Iterate drained chunks until the source ends or is stopped."""
        while True:
            got = self.read(timeout)
            yield from got
            if not got and not self.running:
                return

    def peek(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The latest ``n`` samples and timestamps (≤ the peek buffer) without consuming anything."""
        with self._cond:
            k = int(min(n, self._peek_len, self._peek_written))
            idx = (self._peek_written - k + np.arange(k)) % self._peek_len
            return self._peek_samples[idx].copy(), self._peek_stamps[idx].copy()

    def status(self) -> SourceStatus:
        """A copy of the current status, with the measured rate."""
        with self._cond:
            st = SourceStatus(**{**self._status.__dict__, "gaps": list(self._status.gaps),
                                 "reconnect_s": list(self._status.reconnect_s), "info": dict(self._status.info)})
            if len(self._rate_marks) >= 2:
                (t0, n0), (t1, n1) = self._rate_marks[0], self._rate_marks[-1]
                st.rate_hz = (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0
            if time.monotonic() - (self._rate_marks[-1][0] if self._rate_marks else 0.0) > 2.0:
                st.rate_hz = 0.0
            return st
