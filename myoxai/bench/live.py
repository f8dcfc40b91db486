"""``myoxai bench live``: decision latency, replay throughput and the GUI's frame rate / CPU share.

- latency: the bundled recording (240 s) replayed in a loop at max speed for ``--minutes`` of
  signal; every 10-sample chunk is handed to the engine on its own and timed from the moment the
  engine has it to the moment its decision (model + exact Shapley + post-processing) is published.
- throughput: the engine thread running free on the same replay (it drains whatever is queued
  and explains the windows in batches), with and without Shapley, in × real time.
- gui: ``myoxai live`` under Xvfb at real time for ``--gui-seconds``, then again with a SCADANN
  recalibration started once 12 s of windows are buffered: frames per second and process CPU.

The machine's other load is not controlled; run it on an idle machine for reference numbers.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.bench.report import Result
from myoxai.engine.setup import EngineOptions, build_engine

HELP = "live pipeline: decision latency with exact Shapley, replay throughput, GUI frame rate under Xvfb"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--minutes", type=float, default=5.0, help="signal minutes for the latency run (default 5)")
    parser.add_argument("--throughput-minutes", type=float, default=2.0,
                        help="signal minutes per throughput run (default 2)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch thread counts for throughput")
    parser.add_argument("--gui-seconds", type=float, default=20.0, help="seconds of GUI streaming (default 20)")
    parser.add_argument("--skip-gui", action="store_true", help="do not start the GUI under Xvfb")


def _options(explain: bool) -> EngineOptions:
    """The bench's engine: the bundled recording (240 s, all of it) looped at max speed, the bundled model."""
    from myoxai.io.open import BUNDLED_RECORDING

    return EngineOptions(source=f"replay:{BUNDLED_RECORDING}", speed=0.0, loop=True, explain=explain)


def latency(minutes: float, explain: bool = True) -> tuple[np.ndarray, int]:
    """Per-chunk latencies (s) of decisions, one chunk at a time (the process runs one torch thread)."""
    engine, _ = build_engine(_options(explain))
    source = engine.source
    n_samples = int(minutes * 60 * engine.config.fs)
    lat: list[float] = []
    done = 0
    source.start()
    try:
        while done < n_samples:
            for chunk in source.read(1.0):
                t_in = time.perf_counter()
                lat.extend(d.latency_s for d in engine.process([chunk], t_in))
                done += len(chunk)
                if done >= n_samples:
                    break
    finally:
        engine.stop()
    return np.asarray(lat), done


def throughput(minutes: float, explain: bool, threads: int) -> float:
    """Signal seconds processed per wall second by the free-running engine thread."""
    from myoxai.models import set_torch_threads

    set_torch_threads(threads)
    engine, _ = build_engine(_options(explain))
    sub = engine.subscribe(maxlen=10)
    target = int(minutes * 60 * engine.config.fs) // engine.config.step
    t0 = time.perf_counter()
    engine.start()
    try:
        while engine.status().decisions < target and engine.running:
            time.sleep(0.05)
        wall = time.perf_counter() - t0
        made = engine.status().decisions
    finally:
        engine.stop()
        engine.unsubscribe(sub)
        set_torch_threads(1)
    return made * engine.config.step / engine.config.fs / wall


def gui_probe(seconds: float, out: str, recalibrate_at: float | None = None) -> int:
    """Run the live window for ``seconds`` and write its probe JSON to ``out`` (in the Xvfb child process).

    Once a second the probe records the window's frame rate and the process CPU share, and whether
    a recalibration is running; ``recalibrate_at`` starts one (SCADANN on the buffer) after that many seconds.
    """
    from PyQt6 import QtCore

    from myoxai.gui.app import run_app
    from myoxai.models import set_torch_threads

    set_torch_threads(1)
    samples: list[dict[str, float]] = []
    t0 = time.perf_counter()

    def on_start(window: Any) -> Any:
        def sample() -> None:
            job = window.recalibrate.job
            samples.append({"t": time.perf_counter() - t0, "fps": window.fps, "cpu": window.cpu_percent,
                            "recalibrating": float(job is not None and job.running)})

        probe = QtCore.QTimer(window)
        probe.timeout.connect(sample)
        probe.start(1000)
        if recalibrate_at is not None:
            QtCore.QTimer.singleShot(int(recalibrate_at * 1000), window.recalibrate.start)

        def write() -> None:
            st = window.engine.status()
            job = window.recalibrate.job
            rc = job.state() if job is not None else None
            Path(out).write_text(json.dumps({
                "samples": samples, "decisions": st.decisions, "frames": window.frames,
                "latency_p50_ms": st.latency_p50_ms, "latency_p99_ms": st.latency_p99_ms,
                "recalibration": None if rc is None else {"state": rc.state, "verdict": rc.verdict,
                                                         "message": rc.message}}))

        return write

    return run_app(EngineOptions(), quit_after=seconds, on_start=on_start)


