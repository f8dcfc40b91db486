"""Run the engine without a window and handle every decision in your own code, Shapley values included.

    python examples/live_callback.py [--source SPEC] [--seconds 5] [--speed 0]

With no ``--source`` it replays the part of the bundled recording the bundled model never saw.
"""

from __future__ import annotations

import argparse

import numpy as np

import myoxai


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", default=None, help="myo | myo-ble | lsl:NAME | replay:FILE (default: bundled)")
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--speed", type=float, default=0.0, help="replays: 1 = real time, 0 = as fast as possible")
    args = parser.parse_args()
    names = myoxai.load_model().class_names
    counts: dict[str, int] = {}

    def on_decision(d) -> None:
        gesture = names[d.label] if d.label >= 0 else "(rejected)"
        counts[gesture] = counts.get(gesture, 0) + 1
        top = np.argsort(-np.abs(d.phi_label))[:2]  # the two electrodes that mattered most
        print(f"{gesture:18s} p={d.confidence:.2f}  " + "  ".join(f"ch{e + 1} {d.phi_label[e]:+.2f}" for e in top))

    n = myoxai.run_live(on_decision, source=args.source, seconds=args.seconds, speed=args.speed)
    print(f"{n} decisions: " + ", ".join(f"{k} {v}" for k, v in sorted(counts.items())))


if __name__ == "__main__":
    main()
