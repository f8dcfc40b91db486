"""``myoxai record OUT.xdf --source …``: record EMG (+ IMU) and markers to a crash-safe XDF file."""

from __future__ import annotations

import argparse

from myoxai.commands.replay import interval, seconds, speed
from myoxai.sources.devices import source_help
from myoxai.sources.lsl import add_scope_option

HELP = "record EMG (and IMU, markers) from a Myo, an LSL stream or a replay into a crash-safe XDF file"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai record`` options, added to its subcommand parser."""
    parser.add_argument("out", help="the .xdf file to write")
    parser.add_argument("--source", required=True, help=source_help())
    parser.add_argument("--imu", action="store_true", help="also record the Myo's IMU as a second stream")
    parser.add_argument("--seconds", type=seconds, default=None, help="stop after this many seconds (else Ctrl-C)")
    parser.add_argument("--overwrite", action="store_true",
                        help="replace OUT if it exists (the new recording replaces it only when it stops cleanly)")
    parser.add_argument("--provenance", action="store_true",
                        help="store this machine's host name and the source's full path in the file (default: "
                             "left out, so a shared recording does not reveal them)")
    add_scope_option(parser)
    parser.add_argument("--speed", type=speed, default=1.0, help="replay only: 1 = real time, N = N× faster")
    parser.add_argument("--every", type=interval, default=1.0, help="seconds between status lines")


def run(args: argparse.Namespace) -> int:
    """Record the source into an XDF file until ``--seconds`` or Ctrl-C, closing the file cleanly."""
    from myoxai.sources.lsl import apply_scope_option

    apply_scope_option(args)  # before anything loads liblsl's configuration
    import signal
    from pathlib import Path

    from myoxai.io.outputs import check_output

    out = Path(args.out)
    kind, _, target = args.source.partition(":")
    inputs = [target] if kind == "replay" else []
    check_output(out, overwrite=args.overwrite, inputs=inputs)

    def _terminate(signum: int, frame: object) -> None:  # SIGTERM: close the file properly, as Ctrl-C does
        raise SystemExit(128 + signum)

    previous = signal.signal(signal.SIGTERM, _terminate)
    try:
        return _record(args, out, inputs)
    finally:
        signal.signal(signal.SIGTERM, previous)


def _record(args: argparse.Namespace, out, inputs: list[str]) -> int:  # noqa: ANN001 - a Path
    import time

    from myoxai.commands.stream import status_line
    from myoxai.errors import MyoxaiError
    from myoxai.io.outputs import write_failed
    from myoxai.io.xdf import EmgXdfRecorder
    from myoxai.sources import open_source

    src = open_source(args.source, imu=args.imu, speed=args.speed)
    class_names = tuple(src.status().info.get("class_names", ()))
    try:
        rec = EmgXdfRecorder(out, src.fs, class_names, src.n_channels, "raw int8" if args.source.startswith("myo")
                             else "a.u.", {"source": args.source},
                             source_id=f"myoxai-{args.source.partition(':')[0]}", overwrite=args.overwrite,
                             inputs=inputs, provenance=args.provenance)
    except BaseException:
        src.stop()
        raise
    imu_id = None
    write_error: OSError | None = None
    written = 0
    try:
        if args.imu and hasattr(src, "read_imu"):
            from myoxai.sources.myo_protocol import IMU_FS

            imu_id = rec.writer.add_stream("myoxai-imu", "IMU", 10, IMU_FS, "float32", "myoxai-imu")
        # gaps go to their own stream: gesture markers are labels and must stay class names
        gap_id = rec.writer.add_stream("myoxai-gaps", "Events", 1, 0.0, "string", "myoxai-gaps")
        gaps_marked = 0
        last_label: int | None = None
        t0 = last = time.monotonic()
        src.start()
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
                size = rec.writer.bytes_written / 1e6
                print(status_line(src.status(), f"  written={written}  file={size:.2f} MB"), flush=True)
    except OSError as exc:  # disk full, device removed under the file…: keep what is written
        write_error = exc
    finally:  # Ctrl-C, SIGTERM, device loss, any error: what was read is written and the file closed properly
        src.stop()
        try:
            if write_error is None:
                for c in src.read(0):
                    rec.append(c.samples, c.timestamps)
                    written += len(c)
        except MyoxaiError:
            pass  # the source's error is in its status and reported below
        except OSError as exc:
            write_error = exc
        finally:
            try:
                rec.close(keep_aside=rec.samples_written == 0)  # an empty recording never replaces an old one
            except OSError as exc:
                write_error = write_error or exc
        written = rec.samples_written
        if written == 0:  # failed before its first sample: leave no new file behind (a retry must not find it)
            rec.writer.discard()
            print(f"no samples were recorded; {_untouched(out, rec.writer.output.replacing)}", flush=True)
        elif write_error is None:
            print(f"wrote {written} samples to {out} ({rec.writer.bytes_written / 1e6:.2f} MB)", flush=True)
    if write_error is not None:
        kept = (rec.writer.output.kept_message(f"the {written} samples ({rec.writer.bytes_written / 1e6:.2f} MB) "
                                               "recorded before it") if written else "nothing was kept")
        raise write_failed(out, write_error, kept)
    st = src.status()
    if st.error:
        raise MyoxaiError(f"{st.error}" + (f" (the {written} samples recorded before it are saved in {out})"
                                           if written else f"; nothing was recorded and "
                                           f"{_untouched(out, rec.writer.output.replacing)}"))
    return 0


def _untouched(out, replacing: bool) -> str:  # noqa: ANN001 - a Path
    return f"the old {out} is unchanged" if replacing else f"{out} was not kept"
