"""``myoxai train``: train a classifier on a labeled recording or a dataset selection and save it."""

from __future__ import annotations

import argparse

HELP = "train a gesture classifier (spectrogram-convnet, allconvnet, lstm-fin, lda) and save it as safetensors"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--data", required=True, help="a labeled recording (.xdf with markers, a myo-readings "
                        "session folder) or kanoga:ROOT for the long-term dataset")
    parser.add_argument("--subjects", help="with kanoga:ROOT: subjects, e.g. 1 or 1-3 (default 1)")
    parser.add_argument("--days", help="with kanoga:ROOT: days, e.g. 1 or 1-5 (default 1)")
    parser.add_argument("--model", required=True, help="spectrogram-convnet | allconvnet | lstm-fin | lda")
    parser.add_argument("--out", required=True, metavar="MODEL", help="output model file (.safetensors; "
                        "never replaces an input, nor an existing file without --overwrite)")
    parser.add_argument("--overwrite", action="store_true", help="replace MODEL if it exists")
    parser.add_argument("--epochs", type=int, default=30, help="maximum epochs (early stopping usually ends sooner)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    from pathlib import Path

    import numpy as np

    from myoxai.config import DEFAULT_CONFIG
    from myoxai.errors import MyoxaiError
    from myoxai.evaluation import parse_int_list
    from myoxai.evaluation.data import kanoga_windows, recording_windows
    from myoxai.evaluation.protocols import fit_fresh
    from myoxai.io.outputs import check_output
    from myoxai.io.validate import check_signal_fits
    from myoxai.models import MODEL_NAMES, TrainSettings, save_model

    if args.model not in MODEL_NAMES:
        raise MyoxaiError(f"--model {args.model!r}: choose one of {', '.join(MODEL_NAMES)}")
    if args.epochs < 1 or args.threads < 1:
        raise MyoxaiError("--epochs and --threads must be at least 1")
    data_path = args.data[len("kanoga:"):] if args.data.startswith("kanoga:") else args.data
    check_output(args.out, overwrite=args.overwrite, inputs=[data_path])  # before any training time is spent
    if args.data.startswith("kanoga:"):
        root = Path(args.data[len("kanoga:"):]).expanduser()
        subjects = parse_int_list(args.subjects, "subjects") or [1]
        days = parse_int_list(args.days, "days") or [1]
        data = kanoga_windows(root, subjects, days, DEFAULT_CONFIG)
        described = {"source": "kanoga", "root": str(root), "subjects": subjects, "days": days}
    else:
        from myoxai.io.open import open_recording

        if args.subjects or args.days:
            raise MyoxaiError("--subjects/--days apply to --data kanoga:ROOT only")
        rec = open_recording(args.data)
        check_signal_fits(rec.fs, rec.n_channels, DEFAULT_CONFIG, str(args.data))
        data = recording_windows(rec, DEFAULT_CONFIG)
        described = {"source": str(args.data), "duration_s": round(rec.duration, 2)}
    counts = np.bincount(data.y, minlength=len(data.class_names))
    if np.count_nonzero(counts) < 2:
        raise MyoxaiError(f"{args.data}: training needs at least two labeled classes; found {np.count_nonzero(counts)}")
    settings = TrainSettings(epochs=args.epochs, seed=args.seed, threads=args.threads, progress=not args.no_progress)
    model, report = fit_fresh(args.model, data, settings)
    described.update({"n_windows": len(data), "windows_per_class": counts.tolist(), "settings": settings.to_dict()})
    metrics = {k: v for k, v in report.items() if k in ("val_accuracy", "best_val_loss", "best_epoch", "epochs_run")}
    if "fin" in report:
        metrics["fin_r2"] = report["fin"]["r2"]
    reference = None
    if model.input_kind == "spectrogram":  # the drift monitor's calibration profile (myoxai.adapt.drift)
        from myoxai.engine.drift import reference_for_model

        model.class_names = tuple(data.class_names)
        reference = reference_for_model(model, data.spec, seed=args.seed).to_dict()
    out = save_model(model, args.out, data.class_names, DEFAULT_CONFIG, training=described, metrics=metrics,
                     drift_reference=reference, overwrite=args.overwrite,
                     inputs=(data_path,))
    val = f", validation accuracy {100 * metrics['val_accuracy']:.1f} %" if "val_accuracy" in metrics else ""
    print(f"trained {args.model} on {len(data)} windows ({np.count_nonzero(counts)} classes){val} → {out}")
    return 0
