"""Send every decision to another program over LSL, and read them there (here: a thread of this script).

myoxai publishes the LSL stream ``myoxai-decisions``: one sample per decision holding the gesture index,
each gesture's probability, each electrode's Shapley value and the drift score and state (channel labels
in the stream's description); any LSL client (pylsl, LabRecorder, Unity, MATLAB) can subscribe.

    python examples/stream_decisions_lsl.py [--seconds 5]
"""

from __future__ import annotations

import argparse
import threading

import pylsl

import myoxai


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=5.0, help="seconds of signal to classify")
    args = parser.parse_args()
    received: list[list[float]] = []
    ready = threading.Event()

    def receiver() -> None:  # the "other program"
        streams = pylsl.resolve_byprop("name", "myoxai-decisions", timeout=30.0)
        if not streams:
            ready.set()
            return
        inlet = pylsl.StreamInlet(streams[0])
        info = inlet.info()
        print(f"receiver: connected to {info.name()} ({info.channel_count()} channels)")
        ready.set()
        while True:
            sample, _ = inlet.pull_sample(timeout=3.0)
            if sample is None:
                return
            received.append(sample)

    thread = threading.Thread(target=receiver, daemon=True)
    thread.start()
    # paced at 4x real time so the receiver connects before most decisions are made
    n = myoxai.run_live(lambda d: None, seconds=args.seconds, speed=4.0, lsl=True)
    thread.join(timeout=10.0)
    print(f"the callback saw {n} decisions; the receiver got {len(received)} over LSL")
    if received:
        last = received[-1]
        print("last one received: gesture", int(last[0]), "probabilities", [round(v, 2) for v in last[1:9]])


if __name__ == "__main__":
    main()
