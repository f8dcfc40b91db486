"""``myoxai stream --source …``: publish a source as an LSL EMG outlet (8 ch, 200 Hz), with a live status line."""

from __future__ import annotations

import argparse

from myoxai.commands.replay import interval, seconds, speed
from myoxai.sources.devices import source_help
from myoxai.sources.lsl import add_scope_option

HELP = "publish EMG from a Myo (BLED112 or native BLE), an LSL stream or a replayed recording as an LSL outlet"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai stream`` options, added to its subcommand parser."""
    parser.add_argument("--source", required=True, help=source_help())
    add_scope_option(parser)
    parser.add_argument("--provenance", action="store_true",
                        help="put the source's full path in the stream's metadata (default: its file name only)")
    parser.add_argument("--name", default="myoxai-emg", help="LSL stream name (default myoxai-emg)")
    parser.add_argument("--imu", action="store_true", help="also publish the Myo's IMU as a second stream")
    parser.add_argument("--speed", type=speed, default=1.0, help="replay only: 1 = real time, N = N× faster")
    parser.add_argument("--loop", action="store_true", help="replay only: start again at the end")
    parser.add_argument("--seconds", type=seconds, default=None, help="stop after this many seconds")
    parser.add_argument("--every", type=interval, default=1.0, help="seconds between status lines")


def status_line(st, extra: str = "") -> str:
    """One line of health: state, measured rate, received/lost/dropped counts, reconnects, battery."""
    battery = f"  battery={st.battery}%" if st.battery is not None else ""
    return (f"{st.state:12s} {st.rate_hz:7.1f} Hz  received={st.samples_received}  lost={st.samples_lost}  "
            f"dropped={st.samples_dropped}  gaps={len(st.gaps)}  reconnects={st.reconnects}{battery}{extra}")


def run(args: argparse.Namespace) -> int:
    """Publish the source as an LSL outlet until Ctrl-C (or ``--seconds``)."""
    from myoxai.sources.lsl import apply_scope_option

    apply_scope_option(args)  # before anything loads liblsl's configuration
    import time

    from myoxai.sources import open_source
    from myoxai.sources.lsl import EmgOutlet, armband_source_id

    src = open_source(args.source, imu=args.imu, speed=args.speed, loop=args.loop)
    src.start()
    outlet = imu_outlet = None
    t0 = last = time.monotonic()
    try:
        while src.running and (args.seconds is None or time.monotonic() - t0 < args.seconds):
            chunks = src.read(0.2)
            if chunks and outlet is None:  # the armband's address is known once connected
                info = src.status().info
                ident = info.get("address") or (args.source.partition(":")[2].rsplit("/", 1)[-1] or None)
                kind = args.source.partition(":")[0]
                outlet = EmgOutlet(args.name, armband_source_id(ident, kind), src.fs, src.n_channels,
                                   meta={"source": args.source, **{k: v for k, v in info.items()
                                                                  if k in ("address", "firmware")}},
                                   provenance=args.provenance)
                if args.imu and hasattr(src, "read_imu"):
                    imu_outlet = _imu_outlet(args.name, armband_source_id(ident, kind))
            for c in chunks:
                outlet.push(c.samples, c.timestamps)
            if imu_outlet is not None:
                values, stamps = src.read_imu()
                if len(values):
                    imu_outlet.push_chunk(values.astype("float32"), list(stamps))
            now = time.monotonic()
            if now - last >= args.every:
                last = now
                consumers = outlet is not None and outlet.have_consumers()
                print(status_line(src.status(), f"  consumers={'yes' if consumers else 'no'}"), flush=True)
    finally:
        src.stop()
    st = src.status()
    print("done: " + status_line(st))
    if st.error:
        from myoxai.errors import MyoxaiError

        raise MyoxaiError(st.error)
    return 0


def _imu_outlet(name: str, source_id: str):
    import pylsl

    from myoxai.sources.myo_protocol import IMU_CHANNELS, IMU_FS

    info = pylsl.StreamInfo(name.replace("emg", "imu") if "emg" in name else name + "-imu", "IMU",
                            len(IMU_CHANNELS), IMU_FS, pylsl.cf_float32, source_id + "-imu")
    chans = info.desc().append_child("channels")
    for label in IMU_CHANNELS:
        chans.append_child("channel").append_child_value("label", label)
    return pylsl.StreamOutlet(info)
