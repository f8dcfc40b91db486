"""``myoxai convert SRC OUT.xdf``: a dataset session/trial folder (or any readable recording) to XDF."""

from __future__ import annotations

import argparse

from myoxai.commands.replay import seconds

HELP = "convert a dataset session, day folder, LibEMG session or file to an XDF recording (EMG + gesture markers)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai convert`` options, added to its subcommand parser."""
    parser.add_argument("src", help="myo-readings session folder or <label>.txt, long-term day folder or trial, "
                        "Myo Armband round folder (training0/Test0/Test1) or classe_<i>.dat, LibEMG session folder "
                        "(R_<rep>_C_<class>_EMG.csv), or .xdf")
    parser.add_argument("out", help="output .xdf path (never an input; an existing file only with --overwrite)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    parser.add_argument("--seconds-per-file", type=seconds, default=None,
                        help="myo-readings sessions: keep only the first N seconds of each gesture file")
    parser.add_argument("--skip-bad-lines", action="store_true",
                        help="drop corrupt lines in dataset text files (counted and logged) instead of failing")
    parser.add_argument("--rotate", type=int, default=0, metavar="N",
                        help="circularly shift the electrodes by N (a band put on N electrodes round; as "
                             "`myoxai drift --rotate`), e.g. to try drift detection and `myoxai adapt`")


def run(args: argparse.Namespace) -> int:
    """Convert ``args.src`` to one XDF file, refusing to overwrite it without ``--overwrite``."""
    from pathlib import Path

    from myoxai.errors import MyoxaiError
    from myoxai.io import myo_readings
    from myoxai.io.open import open_recording
    from myoxai.io.outputs import atomic_output, check_output
    from myoxai.io.xdf import write_recording

    out = Path(args.out)
    if out.suffix.lower() != ".xdf":
        raise MyoxaiError(f"{out}: the output must end in .xdf")
    src = Path(args.src)
    check_output(out, overwrite=args.overwrite, inputs=[src])
    if args.seconds_per_file is not None:
        if not (src.is_dir() and list(src.glob("[0-9].txt"))):
            raise MyoxaiError("--seconds-per-file applies to a myo-readings session folder only")
        rec = myo_readings.load_session(src, seconds_per_file=args.seconds_per_file, strict=not args.skip_bad_lines)
    else:
        rec = open_recording(src, strict=not args.skip_bad_lines)
    if args.rotate:
        import numpy as np

        rec.samples = np.roll(rec.samples, args.rotate, axis=1)
        rec.meta["rotated_by"] = int(args.rotate)
    with atomic_output(out, overwrite=args.overwrite, inputs=[src]) as tmp:  # a full disk leaves no half file
        write_recording(tmp, rec, overwrite=True)
    print(f"wrote {out}: {len(rec)} samples, {rec.duration:.1f} s, {len(rec.segments())} labeled segments")
    return 0
