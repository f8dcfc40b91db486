"""The online pipeline between a source and its viewers.

- ``build_engine(EngineOptions(...))`` (``myoxai.engine.setup``) — the one way the live app, the GUI's
  source switch and ``myoxai bench live`` build an engine: source spec, model, post-processing, sinks.
- ``Engine(source, model, ...)`` — one thread: chunks → streaming dsp → model → exact channel
  Shapley for every window → post-processing (vote, rejection) → ``Decision`` records published to
  bounded ``Subscription`` mailboxes (``engine.subscribe()``) and non-blocking sinks
  (``engine.add_sink``); raw chunks go to ``engine.add_chunk_listener`` (recorders). It keeps the
  last minutes of unlabeled windows (``engine.buffer``) and swaps models atomically
  (``swap_model`` / ``revert`` / ``commit``).
- ``Recalibration(engine, source_data)`` — SCADANN (``myoxai.adapt.recalibrate``) on the buffered
  windows in a worker thread, with progress and cancel; the result is swapped in for the user to
  accept or revert.
- ``LslDecisionOutlet`` (the ``myoxai-decisions`` LSL stream) and ``DecisionLog`` (a recorder).
- ``myoxai.engine.bundled`` — the demo model trained on the first part of the bundled recording.
"""

from __future__ import annotations

from myoxai.engine.buffer import BufferedWindows, WindowRing
from myoxai.engine.decision import REJECTED, Decision, Subscription
from myoxai.engine.engine import ActiveModel, Engine, EngineStatus
from myoxai.engine.postprocess import PostProcessor
from myoxai.engine.recalibration import Recalibration, RecalibrationState
from myoxai.engine.setup import EngineOptions, build_engine
from myoxai.engine.sinks import DecisionLog, LslDecisionOutlet

__all__ = ["REJECTED", "ActiveModel", "BufferedWindows", "Decision", "DecisionLog", "Engine", "EngineOptions",
           "EngineStatus", "LslDecisionOutlet", "PostProcessor", "Recalibration", "RecalibrationState", "Subscription",
           "WindowRing", "build_engine"]
