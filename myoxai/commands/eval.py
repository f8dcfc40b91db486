"""``myoxai eval``: train and test models on a real dataset under a named protocol; JSON + figures.

Every protocol becomes a grid of independent cells (``myoxai.evaluation.protocols`` and, with
``--adapt``, ``myoxai.evaluation.adaptation``) that ``myoxai.evaluation.executor`` runs in this
process, on ``--workers N`` local Dask processes or on a Dask cluster at ``--scheduler``; finished
cells are cached (``--cache``) so an interrupted run resumes where it stopped.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

HELP = ("evaluate models on the long-term dataset, myo-readings or the Myo Armband dataset (intra-day, inter-day, "
        "inter-subject)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai eval`` options, added to its subcommand parser."""
    parser.add_argument("--dataset", required=True, choices=("kanoga", "myo-readings", "myo-armband"))
    parser.add_argument("--root", required=True, help="the unpacked dataset folder")
    parser.add_argument("--subjects", help="kanoga: 1-4 or 1,2; myo-readings: participant ids (default: all)")
    parser.add_argument("--days", help="kanoga days, e.g. 1-30 (default 1; with --adapt: the test days, 2-30 by "
                        "default, never day 1); myo-readings: sessions, e.g. 1-3")
    parser.add_argument("--protocol", required=True, choices=("intra-day", "inter-day", "inter-subject"),
                        help="myo-readings: intra-day = intra-session time split, inter-day = session 1 → later")
    parser.add_argument("--models", default="lda,allconvnet", help="comma-separated: spectrogram-convnet, "
                        "allconvnet, lstm-fin, lda, scatnet, ring-tower (default lda,allconvnet)")
    parser.add_argument("--json", required=True, metavar="OUT", help="write all records and the summary here")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    parser.add_argument("--figures", metavar="DIR", help="write PNG figures into DIR")
    parser.add_argument("--seed", type=int, default=0, help="run seed; each cell's seed derives from it and the "
                        "cell's key")
    parser.add_argument("--epochs", type=int, default=30, help="maximum epochs (early stopping usually ends sooner)")
    parser.add_argument("--threads", type=int, default=1, help="torch threads per cell")
    parser.add_argument("--trials-per-gesture", default="1,2,4", help="inter-subject calibration sizes")
    parser.add_argument("--incremental-every", type=int, default=1,
                        help="inter-day: evaluate the incremental upper bound on every k-th test day (and the last)")
    armband = parser.add_argument_group("myo-armband (inter-subject: pre-train on 19 people, calibrate 17 new ones)")
    armband.add_argument("--signal", choices=("default", "paper"), default="default",
                         help="default: 15 Hz high-pass, 50-sample windows every 10; paper: Côté-Allard et al.'s "
                         "260 ms (52) windows every 25 ms (5), no high-pass")
    armband.add_argument("--align", default="off", help="electrode alignment by circular shift: off, on (from "
                         "labeled calibration), unlabeled (from the calibration's energy profile), or a comma list "
                         "such as off,on,unlabeled (measured side by side)")
    armband.add_argument("--cross-dataset", metavar="KANOGA_ROOT", help="also pre-train on the long-term dataset "
                         "(subjects 1-4, days 1-3, 22 gestures) and fine-tune the same way")
    armband.add_argument("--pretrained-cache", metavar="DIR", help="keep pre-trained models in DIR and reuse them "
                         "(training is deterministic per seed; GPL-derived weights: keep them out of the repository)")
    armband.add_argument("--participants", help="evaluation participants, e.g. Male0,Female1 (default: all 17)")
    parser.add_argument("--model-cache", metavar="DIR", help="--adapt: keep the calibration models in DIR and "
                        "reuse them when the recipe, data and seed match")
    parser.add_argument("--incremental-models", help="inter-day: models that get the incremental bound "
                        "(default: all; retraining on up to 29 days is the slow part)")
    ad = parser.add_argument_group("unsupervised recalibration (--adapt)")
    ad.add_argument("--adapt", default="none", help="recalibration methods to compare, e.g. none,dann,scadann,"
                    "labeled: anything but 'none' runs the separated adapt/test splits of "
                    "myoxai.evaluation.adaptation (inter-day only; one cell per subject-day)")
    ad.add_argument("--splits", default="12", help="kanoga: adaptation trials of each split (12 = adapt on "
                    "trials 1-2, test on 3-4; 12,34 runs both ways)")
    ad.add_argument("--channels", help="conv widths of the adaptation model, e.g. 16,32,32 (default: the model's)")
    ad.add_argument("--adapt-epochs", type=int, help="maximum epochs of each recalibration (default 30)")
    ex = parser.add_argument_group("execution")
    how = ex.add_mutually_exclusive_group()
    how.add_argument("--workers", type=int, metavar="N", help="run cells on a local Dask cluster of N processes "
                     "(one torch thread each; needs myoxai[cluster])")
    how.add_argument("--scheduler", metavar="tcp://HOST:PORT", help="run cells on an existing Dask cluster")
    ex.add_argument("--worker-root", metavar="DIR", help="the dataset's path on the workers when it differs "
                    "from --root (default: --root)")
    ex.add_argument("--cache", metavar="DIR", help="one JSON per finished cell; a rerun skips them "
                    "(default: OUT's name + .cells/ beside --json)")
    ex.add_argument("--no-progress", action="store_true", help="no progress bar")


