"""What the app builds on the engine core: one module (or folder) a feature.

- ``setup`` — ``build_engine(EngineOptions(...))``, the one way the live app, the GUI's source switch
  and ``myoxai bench live`` build an engine (source spec, model, post-processing, drift stage, sinks).
- ``bundled`` — the bundled recording's demo model and its labelled training data.
- ``drift_reference`` — a model's drift reference, computed when it is trained or recalibrated.
- ``quick_adapt`` — Quick adapt: the registered default pipeline, the no-harm check on held-back
  windows, the adapted model's drift reference (what it now expects).
- ``recalibration`` (+ ``recalibration_child``) — Recalibrate's state machine: the checked Quick adapt,
  SCADANN in a child process, then Accept or Revert.
- ``history`` — Undo: the model before the last change, put back exactly.
- ``calibration``, ``quick_calibration``, ``writer`` — the calibration wizard's schedule, its quick
  (transfer) mode and its crash-safe recording.
- ``motion`` — BioPatRec's Motion Test: scoring, the live session and its figure.
"""

from __future__ import annotations

from myoxai.live.recalibration import Recalibration, RecalibrationState
from myoxai.live.setup import EngineOptions, build_engine

__all__ = ["EngineOptions", "Recalibration", "RecalibrationState", "build_engine"]
