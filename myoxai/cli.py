"""``myoxai`` command line: a thin dispatcher over one module per command in ``myoxai.commands``.

Command modules import their heavy dependencies (torch, Qt) inside ``run`` so ``myoxai --help``
and light commands start fast. A command module that fails to import is a broken install and
raises at once, rather than hiding the command. A ``MyoxaiError`` (a mistake the user can fix) prints one line and
exits with code 2; anything else is a bug and keeps its traceback.
"""

from __future__ import annotations

import argparse
import importlib
import logging
import sys

from myoxai import __version__
from myoxai.errors import MyoxaiError

# command name -> module under myoxai.commands (each has HELP, add_arguments(parser), run(args))
COMMANDS = {"info": "info", "convert": "convert", "replay": "replay", "record": "record", "stream": "stream",
            "train": "train", "eval": "eval", "explain": "explain", "live": "live", "motion-test": "motion",
            "drift": "drift", "adapt": "adapt", "bench": "bench", "export": "export"}


def build_parser() -> argparse.ArgumentParser:
    """The ``myoxai`` parser: one subcommand per module of ``myoxai.commands``."""
    parser = argparse.ArgumentParser(prog="myoxai", description=__doc__.splitlines()[0])
    parser.add_argument("--version", action="version", version=f"myoxai {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name, module in COMMANDS.items():
        # an import error is a broken install: loud
        mod = importlib.import_module(f"myoxai.commands.{module}")
        p = sub.add_parser(name, help=mod.HELP, description=mod.HELP)
        mod.add_arguments(p)
        p.set_defaults(_run=mod.run)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Run one ``myoxai`` command; the exit code (2 with a one-line message on a ``MyoxaiError``)."""
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.DEBUG if args.verbose else logging.WARNING,
                        format="%(levelname)s %(name)s: %(message)s")
    try:
        return int(args._run(args) or 0)
    except MyoxaiError as exc:
        print(f"myoxai {args.command}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"myoxai {args.command}: interrupted", file=sys.stderr)
        return 130
    except OSError as exc:  # the system refused a file or device the user named: say which, in one line
        where = f" ({exc.filename})" if exc.filename else ""
        print(f"myoxai {args.command}: error: {exc.strerror or exc}{where}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
