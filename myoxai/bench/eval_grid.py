"""``myoxai bench eval-grid``: one fixed evaluation grid run sequentially and on a local Dask cluster.

The grid is the long-term dataset's intra-day protocol (leave-one-trial-out) for LDA and the
All-ConvNet over subjects × days, so every cell trains. It reports wall times, the speed-up with
and without the cluster's start-up, the scheduling overhead per cell and whether both runs gave
identical records. The machine's load average is recorded with every figure: on a shared
machine a speed-up says as much about the neighbours as about the executor.
"""

from __future__ import annotations

import argparse
import os
from pathlib import Path

from myoxai.bench.report import Result

HELP = "evaluation grid sequential vs a local Dask cluster: speed-up, overhead per cell, identical records"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai bench eval-grid`` options, added to its subcommand parser."""
    parser.add_argument("--root", default=str(Path.home() / ".cache" / "myoxai" / "kanoga"),
                        help="unpacked long-term dataset (default ~/.cache/myoxai/kanoga)")
    parser.add_argument("--subjects", default="1-4")
    parser.add_argument("--days", default="1,2")
    parser.add_argument("--models", default="lda,allconvnet")
    parser.add_argument("--epochs", type=int, default=5, help="maximum epochs of each All-ConvNet cell")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)


def _overhead_ms(wall: float, slots: int, cells: list[dict]) -> float:
    """Time per cell not spent inside a cell: slots × wall − Σ cell seconds, over the cells."""
    busy = sum(c["seconds"] or 0.0 for c in cells)
    return 1e3 * (slots * wall - busy) / max(len(cells), 1)


def run(args: argparse.Namespace) -> list[Result]:
    """The same evaluation grid run sequentially and on a local Dask cluster: times and identical records."""
    from myoxai.errors import MyoxaiError
    from myoxai.evaluation import cells as cellmod
    from myoxai.evaluation import parse_int_list, protocols
    from myoxai.evaluation.cells import GridContext
    from myoxai.evaluation.executor import run_grid
    from myoxai.models import TrainSettings

    if not Path(args.root).is_dir():
        raise MyoxaiError(f"--root {args.root} does not exist; unpack the long-term dataset there")
    subjects = parse_int_list(args.subjects, "subjects")
    days = parse_int_list(args.days, "days")
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    cells = protocols.kanoga_intra_day(subjects, days, models)
    settings = TrainSettings(epochs=args.epochs, seed=args.seed, threads=1)
    context = GridContext("kanoga", str(Path(args.root).resolve()), args.seed, 1, settings, settings.to_dict())
    load_start = os.getloadavg()
    cellmod._MEMO.clear()  # the sequential run loads its data like a fresh process would
    seq = run_grid(cells, context, progress=False)
    load_mid = os.getloadavg()
    par = run_grid(cells, context, workers=args.workers, progress=False)
    load_end = os.getloadavg()
    failed = len(seq.failed) + len(par.failed)
    if failed:
        raise MyoxaiError(f"{failed} cells failed in the benchmark grid: {(seq.failed + par.failed)[0]['error']}")
    p = {"grid": f"kanoga intra-day subjects {args.subjects} days {args.days} models {args.models} "
                 f"epochs {args.epochs}", "cells": len(cells), "workers": args.workers, "cpus": os.cpu_count(),
         "seed": args.seed, "loadavg_1min": [round(x[0], 2) for x in (load_start, load_mid, load_end)]}
    run_wall = par.wall_seconds - par.startup_seconds - par.teardown_seconds
    return [
        Result("eval_grid.sequential_seconds", seq.wall_seconds, "s", p),
        Result("eval_grid.parallel_seconds", par.wall_seconds, "s", {**p, "includes": "cluster start and close"}),
        Result("eval_grid.cluster_startup_seconds", par.startup_seconds, "s", p),
        Result("eval_grid.cluster_close_seconds", par.teardown_seconds, "s", p),
        Result("eval_grid.speedup", seq.wall_seconds / par.wall_seconds, "x", p),
        Result("eval_grid.speedup_excluding_cluster_start_and_close", seq.wall_seconds / run_wall, "x", p),
        Result("eval_grid.overhead_per_cell_sequential", _overhead_ms(seq.wall_seconds, 1, seq.cells), "ms", p),
        Result("eval_grid.overhead_per_cell_parallel", _overhead_ms(run_wall, par.workers, par.cells), "ms",
               {**p, "why": "scheduling, transfer, worker imports and idle tail, per cell"}),
        Result("eval_grid.records_identical", float(seq.records == par.records), "bool", p),
    ] + [Result(f"eval_grid.{mode}.{name}", value, unit, {**p, "why": why})
         for mode, res, wall in (("sequential", seq, seq.wall_seconds), ("parallel", par, run_wall))
         for name, value, unit, why in _cpu(res, wall)]


def _cpu(result, wall: float) -> list[tuple[str, float, str, str]]:
    """CPU seconds the cells' threads got, and their share of the wall time the slots had.

    On a loaded machine a low share, not the executor, is what slows a run down.
    """
    cpu = sum(c["cpu_seconds"] or 0.0 for c in result.cells)
    busy = sum(c["seconds"] or 0.0 for c in result.cells)
    return [("cell_cpu_seconds", cpu, "s", "CPU time of the cells' threads (same work in both modes)"),
            ("cell_cpu_share", cpu / busy if busy else 0.0, "fraction",
             "CPU seconds per wall second while a cell ran (1 = a core of its own)"),
            ("slot_utilisation", busy / (result.workers * wall) if wall else 0.0, "fraction",
             "time the worker slots spent inside cells")]
