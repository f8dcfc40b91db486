"""``myoxai bench calibrate``: seconds to fine-tune the pre-trained model on a 35-s quick calibration, and peak RSS.

Data: the bundled real myo-readings excerpt. The quick calibration is rebuilt from it the way the
wizard records one: the first 5-s hold of rest and of six gestures (7 × 5 s = 35 s) train, and
the next hold of each (its first 2 s, as in the wizard's short test round) tests. Timed: the
fine-tuning itself (new head, first three convs frozen, fixed step budget), the part the user
waits for, twice: "cold" is the first fine-tuning in the process (torch imports its optimiser
machinery, about 3 s, on first use; the wizard warms it up while the user records) and "warm" a
second one. Memory: the process RSS sampled every 10 ms during fine-tuning (torch allocates
outside Python's heap) and its increase over the process's RSS before it.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from myoxai.io.open import BUNDLED_RECORDING

HELP = "seconds and peak memory (RSS) to fine-tune the bundled pre-trained model on a 35-s quick calibration"
BUNDLED = BUNDLED_RECORDING


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai bench calibrate`` options, added to its subcommand parser."""
    parser.add_argument("--pretrained", help="pre-trained model (default: the bundled long-term-dataset one)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads (default 1 of the 2 target cores: "
                        "the GUI and acquisition keep the other; 2 threads were slower on a loaded machine)")
    parser.add_argument("--steps", type=int, default=200, help="fine-tuning optimiser steps")
    parser.add_argument("--seed", type=int, default=0)


def quick_recording_from(rec, n_classes: int = 7, hold_s: float = 5.0, test_s: float = 2.0):
    """(recording, split seconds): the first hold of ``n_classes`` classes, then a short second hold of each."""
    import numpy as np

    from myoxai.errors import MyoxaiError
    from myoxai.io.recording import concatenate

    runs: dict[int, list[tuple[int, int]]] = {}
    for a, b, label in rec.segments():
        if label >= 0 and b - a >= int(hold_s * rec.fs) - 10:
            runs.setdefault(label, []).append((a, b))
    classes = sorted(runs)[:n_classes]
    if len(classes) < n_classes or any(len(runs[c]) < 2 for c in classes):
        raise MyoxaiError(f"the recording needs two holds of ≥ {hold_s:g} s for {n_classes} classes")
    n_hold, n_test = int(hold_s * rec.fs), int(test_s * rec.fs)
    train = [rec.slice(runs[c][0][0], runs[c][0][0] + n_hold) for c in classes]
    test = [rec.slice(runs[c][1][0], runs[c][1][0] + n_test) for c in classes]
    joined = concatenate(train + test)
    joined.meta.pop("parts", None)
    return joined, float(np.sum([len(p) for p in train]) / rec.fs)


def run(args: argparse.Namespace) -> list:
    """Seconds and peak memory of a quick calibration of the pre-trained model on a 35-s recording."""
    import resource

    from myoxai.bench.recalibrate import _RssSampler
    from myoxai.bench.report import Result
    from myoxai.io.xdf import read_recording
    from myoxai.live.quick_calibration import load_pretrained, quick_calibrate

    rec, split_s = quick_recording_from(read_recording(BUNDLED))
    pretrained = load_pretrained(args.pretrained)
    with _RssSampler() as rss:
        _, _, cold = quick_calibrate(rec, split_s, pretrained, steps=args.steps, seed=args.seed, threads=args.threads)
        _, _, metrics = quick_calibrate(rec, split_s, pretrained, steps=args.steps, seed=args.seed,
                                        threads=args.threads)
    p = {"threads": args.threads, "steps": args.steps, "seed": args.seed, "calibration_s": split_s,
         "n_train_windows": metrics["n_train_windows"], "pretrained": Path(args.pretrained).name
         if args.pretrained else "bundled"}
    return [Result("calibrate.fine_tune_seconds_cold", cold["fine_tune_seconds"], "s", p),
            Result("calibrate.fine_tune_seconds", metrics["fine_tune_seconds"], "s", p),
            Result("calibrate.test_accuracy", metrics["test_accuracy"], "fraction",
                   {**p, "n_test_windows": metrics["n_test_windows"], "test": "second hold, first 2 s"}),
            Result("calibrate.peak_rss", rss.peak / 2**20, "MiB", p),
            Result("calibrate.rss_increase", (rss.peak - rss.base) / 2**20, "MiB", p),
            Result("calibrate.process_max_rss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, "MiB",
                   {**p, "why": "whole process incl. imports (getrusage)"})]
