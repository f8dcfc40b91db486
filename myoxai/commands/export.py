"""``myoxai export SRC OUTDIR --format libemg``: a recording written out in another tool's layout."""

from __future__ import annotations

import argparse

HELP = "write a recording (XDF, dataset folder or file) in another tool's layout (--format libemg)"

# format name -> (module under myoxai.io, its writer function): one line per format
FORMATS = {"libemg": ("libemg", "write_session")}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai export`` options, added to its subcommand parser."""
    parser.add_argument("src", help="any recording myoxai reads: .xdf, a dataset session folder or file")
    parser.add_argument("out", help="output folder (LibEMG: one R_<rep>_C_<class>_EMG.csv per labelled repetition "
                        "and collection_details.json)")
    parser.add_argument("--format", choices=sorted(FORMATS), default="libemg", help="output layout (default libemg)")
    parser.add_argument("--overwrite", action="store_true", help="write into a folder that already holds files")


def run(args: argparse.Namespace) -> int:
    """Read ``args.src`` and write it in ``args.format`` under ``args.out``."""
    import importlib
    from pathlib import Path

    from myoxai.errors import MyoxaiError
    from myoxai.io.open import open_recording

    src, out = Path(args.src), Path(args.out)
    if out.exists() and out.resolve() == src.resolve():
        raise MyoxaiError("the output folder is the input; give a new folder")
    rec = open_recording(src)
    module, function = FORMATS[args.format]
    write = getattr(importlib.import_module(f"myoxai.io.{module}"), function)
    report = write(rec, out, overwrite=args.overwrite)
    skipped = f"; {report['unlabeled_samples']} unlabelled samples left out" if report["unlabeled_samples"] else ""
    print(f"wrote {out}: {report['files']} repetition files, {report['samples']} samples ({args.format}){skipped}")
    return 0
