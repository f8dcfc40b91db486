"""``myoxai bench live``: decision latency, replay throughput and the GUI's frame rate / CPU share.

- latency: the bundled recording (240 s) replayed in a loop at max speed for ``--minutes`` of
  signal; every 10-sample chunk is handed to the engine on its own and timed from the moment the
  engine has it to the moment its decision (model + exact Shapley + post-processing) is published.
- throughput: the engine thread running free on the same replay (it drains whatever is queued
  and explains the windows in batches), with and without Shapley, in × real time, counted from the
  first decision (the replay's file loading is not processing); each ``--model`` in turn, side by side.
- gui: the live window (``myoxai.gui.app.run_app``, built with ``build_engine`` like ``myoxai live``)
  under Xvfb at real time for ``--gui-seconds``, then again with a SCADANN recalibration started once
  12 s of windows are buffered: frames per second, the app's CPU share and memory (RSS), the decision
  latency of the decisions made meanwhile, and the memory of the recalibration's own process.

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
from myoxai.live.setup import EngineOptions, build_engine

HELP = "live pipeline: decision latency with exact Shapley, replay throughput, GUI frame rate under Xvfb"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai bench live`` options, added to its subcommand parser."""
    parser.add_argument("--minutes", type=float, default=5.0, help="signal minutes for the latency run (default 5)")
    parser.add_argument("--throughput-minutes", type=float, default=2.0,
                        help="signal minutes per throughput run (default 2)")
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2], help="torch thread counts for throughput")
    parser.add_argument("--gui-seconds", type=float, default=20.0, help="seconds of GUI streaming (default 20)")
    parser.add_argument("--skip-gui", action="store_true", help="do not start the GUI under Xvfb")
    parser.add_argument("--model", action="append", metavar="FILE",
                        help="model file for the latency and throughput runs; repeatable, measured side by side "
                             "(default: the bundled model)")


def _options(explain: bool, chunk: int | None = None, model: str | None = None, drift: bool = True) -> EngineOptions:
    """The bench's engine: the bundled recording (240 s, all of it) looped at max speed, ``model`` (default bundled)."""
    from myoxai.io.open import BUNDLED_RECORDING

    return EngineOptions(source=f"replay:{BUNDLED_RECORDING}", model=model, speed=0.0, loop=True, explain=explain,
                         chunk=chunk, drift=drift)


def latency(minutes: float, explain: bool = True, model: str | None = None) -> tuple[np.ndarray, int]:
    """Per-chunk latencies (s) of decisions, one chunk at a time (the process runs one torch thread)."""
    engine, _ = build_engine(_options(explain, chunk=10, model=model))  # one 50 ms chunk at a time, as from a Myo
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


def throughput(minutes: float, explain: bool, threads: int, chunk: int | None = None,
               model: str | None = None, drift: bool = True) -> tuple[float, float]:
    """Signal seconds processed per wall second, and per CPU second of this process, by the free-running engine.

    ``chunk=None`` is the batched offline replay (1000-sample chunks, classified in batches);
    ``chunk=10`` hands the engine 50 ms chunks as a device would, for the side-by-side ratio. The
    clocks start at the first decision, so the replay's loading of its file is not counted. The
    CPU-time figure is what the computation costs; on a busy machine wall time also counts waiting
    for a core.
    """
    from myoxai.models import set_torch_threads

    set_torch_threads(threads)
    engine, _ = build_engine(_options(explain, chunk, model, drift))
    sub = engine.subscribe(maxlen=10)
    target = int(minutes * 60 * engine.config.fs) // engine.config.step
    engine.start()
    try:
        while engine.status().decisions == 0 and engine.running:
            time.sleep(0.001)
        t0, c0, first = time.perf_counter(), time.process_time(), engine.status().decisions
        while engine.status().decisions < first + target and engine.running:
            time.sleep(0.01)
        wall, cpu = time.perf_counter() - t0, time.process_time() - c0
        made = engine.status().decisions - first
    finally:
        engine.stop()
        engine.unsubscribe(sub)
        set_torch_threads(1)
    signal_s = made * engine.config.step / engine.config.fs
    return signal_s / wall, signal_s / cpu


def gui_probe(seconds: float, out: str, recalibrate_at: float | None = None, chords: bool = False) -> int:
    """Run the live window for ``seconds`` and write its probe JSON to ``out`` (in the Xvfb child process).

    Once a second the probe records the window's frame rate and the process CPU share, and whether
    a recalibration is running; ``recalibrate_at`` starts one (SCADANN on the buffer) after that many seconds;
    ``chords`` turns the ring's interaction chords on.
    """
    from PyQt6 import QtCore

    from myoxai.gui.app import run_app
    from myoxai.models import set_torch_threads

    set_torch_threads(1)
    samples: list[dict[str, float]] = []
    t0 = time.perf_counter()

    import psutil

    app = psutil.Process()

    def on_start(window: Any) -> Any:
        sub = window.engine.subscribe(maxlen=100_000)
        window.ring.set_show_interactions(chords)

        def sample() -> None:
            job = window.recalibrate.job
            child = job.child_pid if job is not None else None
            try:
                child_rss = psutil.Process(child).memory_info().rss if child else 0
            except psutil.Error:
                child_rss = 0
            samples.append({"t": time.perf_counter() - t0, "fps": window.fps, "cpu": window.cpu_percent,
                            "recalibrating": float(job is not None and job.running),
                            "rss_mib": app.memory_info().rss / 2**20, "child_rss_mib": child_rss / 2**20,
                            "latencies_ms": [d.latency_s * 1e3 for d in sub.drain()]})

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
                "recalibration": None if rc is None else {"state": rc.state, "progress": rc.progress,
                                                         "message": rc.message}}))

        return write

    return run_app(EngineOptions(), quit_after=seconds, on_start=on_start)


