"""``myoxai drift``: the drift score of a recording (or dataset day) against a model's calibration reference.

``--data`` takes anything ``myoxai replay`` plays (an .xdf recording, a long-term dataset day folder,
a myo-readings session); its labels, if any, are ignored: the monitor only ever sees unlabeled
windows. ``--dataset kanoga`` instead runs the whole long-term-dataset validation (day-1 models,
drift of every later day on unlabeled trials 1–2 against the accuracy change on trials 3–4,
thresholds chosen on days 3–8, Spearman on the other days).
"""

from __future__ import annotations

import argparse
from typing import Any

HELP = "drift score (gain, rotation, confidence, Shapley profile) of a recording vs a model's calibration"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai drift`` options, added to its subcommand parser."""
    parser.add_argument("--model", default=None, help="model file (default: the bundled demo model)")
    parser.add_argument("--data", default=None, help="recording: .xdf, long-term dataset day folder, myo-readings "
                                                     "session (default: the bundled recording's held-out part)")
    parser.add_argument("--rotate", type=int, default=0, metavar="N",
                        help="circularly shift the recording's electrodes by N first (to see a rotated band)")
    parser.add_argument("--thresholds", metavar="JSON", default=None,
                        help="(watch, recalibrate) per component from a --dataset run's JSON (default: the live ones)")
    parser.add_argument("--shapley-windows", type=int, default=400,
                        help="non-rest windows (fixed random subset) for the Shapley-profile distance (default 400)")
    parser.add_argument("--dataset", choices=("kanoga",), default=None,
                        help="run the long-term-dataset validation instead (day-1 models, days 2-30)")
    parser.add_argument("--root", default=None, help="with --dataset kanoga: the unpacked dataset "
                                                     "(default $MYOXAI_DATA/kanoga or ~/.cache/myoxai/kanoga)")
    parser.add_argument("--subjects", default="1-4", help="with --dataset: subjects (default 1-4)")
    parser.add_argument("--days", default="2-30", help="with --dataset: test days (default 2-30)")
    parser.add_argument("--seed", type=int, default=0, help="with --dataset: training and sampling seed (default 0)")
    parser.add_argument("--epochs", type=int, default=30, help="with --dataset: day-1 model epochs (default 30)")
    parser.add_argument("--cache", default=None, help="with --dataset: folder caching the day-1 models")
    parser.add_argument("--json", metavar="OUT", default=None, help="write the result as JSON")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --json file")


def run(args: argparse.Namespace) -> int:
    """Print (and optionally write) the drift score of a recording or a dataset against a model's reference."""
    import json

    from myoxai.errors import MyoxaiError
    from myoxai.io.outputs import check_output, write_text

    if args.shapley_windows < 1:
        raise MyoxaiError(f"--shapley-windows {args.shapley_windows}: give a number of windows >= 1")
    inputs = [args.model, args.data, args.thresholds, args.root, args.cache]
    if args.json:  # refused now (an input, a folder, a missing folder…), not after the whole run
        check_output(args.json, overwrite=args.overwrite, inputs=inputs)
    doc = _dataset(args) if args.dataset else _recording(args)
    if args.json:
        write_text(args.json, json.dumps(doc, indent=1, default=float), overwrite=args.overwrite, inputs=inputs)
        print(f"written to {args.json}")
    return 0


def _recording(args: argparse.Namespace) -> dict[str, Any]:
    import numpy as np

    from myoxai.adapt.drift import assess, drift_components, window_power
    from myoxai.config import DEFAULT_CONFIG
    from myoxai.dsp import process_signal
    from myoxai.engine.drift import stored_reference
    from myoxai.errors import MyoxaiError
    from myoxai.explain.outputs import predicted_class_outputs
    from myoxai.live.setup import load_live_model

    model = load_live_model(args.model)
    ref = stored_reference(model)
    if ref is None:
        raise MyoxaiError(f"{args.model or 'the model'} holds no drift reference; retrain it with this myoxai "
                          "(`myoxai train` stores one) to monitor drift")
    if args.data is None:
        from myoxai.live.bundled import held_out_recording

        rec, what = held_out_recording(), "bundled recording (held-out part)"
    else:
        from myoxai.io.open import open_recording

        rec, what = open_recording(args.data), str(args.data)
    if rec.n_channels != DEFAULT_CONFIG.n_channels:
        raise MyoxaiError(f"{what} has {rec.n_channels} channels; the model expects {DEFAULT_CONFIG.n_channels}")
    samples = np.roll(rec.samples, args.rotate, axis=1) if args.rotate else rec.samples
    highpass = rec.meta.get("highpass_hz") != DEFAULT_CONFIG.highpass_hz
    spec = process_signal(samples, DEFAULT_CONFIG, highpass=highpass).spectrograms.astype(np.float32)
    proba, _ = predicted_class_outputs(model, spec, shapley=False)
    active = proba.argmax(1) != ref.rest if ref.rest is not None else np.ones(len(proba), bool)
    if active.sum() < 20:
        raise MyoxaiError(f"{what}: fewer than 20 non-rest windows; the drift score needs gestures, not rest")
    comps = drift_components(ref, window_power(spec[active]), proba[active])
    # the Shapley-profile distance on a fixed random subset (exact Shapley costs 256 forward passes a window)
    sub = np.flatnonzero(active)
    sub = np.sort(np.random.default_rng(0).choice(sub, min(len(sub), args.shapley_windows), replace=False))
    p_sub, phi_sub = predicted_class_outputs(model, spec[sub])
    comps["shapley"] = drift_components(ref, window_power(spec[sub]), p_sub, phi_sub)["shapley"]
    result = assess(comps, _thresholds(args.thresholds), n_windows=int(active.sum())).to_dict()
    result.update({"data": what, "rotated_by": args.rotate})
    c = result["components"]
    print(f"drift of {what}{f' (rotated by {args.rotate})' if args.rotate else ''}: {result['state'].upper()}"
          + (f" — cause: {result['cause']}" if result["cause"] else "") + f", score {result['score']:.2f}")
    print(f"  rotation {c['rotation']:+.2f} electrodes, gain ×{c['gain']:.2f}, confidence {c['confidence']:+.3f}, "
          f"entropy {c['entropy']:+.3f}, Shapley-profile distance "
          + ("n/a" if c["shapley"] is None else f"{c['shapley']:.3f}") + f" ({result['n_windows']} non-rest windows)")
    return result