def _models(text: str) -> list[str]:
    from myoxai.errors import MyoxaiError
    from myoxai.models import MODEL_NAMES

    models = [m.strip() for m in text.split(",") if m.strip()]
    unknown = [m for m in models if m not in MODEL_NAMES]
    if unknown or not models:
        raise MyoxaiError(f"--models: unknown {unknown}; choose from {', '.join(MODEL_NAMES)}")
    return models


def _myo_sessions(root: Path, subjects: str | None, sessions: list[int] | None) -> list[tuple[int, int]]:
    """(participant, session) pairs present under ``root`` that match the selection."""
    from myoxai.errors import MyoxaiError
    from myoxai.io.myo_readings import session_dirs

    wanted = set(subjects.split(",")) if subjects else None
    pairs = []
    for folder in session_dirs(root):
        pid, _, sess = folder.name.partition("-")
        if pid.isdigit() and sess.isdigit() and (wanted is None or pid in wanted) \
                and (not sessions or int(sess) in sessions):
            pairs.append((int(pid), int(sess)))
    if wanted and (missing := wanted - {str(p) for p, _ in pairs}):
        raise MyoxaiError(f"--subjects: no sessions of {sorted(missing)} under {root}")
    return sorted(pairs)


def _protocol_grid(args: argparse.Namespace, root: Path) -> tuple[list, Any]:
    from myoxai.errors import MyoxaiError
    from myoxai.evaluation import parse_int_list, protocols
    from myoxai.models import TrainSettings

    models = _models(args.models)
    settings = TrainSettings(epochs=args.epochs, seed=args.seed, threads=args.threads)
    days = parse_int_list(args.days, "days")
    if args.dataset == "kanoga":
        from myoxai.io.kanoga import available_subjects

        subjects = parse_int_list(args.subjects, "subjects") or available_subjects(root)
        if not subjects:
            raise MyoxaiError(f"no subN folders under {root}; point --root at the unpacked long-term dataset")
        if args.protocol == "intra-day":
            cells = protocols.kanoga_intra_day(subjects, days or [1], models)
        elif args.protocol == "inter-day":
            inc = args.incremental_models.split(",") if args.incremental_models else None
            cells = protocols.kanoga_inter_day(subjects, days or [1], models, args.incremental_every, inc)
        else:
            ks = tuple(parse_int_list(args.trials_per_gesture, "trials-per-gesture") or (1, 2, 4))
            cells = protocols.kanoga_inter_subject(subjects, days or [1], models, ks)
    else:
        sessions = _myo_sessions(root, args.subjects, days)
        if args.protocol == "intra-day":
            cells = protocols.myo_readings_intra_session(sessions, models)
        elif args.protocol == "inter-day":
            cells = protocols.myo_readings_inter_session(sessions, models)
        else:
            raise MyoxaiError("inter-subject is implemented for the long-term dataset only (--dataset kanoga)")
    return cells, settings


