"""Score a model on your own recorded sessions: accuracy per session and per gesture.

    python examples/evaluate_own_sessions.py [FOLDER] [--model M]

FOLDER holds XDF sessions as ``myoxai record`` or the calibration wizard write them (searched
recursively; default: the part of the bundled recording the bundled model never saw).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

import myoxai


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", nargs="?", default=None)
    parser.add_argument("--model", default=None, help="model file (default: the bundled demo model)")
    args = parser.parse_args()
    if args.folder:
        sessions = {p.name: p for p in sorted(Path(args.folder).expanduser().rglob("*.xdf"))}
    else:
        from myoxai.live.bundled import held_out_recording

        sessions = {"bundled recording, held-out part": held_out_recording()}
    if not sessions:
        raise SystemExit(f"no .xdf session under {args.folder}")
    model = myoxai.load_model(args.model)
    for name, session in sessions.items():
        predicted, truth = myoxai.classify(model, session)
        per = {model.class_names[g]: float(np.mean(predicted[truth == g] == g)) for g in np.unique(truth)}
        print(f"{name}: accuracy {np.mean(predicted == truth):.3f} on {len(truth)} windows")
        print("  " + ", ".join(f"{k} {v:.2f}" for k, v in per.items()))


if __name__ == "__main__":
    main()
