"""``myoxai bench shapley``: exact channel Shapley latency, and the same values from shap, shapiq and Captum.

On the same model and windows (real windows of the bundled recording), one torch thread:
- ours, fast path (the verified one the explainer picked: structure, row-local or first-conv; its name is
  in the params) and plain path: per-window latency at batch 1
  (p50/p99) and per-window cost batched over 64 windows;
- ``shap.ExactExplainer`` over the 8-player coalition function (shap's maskers cannot group the raw
  input by electrode, so the model is wrapped as a function of the 8-bit coalition);
- shapiq's ``ExactComputer`` over the same coalition function (one class per call: shapiq games are scalar);
- Captum ``ShapleyValueSampling`` with an electrode feature mask at its defaults (sampled, not exact).
Each reports its time relative to ours and the max |difference| from our values.
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from myoxai.bench.report import Result
from myoxai.errors import require_extra

HELP = "exact channel Shapley: latency per decision and comparison with shap, shapiq and Captum"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai bench shapley`` options, added to its subcommand parser."""
    parser.add_argument("--model", action="append", metavar="FILE_OR_NAME",
                        help="model file, or an architecture name with optional conv widths "
                             "(untrained, seeded), e.g. allconvnet:8,16,16,32; repeatable (default: "
                             "allconvnet, allconvnet:8,16,16,32 (light live model), spectrogram-convnet, ring-tower)")
    parser.add_argument("--windows", type=int, default=200, help="windows timed at batch 1 (default 200)")
    parser.add_argument("--compare-windows", type=int, default=20,
                        help="windows explained by shap/shapiq/Captum (default 20)")
    parser.add_argument("--batch", type=int, default=64, help="windows per batched call (default 64)")
    parser.add_argument("--seed", type=int, default=0)


def _model(spec: str, seed: int):
    from pathlib import Path

    from myoxai.models import build_model, load_model

    if Path(spec).exists():
        return load_model(spec), Path(spec).name
    name, _, widths = spec.partition(":")
    kwargs = {"channels": [int(c) for c in widths.split(",")]} if widths else {}
    m = build_model(name, 22, seed=seed, **kwargs)
    return m.eval(), f"{spec} (untrained)"


def _timed(fn, reps: int) -> tuple[np.ndarray, np.ndarray]:
    """Wall-clock and process CPU time (ms) of ``fn(i)`` for i < reps.

    CPU time is reported too because on a shared machine wall time includes waiting for a core;
    with one torch thread, CPU time is the cost of the computation itself.
    """
    wall, cpu = np.empty(reps), np.empty(reps)
    for i in range(reps):
        t0, c0 = time.perf_counter(), time.process_time()
        fn(i)
        wall[i], cpu[i] = time.perf_counter() - t0, time.process_time() - c0
    return wall * 1e3, cpu * 1e3


def _coalition_fn(cs, x: np.ndarray):
    """Model probabilities as a function of 0/1 coalition rows (n, 8) for ONE window x."""
    import torch

    base = cs._baseline

    def f(z: np.ndarray) -> np.ndarray:
        keep = torch.as_tensor(np.asarray(z) > 0.5).reshape(len(z), 1, -1, 1)
        xt = torch.as_tensor(x, dtype=torch.float32)
        with torch.inference_mode():
            return torch.softmax(cs._model(torch.where(keep, xt[None], base[None])).double(), -1).numpy()

    return f


def run(args: argparse.Namespace) -> list[Result]:
    """Exact channel Shapley latency per model, and its agreement and cost against shap, shapiq and Captum."""
    from myoxai.explain.data import labelled_windows
    from myoxai.io.open import BUNDLED_RECORDING, open_recording
    from myoxai.models import set_torch_threads

    set_torch_threads(1)
    xs, _ = labelled_windows([open_recording(BUNDLED_RECORDING)])
    rng = np.random.default_rng(args.seed)
    results: list[Result] = []
    for spec in args.model or ["allconvnet", "allconvnet:8,16,16,32", "spectrogram-convnet", "ring-tower"]:
        results += _bench_model(spec, xs, args, rng)
    return results


