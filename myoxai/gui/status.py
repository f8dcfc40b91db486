"""Status bar text: source, measured rate, lost samples, decision latency p50/p99, CPU, frame rate."""

from __future__ import annotations

from typing import Any


def status_text(engine_status: Any, source_desc: str, cpu_percent: float, fps: float) -> str:
    """One line for the status bar from an ``EngineStatus``."""
    st = engine_status
    parts = [f"source: {source_desc} [{st.source_state or st.state}]", f"{st.source_rate_hz:.0f} Hz",
             f"lost {st.samples_lost}", f"dropped {st.samples_dropped}", f"gaps {st.gaps}",
             f"latency p50 {st.latency_p50_ms:.1f} / p99 {st.latency_p99_ms:.1f} ms",
             f"CPU {cpu_percent:.0f}%", f"{fps:.0f} fps"]
    if st.behind:
        parts.append("BEHIND: processing lags the source")
    if st.error:
        parts.append(f"ERROR: {st.error}")
    return "  |  ".join(parts)