def gui_run(seconds: float, recalibrate_at: float | None, chords: bool = False) -> dict[str, Any] | None:
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
        if chords:
            cmd.append("--chords")
        env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}
        subprocess.run(cmd, check=True, timeout=seconds + 120, env=env, capture_output=True)
        return json.loads(out.read_text())


def _engine_runs(args: argparse.Namespace, model: str | None) -> list[Result]:
    """Latency (one 50 ms chunk at a time) and throughput (free-running replay) of one model."""
    from myoxai.models import load_model

    label = "bundled allconvnet (8,16,16,32)" if model is None else f"{Path(model).name} ({load_model(model).name})"
    lat, n = latency(args.minutes, explain=True, model=model)
    p = {"signal_s": round(n / 200.0, 1), "threads": 1, "model": label, "chunk": 10, "decisions": int(len(lat))}
    results = [Result("live.latency_shapley_p50", float(np.percentile(lat, 50) * 1e3), "ms", p),
               Result("live.latency_shapley_p99", float(np.percentile(lat, 99) * 1e3), "ms", p)]
    lat0, _ = latency(min(args.minutes, 1.0), explain=False, model=model)
    p0 = {**p, "decisions": int(len(lat0)), "signal_s": min(args.minutes, 1.0) * 60}
    results += [Result("live.latency_classify_p50", float(np.percentile(lat0, 50) * 1e3), "ms", p0),
                Result("live.latency_classify_p99", float(np.percentile(lat0, 99) * 1e3), "ms", p0)]
    for threads in args.threads:
        for explain in (True, False):
            name = "live.throughput_shapley" if explain else "live.throughput_classify"
            for chunk, tag in ((None, ""), (10, "_chunk10")):  # batched replay, then 50 ms chunks, side by side
                x, per_cpu = throughput(args.throughput_minutes, explain, threads, chunk, model)
                p = {"threads": threads, "signal_min": args.throughput_minutes, "chunk_samples": chunk or 1000,
                     "model": label}
                results += [Result(name + tag, x, "x", p),
                            Result(name + tag + "_per_cpu_s", per_cpu, "x",
                                   {**p, "note": "signal s per process CPU s"})]
        # the drift stage reassesses every second of signal (stacking its 30 s window): without it, side by side
        x, per_cpu = throughput(args.throughput_minutes, False, threads, None, model, drift=False)
        p = {"threads": threads, "signal_min": args.throughput_minutes, "chunk_samples": 1000, "model": label}
        results += [Result("live.throughput_classify_no_drift", x, "x", p),
                    Result("live.throughput_classify_no_drift_per_cpu_s", per_cpu, "x", p)]
    return results


def run(args: argparse.Namespace) -> list[Result]:
    """Decision latency with exact Shapley, replay throughput per thread count and the GUI frame rate."""
    from myoxai.models import set_torch_threads

    set_torch_threads(1)
    results: list[Result] = []
    for model in args.model or [None]:
        results += _engine_runs(args, model)
    if not args.skip_gui:
        for recal, chords in ((None, False), (None, True), (12.0, False)):  # chords off / on side by side
            rep = gui_run(args.gui_seconds if recal is None else max(args.gui_seconds, 45.0), recal, chords)
            if rep is None:
                results.append(Result("live.gui_skipped", 1.0, "", {"reason": "xvfb-run not installed"}))
                break
            s = [x for x in rep["samples"] if x["t"] > 2.0]  # skip start-up
            if recal is not None:
                s = [x for x in s if x["recalibrating"]]
            tag = "gui_recalibrating" if recal is not None else "gui_chords" if chords else "gui"
            params = {"seconds": len(s), "speed": "real time", "recalibration": rep.get("recalibration"),
                      "recalibration_in": "child process"}
            if s:
                lat = np.concatenate([x["latencies_ms"] for x in s] + [[]])
                results += [Result(f"live.{tag}_fps_median", float(np.median([x["fps"] for x in s])), "fps", params),
                            Result(f"live.{tag}_fps_min", float(np.min([x["fps"] for x in s])), "fps", params),
                            Result(f"live.{tag}_cpu_percent", float(np.mean([x["cpu"] for x in s])), "%",
                                   {**params, "note": "app process CPU, 100 = one core"}),
                            Result(f"live.{tag}_rss_peak", float(np.max([x["rss_mib"] for x in s])), "MiB",
                                   {**params, "note": "the app process"})]
                if len(lat):
                    results += [Result(f"live.{tag}_latency_p50", float(np.percentile(lat, 50)), "ms", params),
                                Result(f"live.{tag}_latency_p99", float(np.percentile(lat, 99)), "ms",
                                       {**params, "decisions": int(len(lat))})]
                if recal is not None:
                    results.append(Result(f"live.{tag}_child_rss_peak",
                                          float(np.max([x["child_rss_mib"] for x in s])), "MiB",
                                          {**params, "note": "the recalibration's own process"}))
    return results


if __name__ == "__main__":  # the GUI probe's child process (see gui_run)
    probe = argparse.ArgumentParser(description="myoxai bench live: the GUI probe (run under Xvfb by gui_run)")
    probe.add_argument("--probe-seconds", type=float, required=True)
    probe.add_argument("--probe-json", required=True)
    probe.add_argument("--recalibrate-at", type=float, default=None)
    probe.add_argument("--chords", action="store_true")
    a = probe.parse_args()
    sys.exit(gui_probe(a.probe_seconds, a.probe_json, a.recalibrate_at, a.chords))
