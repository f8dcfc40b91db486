"""``myoxai bench dsp``: throughput of the streaming dsp core on a real recording, and stream-vs-batch equality."""

from __future__ import annotations

import argparse
import time

from myoxai.bench.report import Result

HELP = "dsp core on a real recording: samples/s, real-time factor (1 thread), streaming-vs-batch max difference"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai bench dsp`` options, added to its subcommand parser."""
    parser.add_argument("--data", default=None, help="recording to use (default: the bundled recording)")
    parser.add_argument("--chunk", type=int, default=10, help="streaming chunk size in samples (default 10 = 50 ms)")
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions (best is reported)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the random chunk sizes")


def _limit_threads() -> None:
    try:
        from threadpoolctl import threadpool_limits

        threadpool_limits(1)
    except ImportError:  # numpy/scipy FFT here are single-threaded anyway
        pass


def run(args: argparse.Namespace) -> list[Result]:
    """Throughput of the dsp core on a real recording, and the streaming-vs-batch difference."""
    from pathlib import Path

    import numpy as np

    from myoxai.config import DEFAULT_CONFIG as cfg
    from myoxai.dsp import WindowStream, process_signal, spectrogram
    from myoxai.io.open import BUNDLED_RECORDING, open_recording

    _limit_threads()
    path = Path(args.data) if args.data else BUNDLED_RECORDING
    rec = open_recording(path)
    x, n = rec.samples, len(rec)
    params = {"recording": path.name, "samples": n, "threads": 1}

    def timed(fn) -> float:
        best = float("inf")
        for _ in range(args.repeat):
            t = time.perf_counter()
            fn()
            best = min(best, time.perf_counter() - t)
        return best

    def stream_fixed() -> None:
        s = WindowStream(cfg)
        for i in range(0, n, args.chunk):
            s.push(x[i:i + args.chunk])

    t_stream = timed(stream_fixed)
    t_batch = timed(lambda: process_signal(x, cfg))
    rng = np.random.default_rng(args.seed)
    s, parts, i = WindowStream(cfg), [], 0
    while i < n:
        k = int(rng.integers(1, 64))
        parts.append(s.push(x[i:i + k]).spectrograms)
        i += k
    streamed, batch = np.concatenate(parts), process_signal(x, cfg).spectrograms
    diff = float(np.max(np.abs(streamed - batch))) if streamed.shape == batch.shape else float("inf")
    seconds = n / rec.fs
    # the hand-written spectrogram vs scipy's own, side by side on the same single live windows
    from scipy import signal

    batch_windows = process_signal(x[:2000], cfg).windows
    one = batch_windows[:1]

    def scipy_spec(w: np.ndarray) -> np.ndarray:
        _, _, sxx = signal.spectrogram(w, fs=cfg.fs, window=cfg.spec_window, nperseg=cfg.nperseg,
                                       noverlap=cfg.noverlap, scaling="density", mode="magnitude", axis=1)
        return sxx[:, 1:].transpose(0, 3, 2, 1)

    reps = 200
    t_ours = timed(lambda: [spectrogram(one, cfg) for _ in range(reps)]) / reps
    t_scipy = timed(lambda: [scipy_spec(one) for _ in range(reps)]) / reps
    spec_diff = float(np.max(np.abs(spectrogram(batch_windows, cfg) - scipy_spec(batch_windows))))
    spec_params = {"windows_per_call": 1, "threads": 1}
    return [
        Result("dsp.spectrogram.us_per_call", t_ours * 1e6, "us", spec_params),
        Result("dsp.spectrogram_scipy.us_per_call", t_scipy * 1e6, "us", spec_params),
        Result("dsp.spectrogram.speedup_vs_scipy", t_scipy / t_ours, "x", spec_params),
        Result("dsp.spectrogram_vs_scipy.max_abs_diff", spec_diff, "a.u.", {"windows": len(batch_windows)}),
        Result("dsp.stream.samples_per_s", n / t_stream, "1/s", {**params, "chunk": args.chunk}),
        Result("dsp.stream.realtime_factor", seconds / t_stream, "x", {**params, "chunk": args.chunk}),
        Result("dsp.stream.us_per_chunk", t_stream / -(-n // args.chunk) * 1e6, "us", {**params, "chunk": args.chunk}),
        Result("dsp.batch.samples_per_s", n / t_batch, "1/s", params),
        Result("dsp.batch.realtime_factor", seconds / t_batch, "x", params),
        Result("dsp.stream_vs_batch.max_abs_diff", diff, "a.u.",
               {**params, "chunks": "random 1-63", "seed": args.seed}),
    ]