def gui_run(seconds: float, recalibrate_at: float | None) -> dict[str, Any] | None:
    """Run ``gui_probe`` under Xvfb in a child process; returns its probe JSON (None without xvfb-run)."""
    xvfb = shutil.which("xvfb-run")
    if xvfb is None:
        return None
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "gui.json"
        cmd = [xvfb, "-a", "-s", "-screen 0 1600x1000x24", sys.executable, "-m", "myoxai.bench.live",
               "--probe-seconds", str(seconds), "--probe-json", str(out)]
        if recalibrate_at is not None:
            cmd += ["--recalibrate-at", str(recalibrate_at)]
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        subprocess.run(cmd, check=True, timeout=seconds + 120, env=env, capture_output=True)
        return json.loads(out.read_text())


def run(args: argparse.Namespace) -> list[Result]:
    from myoxai.models import set_torch_threads

    set_torch_threads(1)
    results: list[Result] = []
    lat, n = latency(args.minutes, explain=True)
    p = {"signal_s": round(n / 200.0, 1), "threads": 1, "model": "bundled allconvnet (8,16,16,32)",
         "chunk": 10, "decisions": int(len(lat))}
    results += [Result("live.latency_shapley_p50", float(np.percentile(lat, 50) * 1e3), "ms", p),
                Result("live.latency_shapley_p99", float(np.percentile(lat, 99) * 1e3), "ms", p)]
    lat0, _ = latency(min(args.minutes, 1.0), explain=False)
    p0 = {**p, "decisions": int(len(lat0)), "signal_s": min(args.minutes, 1.0) * 60}
    results += [Result("live.latency_classify_p50", float(np.percentile(lat0, 50) * 1e3), "ms", p0),
                Result("live.latency_classify_p99", float(np.percentile(lat0, 99) * 1e3), "ms", p0)]
    for threads in args.threads:
        for explain in (True, False):
            x = throughput(args.throughput_minutes, explain, threads)
            name = "live.throughput_shapley" if explain else "live.throughput_classify"
            results.append(Result(name, x, "x", {"threads": threads, "signal_min": args.throughput_minutes}))
    if not args.skip_gui:
        for recal in (None, 12.0):
            rep = gui_run(args.gui_seconds if recal is None else max(args.gui_seconds, 45.0), recal)
            if rep is None:
                results.append(Result("live.gui_skipped", 1.0, "", {"reason": "xvfb-run not installed"}))
                break
            s = [x for x in rep["samples"] if x["t"] > 2.0]  # skip start-up
            if recal is not None:
                s = [x for x in s if x["recalibrating"]]
            tag = "gui_recalibrating" if recal is not None else "gui"
            params = {"seconds": len(s), "speed": "real time", "recalibration": rep.get("recalibration")}
            if s:
                results += [Result(f"live.{tag}_fps_median", float(np.median([x["fps"] for x in s])), "fps", params),
                            Result(f"live.{tag}_fps_min", float(np.min([x["fps"] for x in s])), "fps", params),
                            Result(f"live.{tag}_cpu_percent", float(np.mean([x["cpu"] for x in s])), "%",
                                   {**params, "note": "process CPU, 100 = one core"})]
    return results


if __name__ == "__main__":  # the GUI probe's child process (see gui_run)
    probe = argparse.ArgumentParser(description="myoxai bench live: the GUI probe (run under Xvfb by gui_run)")
    probe.add_argument("--probe-seconds", type=float, required=True)
    probe.add_argument("--probe-json", required=True)
    probe.add_argument("--recalibrate-at", type=float, default=None)
    a = probe.parse_args()
    sys.exit(gui_probe(a.probe_seconds, a.probe_json, a.recalibrate_at))