def _bench_model(spec: str, xs: np.ndarray, args: argparse.Namespace, rng: np.random.Generator) -> list[Result]:
    from myoxai.explain.shapley import ChannelShapley, input_shape_of

    model, label = _model(spec, args.seed)
    if input_shape_of(model) != tuple(xs.shape[1:]):
        raise SystemExit(f"{label}: bench shapley needs a spectrogram model")
    n = max(args.windows, args.batch)
    x = xs[rng.choice(len(xs), size=n, replace=len(xs) < n)]
    p = {"model": label, "params": int(sum(q.numel() for q in model.parameters())), "threads": 1}
    fast = ChannelShapley(model)
    plain = ChannelShapley(model, fast=False)
    p["path"] = fast.path
    results: list[Result] = []
    for name, cs in (("ours_fast", fast), ("ours_plain", plain)):
        cs.explain(x[:2])  # warm-up
        t, c = _timed(lambda i, cs=cs: cs.explain(x[i:i + 1]), args.windows)
        results += [Result(f"shapley.{name}.batch1_p50", float(np.percentile(t, 50)), "ms", p),
                    Result(f"shapley.{name}.batch1_p99", float(np.percentile(t, 99)), "ms", p),
                    Result(f"shapley.{name}.batch1_cpu_p50", float(np.percentile(c, 50)), "ms", p),
                    Result(f"shapley.{name}.batch1_cpu_p99", float(np.percentile(c, 99)), "ms", p)]
        tb, cb = _timed(lambda _i, cs=cs: cs.explain(x[:args.batch]), 3)
        results += [Result(f"shapley.{name}.batch{args.batch}_per_window", float(np.median(tb)) / args.batch, "ms", p),
                    Result(f"shapley.{name}.batch{args.batch}_cpu_per_window", float(np.median(cb)) / args.batch,
                           "ms", p)]
    return results + _compare(fast, x[:args.compare_windows], p)


def _worse(so_far: float, diff: float) -> float:
    """The larger difference, NaN winning (``max(0.0, nan)`` is 0.0 and would report a broken value as exact)."""
    return max(so_far, float(diff)) if np.isfinite(so_far) and np.isfinite(diff) else float("nan")


def _compare(cs, x: np.ndarray, p: dict) -> list[Result]:
    """Each library on each window, timed right after ours on the same window (ratios robust to load drift)."""
    require_extra("shap", "compare", "myoxai bench shapley's library comparison")
    require_extra("shapiq", "compare", "myoxai bench shapley's library comparison")
    require_extra("captum", "explain", "myoxai bench shapley's library comparison")
    import shap
    import shapiq
    import torch
    from captum.attr import ShapleyValueSampling

    from myoxai.explain.attribution import electrode_mask

    ours = cs.explain(x)
    pred = ours.f_all.argmax(axis=1)
    out: list[Result] = []
    n = cs.n_players
    timings = {"ours": [], "shap_exact": [], "shapiq_exact": [], "captum_svs": []}
    cpu = {k: [] for k in timings}
    diffs = {k: 0.0 for k in timings}
    model = cs._model
    clock = [0.0, 0.0]

    def start() -> None:
        clock[:] = [time.perf_counter(), time.process_time()]

    def stop(key: str) -> None:
        timings[key].append(time.perf_counter() - clock[0])
        cpu[key].append(time.process_time() - clock[1])

    for i in range(len(x)):
        start()
        cs.explain(x[i:i + 1])
        stop("ours")
        f = _coalition_fn(cs, x[i])
        start()
        expl = shap.explainers.Exact(f, shap.maskers.Independent(np.zeros((1, n)), max_samples=1))(
            np.ones((1, n)), silent=True)
        stop("shap_exact")
        diffs["shap_exact"] = _worse(diffs["shap_exact"], np.abs(expl.values[0].T - ours.phi_prob[i]).max())
        c = int(pred[i])
        start()
        iv = shapiq.ExactComputer(lambda z, f=f, c=c: f(z)[:, c], n_players=n)(index="SV", order=1)
        stop("shapiq_exact")
        diffs["shapiq_exact"] = _worse(diffs["shapiq_exact"],
                                       np.abs(iv.get_n_order_values(1) - ours.phi_prob[i, c]).max())
        xt = torch.as_tensor(x[i:i + 1])
        start()
        with torch.random.fork_rng(devices=[]):
            torch.manual_seed(0)
            a = ShapleyValueSampling(lambda z: torch.softmax(model(z), -1)).attribute(
                xt, target=c, feature_mask=electrode_mask(tuple(x.shape[1:])), baselines=0.0)
        stop("captum_svs")
        diffs["captum_svs"] = _worse(diffs["captum_svs"],
                                     np.abs(a[0, 0, :, 0].double().numpy() - ours.phi_prob[i, c]).max())
    ours_ms, ours_cpu = float(np.median(timings["ours"])) * 1e3, float(np.median(cpu["ours"])) * 1e3
    for k in ("shap_exact", "shapiq_exact", "captum_svs"):
        ms, c = float(np.median(timings[k])) * 1e3, float(np.median(cpu[k])) * 1e3
        out += [Result(f"shapley.{k}.p50", ms, "ms", p), Result(f"shapley.{k}.cpu_p50", c, "ms", p),
                Result(f"shapley.{k}.time_ratio_vs_ours", ms / ours_ms, "x", p),
                Result(f"shapley.{k}.cpu_ratio_vs_ours", c / ours_cpu, "x", p),
                Result(f"shapley.{k}.max_abs_diff", diffs[k], "prob", p)]
    return out
