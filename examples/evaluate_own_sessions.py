"""Score a model on your own recorded sessions, or run a full protocol on them.

    python examples/evaluate_own_sessions.py [FOLDER] [--model M]
    python examples/evaluate_own_sessions.py FOLDER --protocol intra-day|inter-day|inter-subject [--models lda]

FOLDER holds one folder per person with XDF sessions as ``myoxai record`` or the calibration wizard write
them (default: the part of the bundled recording the bundled model never saw). Without ``--protocol`` a
model is scored on every session; with it, ``myoxai.evaluate`` (= ``myoxai eval --dataset recordings``)
trains and tests under that protocol: leave-one-repetition-out, session 1 → later, or leave-one-person-out.
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
    parser.add_argument("--protocol", default=None, choices=("intra-day", "inter-day", "inter-subject"))
    parser.add_argument("--models", default="lda", help="with --protocol: models to train, e.g. lda,allconvnet")
    args = parser.parse_args()
    if args.protocol:
        report = myoxai.evaluate("recordings", args.folder, args.protocol, models=args.models)
        print(report["summary_markdown"])
        return
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
