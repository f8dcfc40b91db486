"""``myoxai bench recalibrate``: seconds of the quick adapt, the 35-s labeled recalibration and SCADANN, memory.

The quick adapt (``METHODS[DEFAULT_PIPELINE]``, what the Quick adapt button applies at once; target
≤ 1 s), the 35-s labeled recalibration (``myoxai.adapt.labeled.recalibrate_35s``: quick adapt, then
fine-tuning on 35 s of labeled holds, 700 windows split over the gestures; target ≤ 10 s on
2 cores) and the full recalibration (SCADANN starting from the quick-adapted model, as the button
runs it in the background; target ≤ 30 s on 2 cores for 2 min of buffer) are timed on the same data.

Data: the bundled real myo-readings excerpt (240 s, 8 classes). The first half, labeled, is the
calibration (source); the second half's spectrograms (default 2 min = 2,400 windows at a 50 ms
step) are the unlabeled buffer, as the live engine would hold them. Setup (training the
calibration model) is not timed. Memory is the process RSS (psutil), sampled every 10 ms during
the recalibration: torch allocates outside Python's heap, so tracemalloc would miss it.
"""

from __future__ import annotations

import argparse
import threading
import time
from dataclasses import replace
from pathlib import Path

from myoxai.io.open import BUNDLED_RECORDING

