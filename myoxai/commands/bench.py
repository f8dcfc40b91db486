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
        p.add_argument("--overwrite", action="store_true", help="replace an existing --json file")
        mod.add_arguments(p)
        p.set_defaults(_bench=mod.run)


INPUT_OPTIONS = ("data", "root", "recording", "model", "cache")
"""Benchmark options that name files the benchmark reads: the ``--json`` output may be none of them."""


def run(args: argparse.Namespace) -> int:
    """Run the chosen benchmark and print (and with ``--json`` write) its results."""
    from myoxai.bench.report import write_report
    from myoxai.io.outputs import check_output

    inputs = [v for k in INPUT_OPTIONS for v in _as_list(getattr(args, k, None))]
    if args.json:  # refused now, not after the benchmark ran
        check_output(args.json, overwrite=args.overwrite, inputs=inputs)
    write_report(args._bench(args), args.json, overwrite=args.overwrite, inputs=inputs)
    return 0


def _as_list(value: object) -> list[str]:
    if value is None:
        return []
    return [str(v) for v in value] if isinstance(value, list) else [str(value)]
