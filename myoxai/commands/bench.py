"""``myoxai bench NAME``: run one benchmark and print/write results in the common schema."""

from __future__ import annotations

import argparse
import importlib

from myoxai.bench import BENCHMARKS

HELP = f"run a benchmark ({', '.join(BENCHMARKS)}) and print machine-readable results"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """One subcommand per ``myoxai.bench`` module, each with ``--json`` and its own options."""
    sub = parser.add_subparsers(dest="benchmark", metavar="BENCHMARK", required=True)
    for name in BENCHMARKS:
        # a module that fails to import is an error, not a silently missing benchmark
        mod = importlib.import_module(f"myoxai.bench.{name.replace('-', '_')}")
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        p.add_argument("--json", metavar="OUT", help="write the results as JSON to OUT")
        mod.add_arguments(p)
        p.set_defaults(_bench=mod.run)


def run(args: argparse.Namespace) -> int:
    """Run the chosen benchmark and print (and with ``--json`` write) its results."""
    from myoxai.bench.report import write_report

    write_report(args._bench(args), args.json)
    return 0