HELP = "seconds and peak memory (RSS) of a SCADANN recalibration on buffered data, and cancel latency"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai bench recalibrate`` options, added to its subcommand parser."""
    parser.add_argument("--recording", default=str(BUNDLED_RECORDING),
                        help="labeled XDF recording (default: bundled excerpt)")
    parser.add_argument("--model", default="allconvnet", choices=("allconvnet", "spectrogram-convnet"))
    parser.add_argument("--buffer-seconds", type=float, default=120.0, help="unlabeled buffer length")
    parser.add_argument("--threads", type=int, default=2, help="torch threads for the recalibration")
    parser.add_argument("--method", default="scadann", choices=("scadann", "dann"))
    parser.add_argument("--max-epochs", type=int, default=15, help="epoch cap per phase")
    parser.add_argument("--quick-repeats", type=int, default=5, help="quick adapts timed (the median is reported)")
    parser.add_argument("--seed", type=int, default=0)


class _RssSampler:
    """Peak resident set size of this process, sampled in a thread."""

    def __init__(self, every: float = 0.01) -> None:
        import psutil

        self.proc, self.every, self.peak = psutil.Process(), every, 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak = max(self.peak, self.proc.memory_info().rss)
            self._stop.wait(self.every)

    def __enter__(self) -> _RssSampler:
        self.base = self.proc.memory_info().rss
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, self.proc.memory_info().rss)


def run(args: argparse.Namespace) -> list:
    """Seconds and peak memory of a recalibration on a buffer of unlabeled windows, and its cancel latency."""
    import numpy as np

    from myoxai.adapt import DEFAULT_PIPELINE, METHODS, AdaptContext, RecalibrationSettings, SourceData, recalibrate
    from myoxai.adapt.labeled import default_fine_tune, first_holds, recalibrate_35s
    from myoxai.adapt.quick import QuickReport, calibration_profile
    from myoxai.bench.report import Result
    from myoxai.config import DEFAULT_CONFIG
    from myoxai.dsp import process_signal
    from myoxai.errors import MyoxaiError
    from myoxai.io.xdf import read_recording
    from myoxai.models import TrainSettings, build_model, train_model
    from myoxai.models.recipes import recipe

    rec = read_recording(args.recording)
    if rec.labels is None:
        raise MyoxaiError(f"{args.recording} has no per-sample labels; the benchmark needs a labeled recording")
    batch = process_signal(rec.samples, DEFAULT_CONFIG, highpass=rec.meta.get("highpass_hz") is None)
    x = batch.spectrograms.astype(np.float32)
    lab = np.asarray(rec.labels)
    y = np.where(lab[batch.start] == lab[batch.end - 1], lab[batch.end - 1], -1)
    n_buf = int(round(args.buffer_seconds * rec.fs / DEFAULT_CONFIG.step))
    if n_buf >= len(x) - 200:
        raise MyoxaiError(f"the recording holds {len(x)} windows; --buffer-seconds {args.buffer_seconds} leaves "
                          "too little labeled calibration data")
    src = np.arange(len(x) - n_buf)
    src = src[y[src] >= 0]
    source = SourceData(x[src], y[src], description={"recording": str(args.recording)})
    buffer = x[len(x) - n_buf:]
    model_args, _ = recipe(args.model)
    model = build_model(args.model, len(rec.class_names), seed=args.seed, **model_args)
    train_model(model, source.x, source.y, TrainSettings(epochs=10, seed=args.seed, threads=args.threads))
    settings = RecalibrationSettings(threads=args.threads, seed=args.seed, max_epochs=args.max_epochs)
    params = {"model": args.model, "method": args.method, "threads": args.threads, "buffer_windows": n_buf,
              "source_windows": len(source.y), "max_epochs": settings.max_epochs,
              "recording": Path(args.recording).name}
    profile = calibration_profile(source.x)
    quick_times = []
    for _ in range(max(1, args.quick_repeats)):
        t0 = time.perf_counter()
        ctx = AdaptContext(buffer, source=source, reference_profile=profile)
        quick_model = METHODS[DEFAULT_PIPELINE].run(model, ctx)
        quick_times.append(time.perf_counter() - t0)
    quick_report = QuickReport.from_steps(DEFAULT_PIPELINE, ctx.report)
    holds = first_holds(source.y, per_class=max(1, 700 // len(rec.class_names)))  # 35 s at 20 windows/s
    fine = replace(default_fine_tune(), seed=args.seed)  # its own thread count (one), not --threads
    with _RssSampler() as labeled_mem:
        t0 = time.perf_counter()
        _, labeled_report = recalibrate_35s(model, source.x[holds], source.y[holds], buffer=buffer,
                                            reference_profile=profile, settings=fine)
        labeled_seconds = time.perf_counter() - t0
    with _RssSampler() as mem:
        t0 = time.perf_counter()
        _, report = recalibrate(model, source, buffer, method=args.method, settings=settings, start=quick_model)
        seconds = time.perf_counter() - t0
    cancel, started, done = threading.Event(), threading.Event(), {}

    def work() -> None:
        recalibrate(model, source, buffer, method=args.method, settings=settings, cancel=cancel,
                    progress=lambda f, m: started.set())
        done["t"] = time.perf_counter()

    th = threading.Thread(target=work)
    th.start()
    started.wait(120)
    t_set = time.perf_counter()
    cancel.set()
    th.join()
    epochs = (report.dann or {}).get("epochs_run", 0) + (report.self_calibration or {}).get("epochs_run", 0)
    quick_params = {**params, "repeats": len(quick_times), "statistic": "median",
                    "rotation_shift": quick_report.rotation_shift}
    labeled_params = {**params, "threads": fine.threads, "labeled_windows": int(len(holds)), "steps": fine.steps,
                      "epochs": labeled_report.epochs_run, "frozen_layers": labeled_report.frozen_layers,
                      "start": "calibration model; quick adapt on the buffer is timed with it"}
    out = [Result("recalibrate.quick_adapt_seconds", float(np.median(quick_times)), "s", quick_params),
           Result("recalibrate.quick_adapt_seconds_max", float(np.max(quick_times)), "s", quick_params),
           Result("recalibrate.labeled_35s_seconds", labeled_seconds, "s", labeled_params),
           Result("recalibrate.labeled_35s_peak_rss", labeled_mem.peak / 2**20, "MiB",
                  {**labeled_params, "memory": "psutil RSS peak"}),
           Result("recalibrate.seconds", seconds, "s", {**params, "start": "quick-adapted model"}),
           Result("recalibrate.seconds_per_epoch", seconds / max(epochs, 1), "s", params),
           Result("recalibrate.epochs", float(epochs), "epochs", params),
           Result("recalibrate.peak_rss", mem.peak / 2**20, "MiB", {**params, "memory": "psutil RSS peak"}),
           Result("recalibrate.rss_increase", (mem.peak - mem.base) / 2**20, "MiB",
                  {**params, "memory": "psutil RSS peak minus RSS before"}),
           Result("recalibrate.cancel_latency", done["t"] - t_set, "s", params)]
    if report.coverage is not None:
        out.append(Result("recalibrate.pseudo_label_coverage", report.coverage, "fraction", params))
    return out