def _adapt_grid(args: argparse.Namespace, root: Path) -> tuple[list, Any]:
    """The adaptation evaluation's cells from eval's options (day 1 / session 1 is always the calibration).

    The calibration model follows ``adaptation.recipe_settings`` (chosen on the selection days) with
    ``--epochs`` as its cap; pseudo-label settings are ``adaptation.pseudo_settings`` per dataset.
    """
    from dataclasses import replace

    from myoxai.adapt import RecalibrationSettings
    from myoxai.errors import MyoxaiError
    from myoxai.evaluation import adaptation, parse_int_list

    if args.protocol != "inter-day":
        raise MyoxaiError("--adapt evaluates the inter-day protocol (kanoga: day 1 → later days; myo-readings: "
                          "session 1 → 2, 3); use --protocol inter-day")
    methods = adaptation.parse_methods(args.adapt)
    model = next((m for m in _models(args.models) if m in ("spectrogram-convnet", "allconvnet")), None)
    if model is None:
        raise MyoxaiError("--adapt needs a torch spectrogram model in --models (spectrogram-convnet or allconvnet)")
    recal = replace(RecalibrationSettings(), seed=args.seed, threads=args.threads,
                    pseudo=adaptation.pseudo_settings(args.dataset))
    if args.adapt_epochs is not None:
        recal = replace(recal, max_epochs=args.adapt_epochs)
    base = adaptation.recipe_settings(model, args.seed, args.threads)
    model_args = {**base.model_args, "channels": parse_int_list(args.channels, "channels")} if args.channels \
        else base.model_args
    settings = replace(base, model_args=model_args, train=replace(base.train, epochs=args.epochs), recal=recal,
                       cache_dir=args.model_cache)
    days = parse_int_list(args.days, "days")
    if args.dataset == "kanoga":
        from myoxai.io.kanoga import available_subjects

        subjects = parse_int_list(args.subjects, "subjects") or available_subjects(root)
        splits = [sp.strip() for sp in args.splits.split(",") if sp.strip()]
        if not splits or any(not sp.isdigit() or not set(sp) <= set("1234") for sp in splits):
            raise MyoxaiError(f"--splits {args.splits!r}: adaptation trials per split, e.g. 12,34")
        cells = adaptation.kanoga_cells(subjects, days or range(2, 31), methods, splits)
    else:
        pairs = _myo_sessions(root, args.subjects, None)
        without_first = sorted({p for p, _ in pairs} - {p for p, k in pairs if k == 1})
        if without_first:
            raise MyoxaiError(f"participants {without_first} have no session 1 under {root} (the calibration)")
        cells = adaptation.myo_readings_cells([(p, k) for p, k in pairs if not days or k in days], methods)
    return cells, settings


def _class_names(dataset: str) -> tuple[str, ...]:
    if dataset == "kanoga":
        from myoxai.io.kanoga import MOTION_NAMES

        return MOTION_NAMES
    from myoxai.io.myo_readings import CLASS_NAMES

    return CLASS_NAMES


