"""Bring a LibEMG session folder into myoxai, explain a model's decisions on it, and take it back out.

    python examples/libemg_convert_explain.py [LIBEMG_FOLDER] [--model M]

LIBEMG_FOLDER holds ``R_<rep>_C_<class>_EMG.csv`` files (and ``collection_details.json``). Without
one, the example first writes the bundled recording out in that layout (``myoxai export``), so it runs
anywhere. The model must know the folder's gesture names (default: the bundled model).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import myoxai
from myoxai.cli import main as cli


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=None)
    parser.add_argument("--model", default=None)
    parser.add_argument("--windows", type=int, default=300, help="windows to explain (drawn with seed 0)")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="myoxai-libemg-"))
    folder = Path(args.folder) if args.folder else work / "libemg_session"
    if args.folder is None:
        from myoxai.io.open import BUNDLED_RECORDING

        cli(["export", str(BUNDLED_RECORDING), str(folder), "--format", "libemg"])
    cli(["convert", str(folder), str(work / "session.xdf")])  # the LibEMG folder as one XDF recording

    model = myoxai.load_model(args.model)
    ex = myoxai.explain_recording(model, work / "session.xdf", max_windows=args.windows, seed=0)
    print(f"accuracy on the {len(ex.label)} explained windows: {ex.accuracy:.3f}")
    print("mean Shapley value of each electrode for the true gesture (rows: gestures):")
    print(" " * 18 + "".join(f"  ch{e + 1}" for e in range(ex.matrix.shape[1])))
    for g, row in enumerate(ex.matrix):
        if not np.isnan(row).all():
            print(f"{ex.class_names[g]:18s}" + "".join(f"{v:+6.2f}" for v in row))


if __name__ == "__main__":
    main()