def _thresholds(path: str | None) -> Any:
    """The live defaults, or the ``thresholds`` entry of a ``myoxai drift --dataset`` JSON file."""
    import json
    import math

    from myoxai.adapt.drift import COMPONENTS, DriftThresholds
    from myoxai.errors import MyoxaiError

    if path is None:
        return DriftThresholds()
    try:
        with open(path, encoding="utf-8") as f:
            entry = json.load(f)["thresholds"]
        values = {k: (float(entry[k][0]), float(entry[k][1])) for k in COMPONENTS}
    except (OSError, ValueError, KeyError, TypeError, IndexError) as exc:
        raise MyoxaiError(f"--thresholds {path}: not a `myoxai drift --dataset` result ({exc})") from None
    if any(math.isnan(v) or v < 0 for pair in values.values() for v in pair):
        raise MyoxaiError(f"--thresholds {path}: thresholds must be non-negative numbers")
    return DriftThresholds(**values)


def _dataset(args: argparse.Namespace) -> dict[str, Any]:
    import os
    from pathlib import Path

    from myoxai.errors import MyoxaiError
    from myoxai.evaluation import parse_int_list
    from myoxai.evaluation.drift_validation import subject_days, summarise

    root = (Path(args.root) if args.root else Path(os.environ.get("MYOXAI_DATA", "~/.cache/myoxai")) / "kanoga")
    root = root.expanduser()
    if not root.is_dir():
        raise MyoxaiError(f"{root} is not a folder; pass --root with the unpacked long-term dataset")
    subjects, days = parse_int_list(args.subjects, "subjects"), parse_int_list(args.days, "days")
    rows = subject_days(root, subjects, days, seed=args.seed, epochs=args.epochs, cache_dir=args.cache)
    summary = summarise(rows)
    command = (f"myoxai drift --dataset kanoga --subjects {args.subjects} --days {args.days} --seed {args.seed} "
               f"--epochs {args.epochs}")
    print(f"drift vs accuracy change on days {summary['report_days'][0]}..{summary['report_days'][-1]} "
          f"(thresholds from days 3-8): Spearman {_f(summary['spearman']['score_vs_accuracy_change'])} "
          f"(live default thresholds: {_f(summary['spearman']['score_vs_accuracy_change_live_defaults'])})")
    for pos, v in summary["per_position"].items():
        print(f"  position {pos}: n={v['n']:3d}  Spearman {_f(v['spearman'])}  mean accuracy change "
              f"{_f(v['mean_accuracy_change'])}  mean rotation {_f(v['mean_rotation'])}")
    print("  per subject: " + ", ".join(f"{s} {_f(v)}" for s, v in summary["per_subject"].items()))
    print("  per component: " + ", ".join(f"{k} {_f(v)}" for k, v in summary["per_component"].items()))
    within = summary["within_subject"]
    for name in ("drift score", "max-softmax baseline"):
        if name in within:
            lo, hi = within[name]["ci95"]
            print(f"  within-subject Spearman, {name}: {_f(within[name]['spearman_mean_over_subjects'])} "
                  f"(95 % CI {_f(lo)} … {_f(hi)}, {within['n_subjects']} subjects)")
    return {"command": command, **summary, "rows": rows}


def _f(v: float | None) -> str:
    return "n/a" if v is None else f"{v:+.3f}"
