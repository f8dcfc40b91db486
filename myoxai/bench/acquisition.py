"""``myoxai bench acquisition``: the BLED112 driver against the emulator — latency, throughput, reconnects.

Latency is measured from the emulator's write of a packet into the pseudo-terminal to the moment the
consumer's ``read()`` returns the chunk holding it (both on LSL ``local_clock``), per chunk (its
newest sample). A real dongle adds the BLE connection interval (7.5 ms) and USB latency on top.
"""

from __future__ import annotations

import argparse
import time

from myoxai.bench.report import Result

HELP = ("Myo/BLED112 acquisition via the emulator: end-to-end latency p50/p99, throughput, reconnect times; "
        "BGAPI decode and unpaced replay throughput")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai bench acquisition`` options, added to its subcommand parser."""
    parser.add_argument("--seconds", type=float, default=20.0, help="streaming time for latency (default 20)")
    parser.add_argument("--drops", type=int, default=10, help="link drops for the reconnect timing (default 10)")
    parser.add_argument("--packets", type=int, default=200_000, help="packets for the decode throughput test")


def _latency(seconds: float) -> tuple[list[float], int]:
    """Per-chunk latency (write of its newest sample → read() returned it) and samples delivered."""
    import numpy as np

    from myoxai.sources.base import local_clock
    from myoxai.sources.bled112 import MyoBled112Source
    from myoxai.testing.bled112_emulator import Bled112Emulator, check_delivery

    with Bled112Emulator() as emu:
        src = MyoBled112Source(port=emu.port)
        src.start()
        chunks, delivered = [], []
        t0 = time.monotonic()
        while time.monotonic() - t0 < seconds:
            got = src.read(0.5)
            now = local_clock()
            chunks += got
            delivered += [now] * len(got)
        emu.pause()
        time.sleep(0.3)
        chunks += src.read(0.5)
        src.stop()
        check_delivery(emu, chunks)  # the numbers below are only valid if nothing was lost
        _g, _x, t_written = emu.delivered_truth()
    ends = np.cumsum([len(c) for c in chunks])[:len(delivered)] - 1
    lat = [d - float(t_written[e]) for d, e in zip(delivered, ends, strict=True)]
    return lat, int(sum(len(c) for c in chunks[:len(delivered)]))


def _reconnects(drops: int) -> list[float]:
    from myoxai.sources.bled112 import MyoBled112Source
    from myoxai.testing.bled112_emulator import Bled112Emulator

    with Bled112Emulator() as emu:
        src = MyoBled112Source(port=emu.port)
        src.start()
        while src.status().samples_received == 0:
            src.read(0.1)
        for _ in range(drops):
            before = src.status().reconnects
            emu.drop_link()
            end = time.monotonic() + 10
            while src.status().reconnects == before and time.monotonic() < end:
                src.read(0.05)
            src.read(0.3)
        times = src.status().reconnect_s
        src.stop()
    return times


def _decode_rate(packets: int) -> float:
    import numpy as np

    from myoxai.sources import bgapi
    from myoxai.sources import myo_protocol as myo

    rng = np.random.default_rng(0)
    values = rng.integers(-128, 128, size=(packets, 16), dtype=np.int8)
    stream = b"".join(bgapi.event(bgapi.EVT_ATTCLIENT_ATTRIBUTE_VALUE, bytes([0, myo.EMG_HANDLES[k % 4], 0, 1, 16])
                                  + values[k].tobytes()) for k in range(packets))
    framer, asm = bgapi.Framer(), myo.EmgAssembler()
    t = time.perf_counter()
    for i in range(0, len(stream), 2100):  # reads of ~100 packets, as on a busy port
        pk = [(myo.EMG_HANDLES.index(bgapi.attribute_value(p)[1]), bgapi.attribute_value(p)[2])
              for p in framer.feed(stream[i:i + 2100])]
        asm.decode(pk, float(i))
    return packets * 2 / (time.perf_counter() - t)


def _replay_rate() -> float:
    """Unpaced ReplaySource throughput on the bundled recording (thread + queue + drain)."""
    from myoxai.io.open import BUNDLED_RECORDING
    from myoxai.sources.replay import ReplaySource

    src = ReplaySource(BUNDLED_RECORDING, speed=0, chunk=10)
    t = time.perf_counter()
    src.start()
    n = sum(len(c) for c in src.chunks(timeout=1.0))
    src.stop()
    return n / (time.perf_counter() - t)


def run(args: argparse.Namespace) -> list[Result]:
    """Latency, decode throughput and reconnect times of the BLED112 driver against the emulator."""
    import numpy as np

    from myoxai.sources.lsl import use_machine_scope

    use_machine_scope()  # local_clock only, but never let a benchmark touch the network
    lat, n = _latency(args.seconds)
    seconds = args.seconds
    rec = _reconnects(args.drops)
    rate = _decode_rate(args.packets)
    replay = _replay_rate()
    lat_ms = np.asarray(lat) * 1e3
    p = {"seconds": args.seconds, "chunks": len(lat), "transport": "pty emulator"}
    return [
        Result("acquisition.latency.p50", float(np.percentile(lat_ms, 50)), "ms", p),
        Result("acquisition.latency.p99", float(np.percentile(lat_ms, 99)), "ms", p),
        Result("acquisition.latency.max", float(lat_ms.max()), "ms", p),
        Result("acquisition.stream.samples_per_s", n / seconds, "1/s", p),
        Result("acquisition.reconnect.p50", float(np.median(rec)) if rec else float("nan"), "s",
               {"drops": args.drops, "recovered": len(rec)}),
        Result("acquisition.reconnect.max", float(max(rec)) if rec else float("nan"), "s",
               {"drops": args.drops, "recovered": len(rec)}),
        Result("acquisition.decode.samples_per_s", rate, "1/s", {"packets": args.packets, "threads": 1}),
        Result("acquisition.replay.samples_per_s", replay, "1/s", {"recording": "bundled", "chunk": 10}),
    ]
