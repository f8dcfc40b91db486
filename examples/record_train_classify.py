"""Record a session, train a model on its first part, classify the rest — all in code.

The source here is a replay of the bundled recording (a real Myo session, 8 gestures × 30 s) played
unpaced; with an armband, pass ``--source myo`` (BLED112 dongle) or ``--source myo-ble`` and ``--speed 1``.

    python examples/record_train_classify.py [--source SPEC] [--seconds 240] [--out DIR]
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import numpy as np

import myoxai
from myoxai.io.open import BUNDLED_RECORDING
from myoxai.io.recording import concatenate


def split(rec, train_s: float = 18.0, file_s: float = 30.0):
    """The first ``train_s`` of every ``file_s`` block trains; the rest is kept for testing."""
    per, cut = int(file_s * rec.fs), int(train_s * rec.fs)
    starts = range(0, len(rec), per)
    return (concatenate([rec.slice(s, s + cut) for s in starts]),
            concatenate([rec.slice(s + cut, min(len(rec), s + per)) for s in starts]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=f"replay:{BUNDLED_RECORDING}")
    parser.add_argument("--seconds", type=float, default=240.0, help="seconds to record (a replay may end sooner)")
    parser.add_argument("--speed", type=float, default=0.0, help="0 = as fast as possible (replays only)")
    parser.add_argument("--epochs", type=int, default=8)
    parser.add_argument("--out", default=None, help="folder for session.xdf and model.safetensors")
    args = parser.parse_args()
    out = Path(args.out or tempfile.mkdtemp(prefix="myoxai-example-"))

    session = myoxai.record(out / "session.xdf", args.source, seconds=args.seconds, speed=args.speed)
    rec = myoxai.open_recording(session)
    train, test = split(rec)
    model = myoxai.train_model(train, model="allconvnet", epochs=args.epochs, seed=0, out=out / "model.safetensors")
    predicted, truth = myoxai.classify(model, test)
    print(f"recorded {rec.duration:.0f} s, trained on {train.duration:.0f} s, "
          f"accuracy on the other {test.duration:.0f} s: {np.mean(predicted == truth):.3f}")
    for g, name in enumerate(model.class_names):
        mask = truth == g
        if mask.any():
            print(f"  {name:18s} {np.mean(predicted[mask] == g):.2f}  ({mask.sum()} windows)")


if __name__ == "__main__":
    main()
