"""``myoxai record OUT.xdf --source …``: record EMG (+ IMU) and markers to a crash-safe XDF file."""

from __future__ import annotations

import argparse

from myoxai.commands.replay import speed

HELP = "record EMG (and IMU, markers) from a Myo, an LSL stream or a replay into a crash-safe XDF file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("out", help="the .xdf file to write")
    parser.add_argument("--source", required=True,
                        help="myo[:PORT] | myo-ble[:ADDRESS] | lsl:NAME | replay:FILE")
    parser.add_argument("--imu", action="store_true", help="also record the Myo's IMU as a second stream")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this many seconds (else Ctrl-C)")
    parser.add_argument("--overwrite", action="store_true", help="replace OUT if it exists")
    parser.add_argument("--lsl-local", action="store_true", help="LSL sources: loopback only (no network)")
    parser.add_argument("--speed", type=speed, default=1.0, help="replay only: 1 = real time, N = N× faster")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between status lines")


def run(args: argparse.Namespace) -> int:
    if args.lsl_local:
        from myoxai.sources.lsl import use_local_lsl

        use_local_lsl()
    import time
    from pathlib import Path

    from myoxai.commands.stream import status_line
    from myoxai.errors import MyoxaiError
    from myoxai.io.xdf import EmgXdfRecorder
    from myoxai.sources import open_source

    out = Path(args.out)
    if out.exists() and not args.overwrite:
        raise MyoxaiError(f"{out} exists; choose another name or pass --overwrite (nothing was overwritten)")
    src = open_source(args.source, imu=args.imu, speed=args.speed)
    class_names = tuple(src.status().info.get("class_names", ()))
    rec = EmgXdfRecorder(out, src.fs, class_names, src.n_channels, "raw int8" if args.source.startswith("myo")
                         else "a.u.", {"source": args.source}, source_id=f"myoxai-{args.source.partition(':')[0]}",
                         overwrite=args.overwrite)
    imu_id = None
    if args.imu and hasattr(src, "read_imu"):
        from myoxai.sources.myo_protocol import IMU_FS

        imu_id = rec.writer.add_stream("myoxai-imu", "IMU", 10, IMU_FS, "float32", "myoxai-imu")
    # gaps go to their own stream: gesture markers are labels and must stay class names
    gap_id = rec.writer.add_stream("myoxai-gaps", "Events", 1, 0.0, "string", "myoxai-gaps")
    written = gaps_marked = 0
    last_label: int | None = None
    t0 = last = time.monotonic()
    src.start()
    try:
        while src.running and (args.seconds is None or time.monotonic() - t0 < args.seconds):
            for c in src.read(0.2):
                if c.labels is not None:  # a labelled replay: a marker at every label change
                    for i in [0, *(1 + j for j in range(len(c) - 1) if c.labels[j + 1] != c.labels[j])]:
                        lab = int(c.labels[i])
                        if lab != last_label:
                            name = class_names[lab] if 0 <= lab < len(class_names) else "unlabeled"
                            rec.marker(float(c.timestamps[i]), name)
                            last_label = lab
                rec.append(c.samples, c.timestamps)
                written += len(c)
            gaps = src.status().gaps
            for g in gaps[gaps_marked:]:  # holes are part of the record, not hidden
                rec.writer.write_samples(gap_id, [g.t_end], [f"gap: {g.n_missing} samples ({g.reason})"])
            gaps_marked = len(gaps)
            if imu_id is not None:
                values, stamps = src.read_imu()
                rec.writer.write_samples(imu_id, stamps, values)
            now = time.monotonic()
            if now - last >= args.every:
                last = now
                size = out.stat().st_size / 1e6
                print(status_line(src.status(), f"  written={written}  file={size:.2f} MB"), flush=True)
    finally:  # Ctrl-C, device loss, any error: what was read is written and the file closed properly
        src.stop()
        try:
            for c in src.read(0):
                rec.append(c.samples, c.timestamps)
                written += len(c)
        except MyoxaiError:
            pass  # the source's error is in its status and reported below
        finally:
            rec.close()
        print(f"wrote {written} samples to {out} ({out.stat().st_size / 1e6:.2f} MB)", flush=True)
    st = src.status()
    if st.error:
        raise MyoxaiError(f"{st.error} (the {written} samples recorded before it are saved in {out})")
    return 0
