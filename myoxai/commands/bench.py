"""``myoxai bench NAME``: run one benchmark and print/write results in the common schema."""

from __future__ import annotations

import argparse
import importlib

from myoxai.bench import BENCHMARKS

HELP = "run a benchmark (dsp, models, shapley, recalibrate, live, acquisition, eval-grid); machine-readable results"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for name in BENCHMARKS:
        try:
            mod = importlib.import_module(f"myoxai.bench.{name.replace('-', '_')}")
        except ModuleNotFoundError as exc:
            if exc.name != f"myoxai.bench.{name.replace('-', '_')}":
                raise
            continue
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        p.add_argument("--json", metavar="OUT", help="write the results as JSON to OUT")
        mod.add_arguments(p)
        p.set_defaults(_bench=mod.run)


def run(args: argparse.Namespace) -> int:
    from myoxai.bench.report import write_report

    write_report(args._bench(args), args.json)
    return 0
