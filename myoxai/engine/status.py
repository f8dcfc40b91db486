"""The engine's health snapshot (what the status bar and ``--headless`` summary show)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class EngineStatus:
    """Health of the pipeline (a copy; safe to keep)."""

    state: str = "idle"  # idle, running, finished, stopped, error
    decisions: int = 0
    latency_p50_ms: float = float("nan")
    latency_p99_ms: float = float("nan")
    load: float = 0.0  # processing seconds per second of signal, recent (> 1 = cannot keep up at real time)
    behind: bool = False  # the last drain held more than ``behind_s`` of signal: processing lags the source
    gaps: int = 0  # chunks that came after a gap (Chunk.gap > 0); each reset the dsp state
    samples_lost: int = 0
    samples_dropped: int = 0  # dropped by the source's bounded queue (the engine fell behind)
    source_rate_hz: float = 0.0
    source_state: str = ""
    buffered_windows: int = 0
    buffered_seconds: float = 0.0
    model_version: int = 0
    model_origin: str = ""
    can_revert: bool = False
    sink_errors: int = 0
    error: str | None = None
