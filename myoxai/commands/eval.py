"""``myoxai eval``: train and test models on a real dataset under a named protocol; JSON + figures."""

from __future__ import annotations

import argparse

HELP = "evaluate models on the long-term dataset or myo-readings (intra-day, inter-day, inter-subject)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--dataset", required=True, choices=("kanoga", "myo-readings"))
    parser.add_argument("--root", required=True, help="the unpacked dataset folder")
    parser.add_argument("--subjects", help="kanoga: 1-4 or 1,2; myo-readings: participant ids (default: all)")
    parser.add_argument("--days", help="kanoga days, e.g. 1-30 (default 1); myo-readings: sessions, e.g. 1-3")
    parser.add_argument("--protocol", required=True, choices=("intra-day", "inter-day", "inter-subject"),
                        help="myo-readings: intra-day = intra-session time split, inter-day = session 1 → later")
    parser.add_argument("--models", default="lda,allconvnet", help="comma-separated: spectrogram-convnet, "
                        "allconvnet, lstm-fin, lda (default lda,allconvnet)")
    parser.add_argument("--json", required=True, metavar="OUT", help="write all records and the summary here")
    parser.add_argument("--figures", metavar="DIR", help="write PNG figures into DIR")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--epochs", type=int, default=30, help="maximum epochs (early stopping usually ends sooner)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--trials-per-gesture", default="1,2,4", help="inter-subject calibration sizes")
    parser.add_argument("--incremental-every", type=int, default=1,
                        help="inter-day: evaluate the incremental upper bound on every k-th test day (and the last)")
    parser.add_argument("--adapt", default="none", help="unsupervised recalibration to compare, e.g. "
                        "none,dann,scadann,labeled (anything but none runs myoxai.evaluation.adaptation's "
                        "separated adapt/test splits)")
    parser.add_argument("--model-cache", metavar="DIR", help="--adapt: keep the calibration models in DIR and "
                        "reuse them when the recipe, data and seed match")
    parser.add_argument("--incremental-models", help="inter-day: models that get the incremental bound "
                        "(default: all; retraining on up to 29 days is the slow part)")


def run(args: argparse.Namespace) -> int:
    import json
    import time
    from pathlib import Path

    from myoxai import __version__
    from myoxai.config import DEFAULT_CONFIG
    from myoxai.dsp.features import KANOGA_TD_AR
    from myoxai.errors import MyoxaiError
    from myoxai.evaluation import data as evdata
    from myoxai.evaluation import parse_int_list, protocols
    from myoxai.evaluation.metrics import summarize
    from myoxai.models import MODEL_NAMES, TrainSettings, torch_threads

    if getattr(args, "adapt", "none") != "none":
        from myoxai.evaluation.adaptation import run_from_eval

        return run_from_eval(args)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in MODEL_NAMES]
    if unknown or not models:
        raise MyoxaiError(f"--models: unknown {unknown}; choose from {', '.join(MODEL_NAMES)}")
    root = Path(args.root).expanduser()
    if not root.exists():
        raise MyoxaiError(f"--root {root} does not exist; unpack the dataset there first")
    settings = TrainSettings(epochs=args.epochs, seed=args.seed, threads=args.threads)
    days = parse_int_list(args.days, "days")
    t0 = time.perf_counter()
    if args.dataset == "kanoga":
        from myoxai.io.kanoga import available_subjects

        subjects = parse_int_list(args.subjects, "subjects") or available_subjects(root)
        data = evdata.kanoga_windows(root, subjects, days or [1], DEFAULT_CONFIG)
        if "lda" in models:
            data.features(KANOGA_TD_AR)  # once for the whole selection; subsets slice it
        if args.protocol == "intra-day":
            jobs = protocols.kanoga_intra_day(data, models, settings)
        elif args.protocol == "inter-day":
            inc = args.incremental_models.split(",") if args.incremental_models else None
            jobs = protocols.kanoga_inter_day(data, models, settings, args.incremental_every, inc)
        else:
            ks = tuple(parse_int_list(args.trials_per_gesture, "trials-per-gesture") or (1, 2, 4))
            jobs = protocols.kanoga_inter_subject(data, models, settings, ks)
    else:
        subjects = args.subjects.split(",") if args.subjects else None
        data = evdata.myo_readings_windows(root, subjects, days, DEFAULT_CONFIG)
        if "lda" in models:
            data.features(KANOGA_TD_AR)
        if args.protocol == "intra-day":
            jobs = protocols.myo_readings_intra_session(data, models, settings)
        elif args.protocol == "inter-day":
            jobs = protocols.myo_readings_inter_session(data, models, settings)
        else:
            raise MyoxaiError("inter-subject is implemented for the long-term dataset only (--dataset kanoga)")
    if not jobs:
        raise MyoxaiError("the selection gives nothing to evaluate; check --subjects/--days")
    with torch_threads(args.threads):
        records = protocols.run_jobs(jobs, settings)
    summary = summarize(records)
    out = {"myoxai": __version__, "command": vars(args) | {"_run": None}, "signal_config": DEFAULT_CONFIG.to_dict(),
           "settings": settings.to_dict(), "seconds": round(time.perf_counter() - t0, 1),
           "class_names": list(data.class_names), "results": records, "summary": summary}
    out["command"].pop("_run")
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=1))
    if args.figures:
        from myoxai.evaluation.figures import write_figures

        write_figures(records, data.class_names, args.figures)
    for row in summary:
        if row["position"] != "all":
            continue
        print(f"{row['protocol']:14s} {row['model']:20s} {row['adapt']:6s} {row['variant']:20s} "
              f"acc {100 * row['accuracy']:5.1f} ± {100 * row['accuracy_sd']:4.1f}  "
              f"bal {100 * row['balanced_accuracy']:5.1f}  F1 {100 * row['macro_f1']:5.1f}  "
              f"(n={len(row['subjects'])} subjects, {row['n_records']} records)")
    return 0
