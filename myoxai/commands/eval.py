"""``myoxai eval``: train and test models on a real dataset under a named protocol; JSON + figures.

The command parses its options into ``EvalOptions``; ``myoxai.evaluation.plan`` turns them into
a grid of independent cells (one context per ``--seeds`` seed) that ``myoxai.evaluation.executor``
runs in this process, on ``--workers N`` local Dask processes or on a Dask cluster at
``--scheduler``; finished cells are cached (``--cache``, keyed by code, settings and data) so an
interrupted run resumes where it stopped. ``myoxai.evaluation.stats`` compares every method with
``--reference`` over subjects.
"""

from __future__ import annotations

import argparse
from dataclasses import replace
from pathlib import Path
from typing import Any

HELP = ("evaluate models on the long-term dataset, myo-readings or the Myo Armband dataset (intra-day, inter-day, "
        "inter-subject)")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai eval`` options, added to its subcommand parser."""
    from myoxai.cliargs import int_list_arg, name_list, positive_int, seed_list
    from myoxai.config import SIGNAL_CONFIGS

    parser.add_argument("--dataset", required=True, choices=("kanoga", "myo-readings", "myo-armband", "recordings",
                                                             "libemg"),
                        help="recordings: your sessions, ROOT/<person>/<session>.xdf (record, the wizard); libemg: "
                        "ROOT/<person>/<session>/ LibEMG folders (sessions in recording order)")
    parser.add_argument("--root", required=True, help="the unpacked dataset folder (recordings/libemg: one folder "
                        "per person)")
    parser.add_argument("--subjects", type=name_list, help="kanoga: 1-4 or 1,2; myo-readings: participant ids; "
                        "recordings, libemg: person folder names (default: all)")
    parser.add_argument("--days", type=int_list_arg("days"), help="kanoga days, e.g. 1-30 (default 1; with --adapt: "
                        "the test days, by default those after --calibration-days up to 30, never a calibration "
                        "day); myo-readings, recordings, libemg: sessions, e.g. 1-3")
    parser.add_argument("--protocol", required=True, choices=("intra-day", "inter-day", "inter-subject"),
                        help="myo-readings: intra-day = intra-session time split, inter-day = session 1 → later; "
                        "recordings, libemg: intra-day = leave-one-repetition-out, inter-day = session 1 → later "
                        "(--adapt: adapt on the first half of its repetitions, test the rest)")
    parser.add_argument("--models", type=name_list, default=["lda", "allconvnet"], help="comma-separated: "
                        "spectrogram-convnet, allconvnet, scatnet, lstm-fin, lda, ring-tower (default lda,allconvnet)")
    parser.add_argument("--json", required=True, metavar="OUT", help="write all records and the summary here")
    parser.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
    parser.add_argument("--figures", metavar="DIR", help="write PNG figures into DIR")
    seeds = parser.add_mutually_exclusive_group()
    seeds.add_argument("--seeds", type=seed_list, help="run seeds, e.g. 0,1,2 (or a count: 3 = 0,1,2); every "
                       "record carries its seed and the summary averages seeds within a subject first")
    seeds.add_argument("--seed", type=int, help="one run seed (default 0); each cell's seed derives from it")
    parser.add_argument("--reference", help="the method every other one is compared with (paired over subjects: "
                        "bootstrap interval, Wilcoxon, Friedman + Holm); default none with --adapt, else lda")
    parser.add_argument("--epochs", type=positive_int, default=30, help="maximum epochs (early stopping usually "
                        "ends sooner)")
    parser.add_argument("--threads", type=positive_int, default=1, help="torch threads per cell")
    parser.add_argument("--ensemble", type=positive_int, default=1, metavar="K", help="train each model as an "
                        "ensemble of K seeds (member i: seed + 1000·i, so member 0 is the single model; mean "
                        "probability): kanoga --adapt (inter-day) and --protocol intra-day (default 1: one model)")
    parser.add_argument("--trials-per-gesture", type=int_list_arg("trials-per-gesture"),
                        help="inter-subject calibration sizes (default 1,2,4)")
    parser.add_argument("--incremental-every", type=positive_int, default=1,
                        help="inter-day: evaluate the incremental upper bound on every k-th test day (and the last)")
    armband = parser.add_argument_group("myo-armband (inter-subject: pre-train on 19 people, calibrate 17 new ones)")
    armband.add_argument("--signal", choices=tuple(SIGNAL_CONFIGS), default="default",
                         help="default: 15 Hz high-pass, 50-sample windows every 10; paper: Côté-Allard et al.'s "
                         "260 ms (52) windows every 25 ms (5), no high-pass; short-200/short-150: 40/30-sample "
                         "windows every 5 (myoxai.config.SIGNAL_CONFIGS)")
    armband.add_argument("--align", type=name_list, default=["off"], help="electrode alignment by circular shift: "
                         "off, on (from labeled calibration), unlabeled (from the calibration's energy profile), or a "
                         "comma list such as off,on,unlabeled (measured side by side)")
    armband.add_argument("--cross-dataset", metavar="KANOGA_ROOT", help="also pre-train on the long-term dataset "
                         "(subjects 1-4, days 1-3, 22 gestures) and fine-tune the same way")
    armband.add_argument("--pretrained-cache", metavar="DIR", help="keep pre-trained models in DIR, named by all "
                         "their settings, data hash and code (GPL-derived weights: keep them out of the repository)")
    armband.add_argument("--participants", type=name_list, help="evaluation participants, e.g. Male0,Female1 "
                         "(default: all 17)")
    parser.add_argument("--model-cache", metavar="DIR", help="--adapt: keep the calibration models in DIR (named by "
                        "recipe, data hash, seed and code)")
    parser.add_argument("--incremental-models", type=name_list, help="inter-day: models that get the incremental "
                        "bound (default: all; retraining on up to 29 days is the slow part)")
    ad = parser.add_argument_group("unsupervised recalibration (--adapt)")
    ad.add_argument("--adapt", type=name_list, default=["none"], help="recalibration methods to compare, e.g. "
                    "none,dann,scadann,labeled: anything but 'none' runs the separated adapt/test splits of "
                    "myoxai.evaluation.adaptation (inter-day only; one cell per subject-day; one model)")
    ad.add_argument("--calibration-days", type=int_list_arg("calibration-days"), default=[1], help="kanoga: "
                    "the labeled days the calibration model trains on (all their trials), e.g. 1,2 for a user who "
                    "calibrated on days 1 and 2 (default 1); they cannot be test days")
    ad.add_argument("--pretrain", choices=("none", "others", "myo-armband"), default="none", help="kanoga: others = "
                    "pre-train the calibration model on days 1-3 of the root's other subjects (never the scored one), "
                    "myo-armband = on the Myo Armband dataset's 19 pre-training participants (--pretrain-root), then "
                    "calibrate from those weights (default none)")
    ad.add_argument("--pretrain-root", metavar="DIR", help="--pretrain myo-armband: the unpacked Myo Armband dataset "
                    "(the folder holding PreTrainingDataset/)")
    ad.add_argument("--splits", type=name_list, default=["12"], help="kanoga: adaptation trials of each split (12 = "
                    "adapt on trials 1-2, test on 3-4; 12,34 runs both ways)")
    ad.add_argument("--channels", type=int_list_arg("channels"), help="conv widths of the adaptation model, e.g. "
                    "16,32,32 (default: the model's)")
    ad.add_argument("--adapt-epochs", type=positive_int, help="maximum epochs of each recalibration phase (default 15)")
    ad.add_argument("--adapt-patience", type=positive_int, help="epochs without improvement before a recalibration "
                    "phase stops (default 3; SCADANN's reference: --adapt-epochs 500 --adapt-patience 10)")
    ex = parser.add_argument_group("execution")
    how = ex.add_mutually_exclusive_group()
    how.add_argument("--workers", type=positive_int, metavar="N", help="run cells on a local Dask cluster of N "
                     "processes (one torch thread each; needs myoxai[cluster])")
    how.add_argument("--scheduler", metavar="tls://HOST:PORT", help="run cells on an existing Dask cluster; a Dask "
                     "scheduler runs the code its clients send, so use only one you trust, over tls:// with "
                     "--security (tcp:// sends everything in clear text)")
    ex.add_argument("--security", metavar="FILE", help="with a tls:// --scheduler: YAML/JSON with tls_ca_file, "
                    "tls_client_cert and tls_client_key (paths relative to FILE)")
    ex.add_argument("--worker-root", metavar="DIR", help="the dataset's path on the workers when it differs "
                    "from --root (default: --root)")
    ex.add_argument("--cache", metavar="DIR", help="one JSON per finished cell, keyed by everything it depends on "
                    "(code included); a rerun skips them (default: OUT's name + .cells/ beside --json)")
    ex.add_argument("--no-progress", action="store_true", help="no progress bar")


def options(args: argparse.Namespace) -> Any:
    """The typed ``EvalOptions`` of a parsed command line."""
    from myoxai.evaluation.plan import EvalOptions

    def path(text: str | None) -> Path | None:
        return Path(text).expanduser() if text else None

    return EvalOptions(
        dataset=args.dataset, root=Path(args.root).expanduser(), protocol=args.protocol, models=args.models,
        subjects=args.subjects, days=args.days,
        seeds=args.seeds if args.seeds else [0 if args.seed is None else args.seed], epochs=args.epochs,
        threads=args.threads, trials_per_gesture=args.trials_per_gesture, incremental_every=args.incremental_every,
        incremental_models=args.incremental_models, adapt=args.adapt, splits=args.splits, channels=args.channels,
        calibration_days=args.calibration_days, pretrain=args.pretrain, ensemble=args.ensemble,
        pretrain_root=path(args.pretrain_root),
        adapt_epochs=args.adapt_epochs, adapt_patience=args.adapt_patience, model_cache=args.model_cache,
        signal=args.signal, align=args.align,
        cross_dataset=path(args.cross_dataset), pretrained_cache=path(args.pretrained_cache),
        participants=args.participants)


def _class_names(dataset: str, root: Path) -> tuple[str, ...]:
    from myoxai.evaluation.data import OWN_DATASETS, own_class_names

    if dataset in OWN_DATASETS:
        return own_class_names(dataset, str(root))
    if dataset == "kanoga":
        from myoxai.io.kanoga import MOTION_NAMES

        return MOTION_NAMES
    if dataset == "myo-armband":
        from myoxai.io.myo_armband import GESTURES

        return GESTURES
    from myoxai.io.myo_readings import CLASS_NAMES

    return CLASS_NAMES


def run(args: argparse.Namespace) -> int:
    """Run one evaluation protocol on a dataset, write the JSON and print the summary table."""
    import contextlib
    import json
    import os
    import sys

    from myoxai import __version__
    from myoxai.config import SIGNAL_CONFIGS
    from myoxai.errors import MyoxaiError
    from myoxai.evaluation.executor import run_grid
    from myoxai.evaluation.metrics import summarize, summary_markdown
    from myoxai.evaluation.plan import plan
    from myoxai.evaluation.stats import compare, default_reference
    from myoxai.io.outputs import check_output, check_output_dir, write_text

    opts = options(args)
    cores = os.cpu_count() or 1
    if args.workers and args.workers > 4 * cores:
        raise MyoxaiError(f"--workers {args.workers}: at most {4 * cores} (4 × this machine's {cores} cores); "
                          "for more, start a Dask cluster and pass --scheduler")
    if args.threads > cores and not args.scheduler:
        raise MyoxaiError(f"--threads {args.threads}: at most {cores} (this machine's cores)")
    if not opts.root.exists():
        raise MyoxaiError(f"--root {opts.root} does not exist; unpack the dataset there first")
    out_path = Path(args.json).expanduser()
    with contextlib.suppress(OSError):  # a missing results folder is made; an unwritable one is reported next
        out_path.parent.mkdir(parents=True, exist_ok=True)
    # refused before hours of work (finished cells would still come from the cache)
    check_output(out_path, overwrite=args.overwrite, inputs=[args.root])
    if args.figures:
        check_output_dir(args.figures, overwrite=args.overwrite)
    security = None
    if args.security:
        if not args.scheduler:
            raise MyoxaiError("--security is the TLS credentials for a --scheduler; the local --workers cluster makes "
                              "its own")
        from myoxai.evaluation.dask_cluster import load_security

        security = load_security(args.security)
    if args.worker_root and not args.scheduler:
        raise MyoxaiError("--worker-root is the dataset's path on a cluster's workers; use it with --scheduler")
    grid = plan(opts)
    if args.worker_root:  # the client hashes the data it sees at --root; the cells read it at the workers' path
        grid.contexts = [replace(c, root=str(Path(args.worker_root).expanduser())) for c in grid.contexts]
    cache = Path(args.cache) if args.cache else out_path.with_name(out_path.name.removesuffix(".json") + ".cells")
    result = run_grid(grid.cells, grid.contexts, workers=args.workers, scheduler=args.scheduler, cache_dir=cache,
                      progress=not args.no_progress, data_root=str(opts.root), security=security)
    records = result.records
    summary = summarize(records)
    reference = args.reference or default_reference(records)
    if reference is not None and records and reference not in _methods(records):
        raise MyoxaiError(f"--reference {reference}: no such method in this run; choose from "
                          f"{', '.join(sorted(_methods(records)))}")
    stats = compare(records, reference) if reference and records else None
    if grid.kind == "adapt":
        from myoxai.evaluation.adaptation_report import summarize as adapt_table

        table = adapt_table(records) if records else ""
        if stats:
            from myoxai.evaluation.stats import METRICS, comparison_markdown

            table = "\n\n".join([table, *(t for t in (comparison_markdown(stats, m) for m in METRICS) if t)])
    else:
        table = summary_markdown(summary, stats)
    mode = "scheduler" if args.scheduler else "workers" if args.workers else "sequential"
    command = {k: v for k, v in vars(args).items() if not k.startswith("_")}
    out = {"myoxai": __version__, "code": result.code, "command": command,
           "signal_config": SIGNAL_CONFIGS[opts.signal].to_dict(),
           "settings": grid.contexts[0].settings_key, "seeds": opts.seeds, "seconds": round(result.wall_seconds, 1),
           "execution": {"mode": mode, "workers": result.workers, "scheduler": args.scheduler,
                         "dashboard": result.dashboard, "startup_seconds": round(result.startup_seconds, 2),
                         "close_seconds": round(result.teardown_seconds, 2),
                         "cache": str(cache), "cache_other_code": result.foreign_cache},
           "class_names": list(_class_names(args.dataset, opts.root)), "records": records, "summary": summary,
           "statistics": stats, "summary_markdown": table, "cells": result.cells,
           "failed_cells": [{"label": c["label"], "id": c["id"], "error": c["error"]} for c in result.failed]}
    write_text(out_path, json.dumps(out, indent=1, default=str), overwrite=args.overwrite, inputs=[args.root])
    if args.figures:
        from myoxai.evaluation.figures import write_figures

        write_figures([r for r in records if "confusion" in r], _class_names(args.dataset, opts.root), args.figures)
    print(table)
    cached = sum(c["cached"] for c in result.cells)
    code = result.code
    print(f"{len(result.cells)} cells: {len(result.cells) - cached - len(result.failed)} computed, {cached} from "
          f"the cache ({cache}), {len(result.failed)} failed; {result.wall_seconds:.1f} s ({mode}); code "
          f"{code['sources']} (git {code['git_commit'] or '-'}{' dirty' if code['git_dirty'] else ''})")
    if result.foreign_cache:
        print(f"the cache also holds {sum(result.foreign_cache.values())} cell(s) from other code, not used: "
              f"{result.foreign_cache}")
    if result.failed:
        print(f"myoxai eval: {len(result.failed)} cell(s) failed (records of the others are in {out_path}):",
              file=sys.stderr)
        for c in result.failed:
            print(f"  {c['label']}: {c['error']}", file=sys.stderr)
        return 1
    return 0


def _methods(records: list[dict[str, Any]]) -> set[str]:
    from myoxai.evaluation.stats import arm

    by_adapt = any(r["adapt"] != "none" for r in records)
    return {arm(r, by_adapt)[1] for r in records}
