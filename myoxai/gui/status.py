"""Status bar text: source, measured rate, lost samples, decision latency p50/p99, CPU, frame rate."""

from __future__ import annotations

from typing import Any

COMPACT_BELOW_PX = 1500  # narrower windows show the compact form (the full one is the tooltip)


def status_text(engine_status: Any, source_desc: str, cpu_percent: float, fps: float, compact: bool = False) -> str:
    """One line for the status bar from an ``EngineStatus``; ``compact``: the short form for narrow windows."""
    st = engine_status
    if compact:
        name = source_desc.rsplit("/", 1)[-1]
        parts = [f"{name} [{st.source_state or st.state}]", f"{st.source_rate_hz:.0f} Hz",
                 *(f"{k} {v}" for k, v in (("lost", st.samples_lost), ("dropped", st.samples_dropped),
                                             ("gaps", st.gaps)) if v),
                 f"p50/p99 {st.latency_p50_ms:.0f}/{st.latency_p99_ms:.0f} ms", f"CPU {cpu_percent:.0f}%",
                 f"{fps:.0f} fps"]
        if st.behind:
            parts.append("BEHIND")
        if st.error:
            parts.append(f"ERROR: {st.error}")
        return " | ".join(parts)
    parts = [f"source: {source_desc} [{st.source_state or st.state}]", f"{st.source_rate_hz:.0f} Hz",
             f"lost {st.samples_lost}", f"dropped {st.samples_dropped}", f"gaps {st.gaps}",
             f"latency p50 {st.latency_p50_ms:.1f} / p99 {st.latency_p99_ms:.1f} ms",
             f"CPU {cpu_percent:.0f}%", f"{fps:.0f} fps"]
    if st.behind:
        parts.append("BEHIND: processing lags the source")
    if st.error:
        parts.append(f"ERROR: {st.error}")
    return "  |  ".join(parts)
