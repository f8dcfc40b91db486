"""The online pipeline: source chunks → streaming dsp → model → explainer → decisions → drift → subscribers.

One engine thread does everything per chunk batch: it drains the source (the source's own queue
is bounded and counts what it drops), then ``process`` runs its stages in order:

1. windows — ``ChunkWindows`` pushes the chunks through one ``WindowStream`` and returns every
   window they complete with its timestamp, label and ``after_gap`` flag (a gap resets the dsp and
   the vote: windows are never bridged across it);
2. classify and explain — the model and its explainer (default exact channel Shapley) on all windows;
3. decide — post-processing (vote, rejection) makes each window's ``Decision``;
4. drift — the drift stage (``drift_stage``, when the engine has one) takes the decisions in;
5. publish — one ``DecisionBatch`` (decisions + drift assessment) to bounded ``Subscription``
   mailboxes and non-blocking sinks. Nothing waits on a reader, so a stalled GUI can never stall acquisition.

The active model and its explainer are one immutable tuple, read once per batch and replaced by one
assignment: a swap is atomic between two decisions. Sinks whose columns depend on the gestures are
rebuilt when a model with other gestures takes over.
"""

from __future__ import annotations

import collections
import dataclasses
import logging
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from myoxai.config import DEFAULT_CONFIG, SignalConfig
from myoxai.engine.active import ActiveModel, EngineSource, Model, check_source, model_class_names
from myoxai.engine.buffer import WindowRing
from myoxai.engine.decision import DecisionBatch, DecisionColumns, Subscription, percentile_ms
from myoxai.engine.drift import make_drift_stage
from myoxai.engine.postprocess import DEFAULT_VOTE, PostProcessor
from myoxai.engine.sinks import ClassSinks, DecisionSink, SinkFactory
from myoxai.engine.status import EngineStatus
from myoxai.engine.windowing import ChunkWindows
from myoxai.engine.worker import ThreadOwner
from myoxai.errors import MyoxaiError
from myoxai.sources.base import Chunk

log = logging.getLogger(__name__)

ChunkListener = Callable[[Sequence[Chunk]], None]
ExplainerFactory = Callable[[Model, SignalConfig], Any]  # myoxai.explain.methods.explainer_factory(name)
Sink = Callable[[DecisionBatch], None]
__all__ = ["ActiveModel", "Engine", "EngineSource", "EngineStatus", "Model", "model_class_names"]


