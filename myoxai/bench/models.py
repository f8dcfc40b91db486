"""``myoxai bench models``: per-window inference latency, throughput and size of every model.

Latency is one window at a time (batch 1) on one torch thread, the way the live engine decides;
``batch256`` is the 256-input forward pass exact channel Shapley needs per decision. Weights are
untrained (timing does not depend on their values) but standardisation is set from real windows.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from myoxai.bench.report import Result

HELP = "inference latency (p50/p99, batch 1, 1 thread), windows/s and parameter counts of each model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai bench models`` options, added to its subcommand parser."""
    parser.add_argument("--models", default="allconvnet,spectrogram-convnet,lstm-fin,lda")
    parser.add_argument("--repeats", type=int, default=300, help="timed single-window calls per model")
    parser.add_argument("--threads", type=int, default=1)


def _timed(fn, repeats: int) -> np.ndarray:
    for _ in range(min(20, repeats)):
        fn()
    out = np.empty(repeats)
    for i in range(repeats):
        t = time.perf_counter()
        fn()
        out[i] = time.perf_counter() - t
    return out


def run(args: argparse.Namespace) -> list[Result]:
    """Single-window latency, windows/s and parameter count of each requested model."""
    import torch

    from myoxai.config import DEFAULT_CONFIG
    from myoxai.dsp import process_signal
    from myoxai.io import read_recording
    from myoxai.io.open import BUNDLED_RECORDING
    from myoxai.models import build_model, predict_logits, torch_threads

    rec = read_recording(BUNDLED_RECORDING)
    batch = process_signal(rec.samples[:20000], DEFAULT_CONFIG, highpass=True)
    y = rec.labels[batch.end - 1]
    results = []
    with torch_threads(args.threads), torch.no_grad():
        for name in [m.strip() for m in args.models.split(",") if m.strip()]:
            model = build_model(name, 8, seed=0)
            x_all = batch.spectrograms if model.input_kind == "spectrogram" else batch.windows
            x_all = x_all.astype(np.float32)
            p = {"model": name, "threads": args.threads, "batch": 1}
            if not model.explainable:  # no torch forward, no Shapley batch: time its closed-form scores
                model.train_on(x_all, y)
                one = x_all[:1]
                lat = _timed(lambda m=model, o=one: m.logits(o), args.repeats)
                big = lambda m=model, x=x_all[:1024]: m.logits(x)
            else:
                model.fit_standardizer(x_all)
                model.eval()
                one = torch.as_tensor(x_all[:1])
                lat = _timed(lambda m=model, o=one: m(o), args.repeats)
                x256 = torch.as_tensor(np.repeat(x_all[:1], 256, axis=0))
                shap = _timed(lambda m=model, x=x256: m(x), max(20, args.repeats // 5))
                results.append(Result(f"models.{name}.batch256_p99", 1e3 * float(np.percentile(shap, 99)), "ms",
                                      {**p, "batch": 256, "why": "exact channel Shapley = 256 coalitions"}))
                big = lambda m=model, x=x_all[:1024]: predict_logits(m, x)
            results.append(Result(f"models.{name}.latency_p50", 1e3 * float(np.median(lat)), "ms", p))
            results.append(Result(f"models.{name}.latency_p99", 1e3 * float(np.percentile(lat, 99)), "ms", p))
            thr = _timed(big, 5)
            results.append(Result(f"models.{name}.throughput", 1024 / float(np.median(thr)), "windows/s",
                                  {**p, "batch": 1024}))
            results.append(Result(f"models.{name}.parameters", float(model.n_parameters()), "count", {"model": name}))
    return results