def run(args: argparse.Namespace) -> int:
    """Run one evaluation protocol on a dataset, write the JSON and print the summary table."""
    import contextlib
    import json
    import sys

    from myoxai import __version__
    from myoxai.config import DEFAULT_CONFIG
    from myoxai.errors import MyoxaiError
    from myoxai.evaluation.cells import GridContext
    from myoxai.evaluation.executor import run_grid
    from myoxai.evaluation.metrics import summarize, summary_markdown
    from myoxai.io.outputs import check_output, check_output_dir, write_text

    root = Path(args.root).expanduser()
    if not root.exists():
        raise MyoxaiError(f"--root {root} does not exist; unpack the dataset there first")
    out_path = Path(args.json).expanduser()
    with contextlib.suppress(OSError):  # a missing results folder is made; an unwritable one is reported next
        out_path.parent.mkdir(parents=True, exist_ok=True)
    # refused before hours of work (finished cells would still come from the cache)
    check_output(out_path, overwrite=args.overwrite, inputs=[args.root])
    if args.figures:
        check_output_dir(args.figures, overwrite=args.overwrite)
    if args.dataset == "myo-armband":  # its own runner (pre-training is shared by every participant)
        from myoxai.evaluation.myo_armband_run import run_armband

        print(run_armband(args))
        return 0
    if args.workers is not None and args.workers < 1:
        raise MyoxaiError("--workers takes a number of processes ≥ 1")
    adapt = getattr(args, "adapt", "none") != "none"
    cells, settings = (_adapt_grid if adapt else _protocol_grid)(args, root)
    if not cells:
        raise MyoxaiError("the selection gives nothing to evaluate; check --subjects/--days")
    settings_key = settings.to_dict()
    if args.worker_root and not args.scheduler:
        raise MyoxaiError("--worker-root is the dataset's path on a cluster's workers; use it with --scheduler")
    worker_root = str(Path(args.worker_root).expanduser()) if args.worker_root else str(root)
    context = GridContext(args.dataset, worker_root, args.seed, args.threads, settings, settings_key)
    cache = Path(args.cache) if args.cache else out_path.with_name(out_path.name.removesuffix(".json") + ".cells")
    # the client hashes the data it sees at --root; the cells read it at the workers' path
    result = run_grid(cells, context, workers=args.workers, scheduler=args.scheduler, cache_dir=cache,
                      progress=not args.no_progress, data_root=str(root))
    records = result.records
    summary = summarize(records)
    if adapt:
        from myoxai.evaluation.adaptation import summarize as adapt_table

        table = adapt_table(records) if records else ""
    else:
        table = summary_markdown(summary)
    mode = "scheduler" if args.scheduler else "workers" if args.workers else "sequential"
    command = {k: v for k, v in vars(args).items() if not k.startswith("_")}
    out = {"myoxai": __version__, "command": command, "signal_config": DEFAULT_CONFIG.to_dict(),
           "settings": settings_key, "seed": args.seed, "seconds": round(result.wall_seconds, 1),
           "execution": {"mode": mode, "workers": result.workers, "scheduler": args.scheduler,
                         "dashboard": result.dashboard, "startup_seconds": round(result.startup_seconds, 2),
                         "close_seconds": round(result.teardown_seconds, 2),
                         "cache": str(cache)},
           "class_names": list(_class_names(args.dataset)), "records": records, "summary": summary,
           "summary_markdown": table, "cells": result.cells,
           "failed_cells": [{"label": c["label"], "id": c["id"], "error": c["error"]} for c in result.failed]}
    write_text(out_path, json.dumps(out, indent=1, default=str), overwrite=args.overwrite, inputs=[args.root])
    if args.figures:
        from myoxai.evaluation.figures import write_figures

        write_figures([r for r in records if "confusion" in r], _class_names(args.dataset), args.figures)
    print(table)
    cached = sum(c["cached"] for c in result.cells)
    print(f"{len(result.cells)} cells: {len(result.cells) - cached - len(result.failed)} computed, {cached} from "
          f"the cache ({cache}), {len(result.failed)} failed; {result.wall_seconds:.1f} s ({mode})")
    if result.failed:
        print(f"myoxai eval: {len(result.failed)} cell(s) failed (records of the others are in {out_path}):",
              file=sys.stderr)
        for c in result.failed:
            print(f"  {c['label']}: {c['error']}", file=sys.stderr)
        return 1
    return 0
