"""``myoxai bench soak``: an hour (or any length) of the whole pipeline at full speed, checking nothing leaks.

The bundled recording is replayed in a loop as fast as the engine takes it (an unpaced replay
waits rather than drops), one 10-sample chunk at a time through ``Engine.process`` with exact
channel Shapley on every window, while a chunk listener records every sample to an XDF file —
the same path ``myoxai live`` and a recording take. It reports:

- samples in (emitted by the source) vs out (processed by the engine, and in the file): equal;
- decisions vs the windows the samples make: equal;
- resident memory at start (after warm-up), peak and end, and the growth from start to end;
- decision latency p50/p99 per block (5 minutes by default), to show any upward trend;
- the file's size per block against the samples in it (bytes per sample stays constant).

Latency is timed from the moment the engine has a chunk to the moment its decision is published.
The machine's other load is not controlled; figures from a loaded machine are upper bounds.
"""

from __future__ import annotations

import argparse
import os
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.bench.report import Result

HELP = "soak: replay the bundled recording for --minutes through the engine with exact Shapley while recording XDF"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai bench soak`` options, added to its subcommand parser."""
    parser.add_argument("--minutes", type=float, default=60.0, help="wall-clock minutes to run (default 60)")
    parser.add_argument("--block-minutes", type=float, default=5.0, help="latency/file-size block (default 5)")
    parser.add_argument("--warmup-seconds", type=float, default=20.0,
                        help="seconds before the starting memory figure is taken (default 20)")
    parser.add_argument("--xdf", metavar="FILE", default=None,
                        help="keep the recording here (default: a temporary file, removed at the end)")


def rss_bytes() -> int:
    """Resident set size of this process (Linux ``/proc``; falls back to the peak from ``getrusage``)."""
    try:
        with open("/proc/self/statm") as f:
            return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


class _Block:
    """Latencies and file growth of one block of the run."""

    def __init__(self, start_s: float, samples: int, size: int) -> None:
        self.start_s, self.samples0, self.size0 = start_s, samples, size
        self.latencies: list[float] = []

    def summary(self, end_s: float, samples: int, size: int) -> dict[str, float]:
        lat = np.asarray(self.latencies) * 1e3
        n = samples - self.samples0
        return {"start_min": self.start_s / 60, "end_min": end_s / 60, "decisions": float(len(lat)),
                "p50_ms": float(np.percentile(lat, 50)) if len(lat) else float("nan"),
                "p99_ms": float(np.percentile(lat, 99)) if len(lat) else float("nan"),
                "samples": float(n), "bytes_per_sample": (size - self.size0) / n if n else float("nan")}


def soak(minutes: float, block_minutes: float = 5.0, warmup_s: float = 20.0, xdf: str | Path | None = None,
         progress: bool = True) -> dict[str, Any]:
    """Run the soak; returns its figures (see the module docstring)."""
    from myoxai.config import DEFAULT_CONFIG
    from myoxai.engine import Engine
    from myoxai.io.open import BUNDLED_RECORDING
    from myoxai.io.xdf import EmgXdfRecorder, read_recording
    from myoxai.io.xdf_scan import scan_xdf
    from myoxai.live.setup import load_live_model
    from myoxai.models import torch_threads
    from myoxai.sources.replay import ReplaySource

    rec = read_recording(BUNDLED_RECORDING)
    source = ReplaySource(rec, speed=0, loop=True, chunk=10, queue_chunks=50)  # small drains: fine timing
    engine = Engine(source, load_live_model(None), explain=True)
    folder = None
    if xdf is None:
        folder = tempfile.TemporaryDirectory(prefix="myoxai-soak-")
        xdf = Path(folder.name) / "soak.xdf"
    recorder = EmgXdfRecorder(xdf, rec.fs, rec.class_names, rec.n_channels, meta={"source": "bench soak"})

    def record(chunks: list[Any]) -> None:
        for c in chunks:
            recorder.append(c.samples, c.timestamps)

    engine.add_chunk_listener(record)
    processed = decisions = 0
    rss: list[tuple[float, int]] = []
    blocks: list[dict[str, float]] = []
    t0 = time.perf_counter()
    block = _Block(0.0, 0, 0)
    rss_start: int | None = None
    next_rss = 0.0
    source.start()
    try:
        with torch_threads(1):
            while (elapsed := time.perf_counter() - t0) < minutes * 60:
                for chunk in source.read(1.0):
                    got = engine.process([chunk], time.perf_counter())
                    block.latencies.extend(d.latency_s for d in got)
                    decisions += len(got)
                    processed += len(chunk)
                if elapsed >= next_rss:
                    rss.append((elapsed, rss_bytes()))
                    next_rss = elapsed + 1.0
                    if rss_start is None and elapsed >= warmup_s:
                        rss_start = rss[-1][1]
                if elapsed >= block.start_s + block_minutes * 60:
                    blocks.append(block.summary(elapsed, recorder.samples_written, recorder.writer.bytes_written))
                    if progress:
                        b = blocks[-1]
                        print(f"soak {b['end_min']:6.1f} min: {processed} samples, {decisions} decisions, "
                              f"p50 {b['p50_ms']:.2f} ms p99 {b['p99_ms']:.2f} ms, RSS {rss[-1][1] / 1e6:.0f} MB",
                              flush=True)
                    block = _Block(elapsed, recorder.samples_written, recorder.writer.bytes_written)
    finally:
        source.stop()
        # what the source had queued when stopped is processed too: nothing emitted is left out
        for chunk in source.read(0):
            got = engine.process([chunk], time.perf_counter())
            block.latencies.extend(d.latency_s for d in got)
            decisions += len(got)
            processed += len(chunk)
        recorder.close()
    elapsed = time.perf_counter() - t0
    if block.latencies or not blocks:
        blocks.append(block.summary(elapsed, recorder.samples_written, recorder.writer.bytes_written))
    rss.append((elapsed, rss_bytes()))
    st = source.status()
    layout = scan_xdf(xdf)
    in_file = next(s.samples for s in layout.streams.values() if s.type == "EMG")
    expected = max(0, (processed - DEFAULT_CONFIG.window) // DEFAULT_CONFIG.step + 1)
    start = rss_start if rss_start is not None else rss[0][1]
    result = {"minutes": elapsed / 60, "samples_in": st.samples_received, "samples_processed": processed,
              "samples_in_file": in_file, "samples_lost": st.samples_lost, "samples_dropped": st.samples_dropped,
              "decisions": decisions, "decisions_expected": expected, "loops": processed / len(rec),
              "rss_start_mb": start / 1e6, "rss_peak_mb": max(v for _, v in rss) / 1e6,
              "rss_end_mb": rss[-1][1] / 1e6, "rss_growth_pct": 100 * (rss[-1][1] - start) / start,
              "file_mb": layout.size / 1e6, "file_bytes_per_sample": layout.size / max(in_file, 1),
              "blocks": blocks}
    if folder is not None:
        folder.cleanup()
    return result


def run(args: argparse.Namespace) -> list[Result]:
    """Latency, memory and file growth of a long replay through the engine while recording XDF."""
    from myoxai.errors import MyoxaiError

    if not (args.minutes > 0 and args.block_minutes > 0):
        raise MyoxaiError("--minutes and --block-minutes must be positive")
    r = soak(args.minutes, args.block_minutes, args.warmup_seconds, args.xdf)
    params = {"minutes": round(r["minutes"], 2), "torch_threads": 1, "explain": "exact Shapley, every window"}
    out = [Result(f"soak.{key}", float(r[key]), unit, params) for key, unit in (
        ("samples_in", "samples"), ("samples_processed", "samples"), ("samples_in_file", "samples"),
        ("samples_lost", "samples"), ("samples_dropped", "samples"), ("decisions", "decisions"),
        ("decisions_expected", "decisions"), ("loops", "loops"), ("rss_start_mb", "MB"), ("rss_peak_mb", "MB"),
        ("rss_end_mb", "MB"), ("rss_growth_pct", "%"), ("file_mb", "MB"), ("file_bytes_per_sample", "B"))]
    for i, b in enumerate(r["blocks"]):
        p = params | {"block": i, "from_min": round(b["start_min"], 2), "to_min": round(b["end_min"], 2),
                      "decisions": int(b["decisions"])}
        out += [Result("soak.block.latency_p50", b["p50_ms"], "ms", p),
                Result("soak.block.latency_p99", b["p99_ms"], "ms", p),
                Result("soak.block.bytes_per_sample", b["bytes_per_sample"], "B", p)]
    return out
