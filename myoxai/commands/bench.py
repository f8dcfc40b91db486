"""``myoxai bench NAME``: run one benchmark and print/write results in the common schema."""

from __future__ import annotations

import argparse
import importlib

from myoxai.bench import BENCHMARKS

HELP = f"run a benchmark ({', '.join(BENCHMARKS)}) and print machine-readable results"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    sub = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for name in BENCHMARKS:
        mod = importlib.import_module(f"myoxai.bench.{name}")  # a module that fails to import is an error
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        p.add_argument("--json", metavar="OUT", help="write the results as JSON to OUT")
        mod.add_arguments(p)
        p.set_defaults(_bench=mod.run)


def run(args: argparse.Namespace) -> int:
    from myoxai.bench.report import write_report

    write_report(args._bench(args), args.json)
    return 0
