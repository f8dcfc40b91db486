"""The online pipeline core: one thread from a source's chunks to published decisions.

- ``Engine(source, model, ...)`` — chunks → streaming dsp → model → exact channel Shapley for every
  window → post-processing (vote, rejection) → ``Decision`` records → the drift stage → one
  ``DecisionBatch`` (decisions + drift assessment) published to bounded ``Subscription`` mailboxes
  (``engine.subscribe()``) and non-blocking sinks (``engine.add_sink``); raw chunks go to
  ``engine.add_chunk_listener`` (recorders). It keeps the last minutes of unlabeled windows
  (``engine.buffer``) and swaps models atomically (``swap_model`` / ``revert`` / ``commit``).
- ``myoxai.engine.drift`` — the drift stage (``engine.drift_stage``), between the decisions and their publication.
- ``LslDecisionOutlet`` (the ``myoxai-decisions`` LSL stream) and ``DecisionLog`` (a recorder).

What is built on this core for the app (the engine builder with its bundled demo assets, calibration,
recalibration, Motion Test, drift references, the recording writer) lives in ``myoxai.live``.
"""

from __future__ import annotations

from myoxai.engine.buffer import BufferedWindows, WindowRing
from myoxai.engine.decision import REJECTED, Decision, DecisionBatch, Subscription
from myoxai.engine.engine import ActiveModel, Engine, EngineStatus
from myoxai.engine.postprocess import PostProcessor
from myoxai.engine.sinks import DecisionLog, LslDecisionOutlet

__all__ = ["REJECTED", "ActiveModel", "BufferedWindows", "Decision", "DecisionBatch", "DecisionLog", "Engine",
           "EngineStatus", "LslDecisionOutlet", "PostProcessor", "Subscription", "WindowRing"]