class Engine(ThreadOwner):
    """Pull chunks from a source, classify and explain every window, publish decisions.

    Parameters
    ----------
    source:
        A ``myoxai.sources`` source; its rate and channel count must be the config's.
    model:
        A ``myoxai.models`` model (its ``input_kind`` selects spectrograms or windows).
    config:
        Signal config; must match the model's (``myoxai.models.check_model_config``: at start and on every swap).
    explain:
        Attribute every decision to the electrodes (False: probabilities only).
    explainer:
        ``(model, config) -> explainer or None`` for each model made active (its ``explain_decisions(x)``
        gives φ); default ``myoxai.explain.methods.explainer_factory("shapley", chunk=8)``.
    vote, threshold:
        Post-processing (majority vote length, rejection threshold); changeable live with ``set_postprocessing``.
    buffer_minutes:
        Length of the unlabeled-window ring kept for recalibration.
    highpass:
        Apply the causal high-pass (False for data already filtered with the same filter).
    behind_s:
        A drain holding more than this much signal marks the engine as behind.
    drift:
        Run the drift stage when the model carries a drift reference.

    Attributes
    ----------
    drift_stage:
        The ``DriftMonitor`` between decisions and publication, or None (``set_reference`` after Quick adapt).

    Raises
    ------
    MyoxaiError
        When the source's sampling rate or channel count differs from the config's.
    """

    def __init__(self, source: EngineSource, model: Model, config: SignalConfig = DEFAULT_CONFIG,
                 explain: bool = True, vote: int = DEFAULT_VOTE, threshold: float = 0.0, buffer_minutes: float = 5.0,
                 highpass: bool = True, behind_s: float = 0.5, explainer: ExplainerFactory | None = None,
                 drift: bool = False) -> None:
        check_source(source, config)
        self.source = source
        self.config = config
        self.explain = explain
        self.explainer = explainer
        self.post = PostProcessor(vote, threshold)
        self.behind_s = behind_s
        self.windowing = ChunkWindows(config, highpass=highpass)
        self._version = 0
        self._active = self._make_active(model, "initial")
        self._previous: ActiveModel | None = None
        self._subs: list[Subscription] = []
        self._sinks: list[Sink] = []
        self._outputs = ClassSinks()
        self._chunk_listeners: list[ChunkListener] = []
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._latencies: collections.deque[float] = collections.deque(maxlen=2000)
        self._load_marks: collections.deque[tuple[float, float]] = collections.deque(maxlen=200)
        self._status = EngineStatus()
        shape = config.spec_shape if self.input_kind == "spectrogram" else (config.window, config.n_channels)
        self.buffer = WindowRing(int(buffer_minutes * 60 * config.fs / config.step), shape)
        self.drift_stage = make_drift_stage(lambda: self._active.model, config.step / config.fs) if drift else None

    # -- model management ------------------------------------------------------------------------
    def _make_active(self, model: Model, origin: str) -> ActiveModel:
        from myoxai.models import check_model_config  # pulls in torch, like the explainers

        check_model_config(model, self.config)
        explainer = None
        if self.explain:
            if self.explainer is None:  # imported here: the explainers pull in torch
                from myoxai.explain.methods import explainer_factory
                self.explainer = explainer_factory("shapley", chunk=8)
            explainer = self.explainer(model, self.config)  # None for a model it cannot explain (LDA)
        self._version += 1
        return ActiveModel(model, explainer, self._version, model_class_names(model, model.n_classes), origin)

    @property
    def active(self) -> ActiveModel:
        """The model now deciding, with its explainer and version."""
        return self._active

    @property
    def input_kind(self) -> str:
        """What the active model consumes: ``"spectrogram"`` or ``"window"``."""
        return self._active.model.input_kind

    @property
    def class_names(self) -> tuple[str, ...]:
        """The active model's gestures."""
        return self._active.class_names

    def swap_model(self, model: Model, origin: str = "swapped", new_classes: bool = False) -> ActiveModel:
        """Make ``model`` active from the next decision on; the current one is kept for ``revert``.

        ``new_classes=True`` allows a model with other gestures (e.g. from the calibration wizard);
        there is then nothing meaningful to revert to, so the previous model is dropped.
        """
        if model.input_kind != self.input_kind:
            raise MyoxaiError("the new model reads a different input kind; restart the engine with it instead")
        same = model_class_names(model, model.n_classes) == self._active.class_names
        if not same and not new_classes:
            raise MyoxaiError(f"the new model's gestures {model_class_names(model, model.n_classes)} differ from "
                              f"the running model's {self._active.class_names}; load it as a new model instead")
        new = self._make_active(model, origin)  # explainer built off the hot path
        with self._lock:
            self._previous, self._active = (self._active if same else None), new
        self.post.reset()
        log.info("engine: model v%d (%s) active", new.version, origin)
        return new

    def revert(self) -> ActiveModel:
        """Swap the previous model back in (the reverted one becomes the new 'previous')."""
        with self._lock:
            if self._previous is None:
                raise MyoxaiError("no previous model to revert to")
            self._previous, self._active = self._active, self._previous
        self.post.reset()
        return self._active

    def commit(self) -> None:
        """Forget the previous model (the user accepted the active one)."""
        with self._lock:
            self._previous = None

    def set_postprocessing(self, vote: int | None = None, threshold: float | None = None) -> None:
        """Change the vote length and/or the rejection threshold from the next decision on (any thread)."""
        if (vote is not None and vote < 1) or (threshold is not None and not 0.0 <= threshold <= 1.0):
            raise MyoxaiError(f"vote {vote}, threshold {threshold}: vote over at least 1 decision, threshold 0 to 1")
        self.post.vote = self.post.vote if vote is None else int(vote)
        self.post.threshold = self.post.threshold if threshold is None else float(threshold)

    # -- subscribers -----------------------------------------------------------------------------
    def subscribe(self, maxlen: int = 1000) -> Subscription:
        """A bounded mailbox that receives every decision from now on."""
        sub = Subscription(maxlen=maxlen)
        with self._lock:
            self._subs.append(sub)
        return sub

    def unsubscribe(self, sub: Subscription) -> None:
        """Stop publishing to ``sub`` (a no-op when it is not subscribed)."""
        with self._lock:
            if sub in self._subs:
                self._subs.remove(sub)

    def add_sink(self, sink: Sink) -> None:
        """Call ``sink(batch)`` with every ``DecisionBatch``, in the engine thread; it must not block.

        The caller owns ``sink``. A sink that lays out columns per gesture or holds a file or an
        outlet belongs in ``add_sink_factory`` instead.
        """
        with self._lock:
            self._sinks.append(sink)

    def add_sink_factory(self, factory: SinkFactory) -> DecisionSink:
        """Build ``factory(class_names)`` now; the engine rebuilds it on a class change and closes it on stop."""
        return self._outputs.add(factory, self.class_names)

    @property
    def owned_sinks(self) -> list[DecisionSink]:
        """The sinks built from ``add_sink_factory`` factories, as they are now."""
        return self._outputs.sinks

    def remove_sink(self, sink: Sink) -> None:
        """Stop calling ``sink`` (a no-op when it is not registered)."""
        with self._lock:
            if sink in self._sinks:
                self._sinks.remove(sink)

    def add_chunk_listener(self, listener: ChunkListener) -> None:
        """Call ``listener(chunk)`` with every raw chunk (e.g. a recorder); it must not block."""
        with self._lock:
            self._chunk_listeners.append(listener)

    def remove_chunk_listener(self, listener: ChunkListener) -> None:
        """Stop calling ``listener`` (a no-op when it is not registered)."""
        with self._lock:
            if listener in self._chunk_listeners:
                self._chunk_listeners.remove(listener)

    # -- running ---------------------------------------------------------------------------------
    def start(self) -> None:
        """Start the source and the engine thread."""
        if self._thread is not None:
            return
        self._stop.clear()
        self.source.start()
        self._status.state = "running"
        self._thread = threading.Thread(target=self._run, name="myoxai-engine", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the engine thread and the source."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout)
            if self._thread.is_alive():
                log.error("engine thread did not stop within %.1f s", timeout)
            self._thread = None
        self.source.stop()
        self._outputs.close()
        if self._status.state == "running":
            self._status.state = "stopped"

    def _run(self) -> None:
        try:
            while not self._stop.is_set():
                if not self.step(timeout=0.1) and not self.source.running:
                    self._status.state = "finished"
                    break
        except Exception as exc:  # surfaced through status(); the GUI shows it
            if isinstance(exc, MyoxaiError):  # a user-fixable cause (no dongle…): the message says it all
                log.debug("engine stopped: %s", exc, exc_info=True)
            else:
                log.exception("engine failed")
            self._status.state = "error"
            self._status.error = str(exc)

    MAX_BATCH_SAMPLES = 1000  # a backlog is worked off in slices (≤ 100 windows) so frames and stop() stay responsive

    def step(self, timeout: float = 0.1) -> list[DecisionColumns]:
        """Drain the source once and process what arrived in as few batches as possible (the thread's loop body).

        A live source yields a window or two per drain, a max-speed replay hundreds: the same decisions either way.
        """
        chunks = self.source.read(timeout)
        if not chunks:
            return []
        t_in = time.perf_counter()
        self._status.behind = sum(len(c) for c in chunks) / self.config.fs > self.behind_s
        out: list[DecisionColumns] = []
        batch: list[Chunk] = []
        for c in chunks:
            batch.append(c)
            if sum(len(b) for b in batch) >= self.MAX_BATCH_SAMPLES:
                out.append(self.process(batch, t_in))
                batch = []
                if self._stop.is_set():
                    return out  # stopping: the rest of the backlog is not needed
        return out + [self.process(batch, t_in)] if batch else out

    def process(self, chunks: Sequence[Chunk], t_in: float) -> DecisionColumns | tuple:
        """Classify every window the chunks complete; publish and return the decisions (columns; ``()`` if none).

        ``t_in`` is when the chunks were drained from the source (the start of each decision's latency).
        """
        t_start = time.perf_counter()
        with self._lock:
            listeners = list(self._chunk_listeners)
        for listener in listeners:
            self._call(listener, chunks)
        self._status.gaps += sum(c.gap > 0 for c in chunks)
        new = self.windowing.push(chunks)
        out: DecisionColumns | tuple = ()
        if new is not None:
            active = self._active  # one read: the whole batch uses one model
            x = new.model_input(active.model.input_kind)
            proba, phi, total, inter = active.classify(x)
            self.buffer.extend(x, new.timestamps, new.after_gap)
            labels, confidences = np.empty(len(new), np.int64), np.empty(len(new))
            cuts = [0, *np.flatnonzero(new.after_gap[1:]) + 1, len(new)]
            for a, b in zip(cuts[:-1], cuts[1:], strict=True):  # the vote restarts at the first window after a gap
                if new.after_gap[a]:
                    self.post.reset()
                labels[a:b], confidences[a:b] = self.post.batch(proba[a:b])
            out = DecisionColumns(new, proba, proba.argmax(axis=1), labels, confidences, phi, total, inter,
                                  time.perf_counter() - t_in, active.version, active.class_names)
            self._publish(out)
        self._note_load(t_start, sum(len(c) for c in chunks))
        return out

    def _publish(self, decisions: DecisionColumns) -> None:
        stage = self.drift_stage  # the drift stage takes the decisions in; the batch carries its assessment
        trend = () if stage is None else tuple(self._call(stage, decisions) or ())
        batch = DecisionBatch(decisions, None if stage is None else stage.latest, trend)
        with self._lock:
            subs, sinks = list(self._subs), list(self._sinks)
        for sub in subs:
            sub.put(batch)
        for sink in sinks:
            self._call(sink, batch)
        self._outputs.publish(batch, self._call)
        self._latencies.extend([decisions.latency_s] * len(decisions))
        self._status.decisions += len(decisions)

    def _call(self, fn: Callable, arg: Any) -> Any:
        try:
            return fn(arg)
        except Exception:  # a broken sink (or drift stage) must not stop classification: logged, counted, None
            log.exception("decision sink %r failed", fn)
            self._status.sink_errors += 1
            return None

    def _note_load(self, t_in: float, n_signal: int) -> None:
        self._load_marks.append((time.perf_counter() - t_in, n_signal / self.config.fs))

    # -- status ----------------------------------------------------------------------------------
    def status(self) -> EngineStatus:
        """A snapshot of the pipeline's health, with the source's."""
        st = dataclasses.replace(self._status)
        lat = list(self._latencies)
        st.latency_p50_ms, st.latency_p99_ms = percentile_ms(lat, 50), percentile_ms(lat, 99)
        marks = list(self._load_marks)
        sig = sum(m[1] for m in marks)
        st.load = sum(m[0] for m in marks) / sig if sig else 0.0
        try:
            src = self.source.status()
            st.samples_lost, st.samples_dropped = src.samples_lost, src.samples_dropped
            st.source_rate_hz, st.source_state = src.rate_hz, src.state
            if src.error and not st.error:
                st.error = src.error
        except AttributeError:  # a test stand-in without status()
            pass
        st.buffered_windows = len(self.buffer)
        st.buffered_seconds = self.buffer.seconds(self.config.step / self.config.fs)
        st.model_version, st.model_origin = self._active.version, self._active.origin
        st.can_revert = self._previous is not None
        return st

    def peek_emg(self, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The latest ``n`` raw samples from the source's display ring (nothing is consumed)."""
        return self.source.peek(n)
