"""``myoxai train``: train a classifier on a labeled recording or a dataset selection and save it."""

from __future__ import annotations

import argparse
from typing import Any

from myoxai.cliargs import thread_count

HELP = "train a gesture classifier (spectrogram-convnet, allconvnet, lstm-fin, lda) and save it as safetensors"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai train`` options, added to its subcommand parser."""
    from myoxai.config import SIGNAL_CONFIGS

    source = parser.add_mutually_exclusive_group(required=True)
    source.add_argument("--data", help="a labeled recording (.xdf with markers, a myo-readings "
                        "session folder) or kanoga:ROOT for the long-term dataset")
    source.add_argument("--pretrain", metavar="DATASET:ROOT", help="pre-train a transfer-learning source on many "
                        "people: myo-armband:ROOT (the 19 pre-training participants; GPL-3.0 data, so keep the "
                        "weights to yourself) or kanoga:ROOT (--subjects/--days, default 1-4 and 1-3); early stopping "
                        "on whole held-out cycles/trials. Fine-tune it with the wizard's quick calibration "
                        "(myoxai live --pretrained MODEL)")
    parser.add_argument("--init-from", metavar="MODEL", help="with --data: start from this model's weights (e.g. "
                        "one made with --pretrain, or the bundled pre-trained All-ConvNet) instead of random ones; "
                        "the network takes its architecture arguments and the recipe trains on as usual (head kept "
                        "only when the gestures are the same)")
    parser.add_argument("--channels", help="conv widths of allconvnet/spectrogram-convnet, e.g. 8,16,16,32 "
                        "(the live default's half widths)")
    parser.add_argument("--subjects", help="with kanoga:ROOT: subjects, e.g. 1 or 1-3 (default 1)")
    parser.add_argument("--days", help="with kanoga:ROOT: days, e.g. 1 or 1-5 (default 1)")
    parser.add_argument("--model", required=True,
                        help="spectrogram-convnet | allconvnet | lstm-fin | lda | scatnet | ring-tower")
    parser.add_argument("--out", required=True, metavar="MODEL", help="output model file (.safetensors; "
                        "never replaces an input, nor an existing file without --overwrite)")
    parser.add_argument("--overwrite", action="store_true", help="replace MODEL if it exists")
    parser.add_argument("--signal", choices=tuple(SIGNAL_CONFIGS), default="default",
                        help="the signal config to window the data with and record in the model (default: default, "
                        "50-sample windows every 10; short-200/short-150: 40/30 samples every 5); myoxai live runs "
                        "a model with the config it records")
    parser.add_argument("--epochs", type=int, default=30, help="maximum epochs (early stopping usually ends sooner)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--ensemble", type=int, default=1, metavar="K", help="train K seeds of the model (member i: "
                        "seed + 1000·i) and save their ensemble (mean probability): a model that moves less, "
                        "K times the inference and Shapley cost (default 1: one model)")
    parser.add_argument("--threads", type=thread_count, default=1, help="torch threads")
    parser.add_argument("--no-progress", action="store_true", help="hide the progress bar")


def run(args: argparse.Namespace) -> int:
    """Train (or pre-train) a model on the given data and save it as safetensors."""
    from pathlib import Path

    import numpy as np

    from myoxai.config import signal_config
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
    config = signal_config(args.signal)
    if args.pretrain:
        if args.init_from:
            raise MyoxaiError("--init-from applies to --data (a pre-training starts from random weights)")
        if args.ensemble != 1:
            raise MyoxaiError("--ensemble applies to --data; --pretrain makes one transfer-learning source")
        check_output(args.out, overwrite=args.overwrite, inputs=[args.pretrain.partition(":")[2]])
        return _pretrain(args)
    if args.channels:
        raise MyoxaiError("--channels applies to --pretrain only")
    data_path = args.data[len("kanoga:"):] if args.data.startswith("kanoga:") else args.data
    inputs = [data_path] + ([args.init_from] if args.init_from else [])
    check_output(args.out, overwrite=args.overwrite, inputs=inputs)  # before any training time is spent
    if args.ensemble != 1:
        if args.init_from:
            raise MyoxaiError("--init-from starts one network; leave out --ensemble or --init-from")
        from myoxai.models.ensemble import check_members

        check_members(args.ensemble, args.model)
    if args.data.startswith("kanoga:"):
        root = Path(args.data[len("kanoga:"):]).expanduser()
        subjects = parse_int_list(args.subjects, "subjects") or [1]
        days = parse_int_list(args.days, "days") or [1]
        data = kanoga_windows(root, subjects, days, config)
        described = {"source": "kanoga", "root": str(root), "subjects": subjects, "days": days}
    else:
        from myoxai.io.open import open_recording

        if args.subjects or args.days:
            raise MyoxaiError("--subjects/--days apply to --data kanoga:ROOT only")
        rec = open_recording(args.data)
        check_signal_fits(rec.fs, rec.n_channels, config, str(args.data))
        data = recording_windows(rec, config)
        described = {"source": str(args.data), "duration_s": round(rec.duration, 2)}
    counts = np.bincount(data.y, minlength=len(data.class_names))
    if np.count_nonzero(counts) < 2:
        raise MyoxaiError(f"{args.data}: training needs at least two labeled classes; found {np.count_nonzero(counts)}")
    settings = TrainSettings(epochs=args.epochs, seed=args.seed, threads=args.threads, progress=not args.no_progress)
    if args.init_from:
        model, report, described["init_from"] = _fit_from(args, data, settings, config)
    else:
        model, report = fit_fresh(args.model, data, settings, config=config, ensemble=args.ensemble)
    described.update({"n_windows": len(data), "windows_per_class": counts.tolist(), "settings": settings.to_dict()})
    if args.ensemble != 1:
        described["ensemble"] = args.ensemble
    metrics = {k: v for k, v in report.items() if k in ("val_accuracy", "best_val_loss", "best_epoch", "epochs_run")}
    if "fin" in report:
        metrics["fin_r2"] = report["fin"]["r2"]
    reference = None
    if model.input_kind == "spectrogram":  # the drift monitor's calibration profile (myoxai.adapt.drift)
        from myoxai.live.drift_reference import reference_for_model

        model.class_names = tuple(data.class_names)
        reference = reference_for_model(model, data.spec, config, seed=args.seed).to_dict()
    out = save_model(model, args.out, data.class_names, config, training=described, metrics=metrics,
                     drift_reference=reference, overwrite=args.overwrite,
                     inputs=tuple(inputs))
    val = f", validation accuracy {100 * metrics['val_accuracy']:.1f} %" if "val_accuracy" in metrics else ""
    start = f", starting from {args.init_from}" if args.init_from else ""
    what = args.model if args.ensemble == 1 else f"an ensemble of {args.ensemble} {args.model}"
    print(f"trained {what} on {len(data)} windows ({np.count_nonzero(counts)} classes){start}{val} → {out}")
    return 0


def _fit_from(args: argparse.Namespace, data: Any, settings: Any, config: Any) -> tuple[Any, dict, dict]:
    """(model, report, init record): ``fit_fresh`` on a network started from the ``--init-from`` model's weights.

    The network is built with that file's architecture arguments (so every weight fits); ``fit_fresh``
    then trains it with the model's recipe settings and whole-trial validation.
    """
    from myoxai.errors import MyoxaiError
    from myoxai.evaluation.protocols import fit_fresh
    from myoxai.io.model_files import read_model_file
    from myoxai.models import build_model
    from myoxai.models.warm_start import init_from_file

    desc = read_model_file(args.init_from, None)[1]
    if desc.get("architecture") != args.model:
        raise MyoxaiError(f"--init-from {args.init_from} holds a {desc.get('architecture')} model; pass "
                          f"--model {desc.get('architecture')} or a pre-trained {args.model}")
    model = build_model(args.model, len(data.class_names), seed=settings.seed, **desc.get("arguments", {}))
    init = init_from_file(model, args.init_from, data.class_names, config)
    model, report = fit_fresh(args.model, data, settings, config=config, model=model)
    return model, report, init


def _pretrain(args: argparse.Namespace) -> int:
    """``--pretrain DATASET:ROOT``: a source model for transfer learning, validated on whole held-out holds."""
    from pathlib import Path

    from myoxai.config import DEFAULT_CONFIG
    from myoxai.errors import MyoxaiError
    from myoxai.evaluation import parse_int_list
    from myoxai.evaluation.data import kanoga_windows
    from myoxai.evaluation.myo_armband import pretraining_set
    from myoxai.models import TrainSettings, build_model, save_model, train_model

    dataset, _, root_text = args.pretrain.partition(":")
    root = Path(root_text).expanduser()
    if args.signal != "default":
        raise MyoxaiError("--signal applies to --data; --pretrain makes a source for the default config's wizard")
    if dataset not in ("myo-armband", "kanoga") or not root_text:
        raise MyoxaiError(f"--pretrain {args.pretrain!r}: use myo-armband:ROOT or kanoga:ROOT")
    if not root.exists():
        raise MyoxaiError(f"--pretrain: {root} does not exist; unpack the dataset there first")
    if dataset == "myo-armband":
        if args.subjects or args.days:
            raise MyoxaiError("--subjects/--days apply to kanoga:ROOT; myo-armband uses all 19 pre-training people")
        data = pretraining_set(root, DEFAULT_CONFIG)[0]
        val = data.meta["cycle"] == 3
        described = {"source": "myo-armband", "group": "pre-training", "licence": "GPL-3.0",
                     "validation": "4th cycle of every participant"}
    else:
        subjects = parse_int_list(args.subjects, "subjects") or [1, 2, 3, 4]
        days = parse_int_list(args.days, "days") or [1, 2, 3]
        data = kanoga_windows(root, subjects, days, DEFAULT_CONFIG)
        val = data.meta["trial"] == 4
        described = {"source": "kanoga", "subjects": subjects, "days": days, "licence": "Apache-2.0",
                     "validation": "trial 4 of every day"}
    kwargs = {}
    if args.channels:
        if args.model not in ("allconvnet", "spectrogram-convnet"):
            raise MyoxaiError("--channels applies to allconvnet and spectrogram-convnet")
        kwargs["channels"] = tuple(int(c) for c in args.channels.split(","))
    if args.model == "lda":
        raise MyoxaiError("--pretrain makes a transfer-learning source; choose a network, not lda")
    settings = TrainSettings(epochs=args.epochs, seed=args.seed, threads=args.threads, progress=not args.no_progress,
                             patience=3, lr_patience=1)
    model = build_model(args.model, len(data.class_names), seed=args.seed, **kwargs)
    report = train_model(model, data.inputs(model.input_kind), data.y, settings, val_mask=val)
    described.update({"n_windows": len(data), "settings": settings.to_dict(), "role": "pre-trained source"})
    metrics = {k: report.get(k) for k in ("val_accuracy", "best_val_loss", "best_epoch", "epochs_run")}
    out = save_model(model, args.out, data.class_names, DEFAULT_CONFIG, training=described, metrics=metrics,
                     overwrite=args.overwrite, inputs=(root,))
    print(f"pre-trained {args.model} on {len(data)} windows of {dataset} ({len(data.class_names)} gestures), "
          f"validation accuracy on held-out holds {100 * report.get('val_accuracy', float('nan')):.1f} % → {out}")
    if dataset == "myo-armband":
        print("note: these weights derive from GPL-3.0 data; do not redistribute them under another licence")
    return 0
