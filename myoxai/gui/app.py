"""Start the Qt application for ``myoxai live`` (and, for screenshots and benchmarks, stop it on a timer)."""

from __future__ import annotations

import argparse
import json
import logging
import sys
import time
from typing import Any

log = logging.getLogger(__name__)


def make_window(args: argparse.Namespace, speed: float) -> Any:
    """Build the engine from the command-line options and the window around it (not started)."""
    import pyqtgraph as pg

    from myoxai.commands.live import build_engine
    from myoxai.engine import Engine
    from myoxai.engine.setup import open_source
    from myoxai.gui.main_window import MainWindow

    pg.setConfigOptions(antialias=False, background="w", foreground="k")
    engine, source_data, desc = build_engine(args, speed, loop=True)

    def factory(spec: str, model: Any) -> tuple[Any, str]:
        source, highpass, description = open_source(spec, speed, loop=True)
        return Engine(source, model, explain=not args.no_shapley, vote=args.vote, threshold=args.threshold,
                      torch_threads=args.threads, highpass=highpass), description

    return MainWindow(engine, desc, source_data, engine_factory=factory)


def run_app(args: argparse.Namespace, speed: float) -> int:
    """Show the window until closed (or for ``--quit-after`` seconds, saving ``--screenshot``)."""
    from PyQt6 import QtCore, QtWidgets

    app = QtWidgets.QApplication.instance() or QtWidgets.QApplication(sys.argv[:1])
    window = make_window(args, speed)
    window.show()
    window.start()
    samples: list[dict[str, float]] = []
    t0 = time.perf_counter()

    def sample() -> None:  # benchmark probe, once a second
        samples.append({"t": time.perf_counter() - t0, "fps": window.fps, "cpu": window.cpu_percent,
                        "recalibrating": float(window.recalibrate.job is not None and window.recalibrate.job.running)})

    if getattr(args, "recalibrate_at", None) is not None:
        QtCore.QTimer.singleShot(int(args.recalibrate_at * 1000), window.recalibrate.start)
    if args.bench_json:
        probe = QtCore.QTimer(window)
        probe.timeout.connect(sample)
        probe.start(1000)
    if args.quit_after is not None:
        def finish() -> None:
            if args.screenshot:
                window.grab().save(args.screenshot)
                print(f"screenshot saved to {args.screenshot}", flush=True)
            if args.bench_json:
                st = window.engine.status()
                rc = window.recalibrate.job.state() if window.recalibrate.job is not None else None
                with open(args.bench_json, "w") as f:
                    json.dump({"samples": samples, "decisions": st.decisions, "frames": window.frames,
                               "latency_p50_ms": st.latency_p50_ms, "latency_p99_ms": st.latency_p99_ms,
                               "recalibration": None if rc is None else {"state": rc.state, "verdict": rc.verdict,
                                                                        "message": rc.message}}, f)
            window.close()
            app.quit()

        QtCore.QTimer.singleShot(int(args.quit_after * 1000), finish)
    code = app.exec()
    window.engine.stop()
    return int(code)
