"""``myoxai replay FILE``: stream a recording through the dsp core at real time, ×N, or as fast as possible."""

from __future__ import annotations

import argparse

from myoxai.cliargs import interval, positive_int, seconds, speed  # shared argument types (re-exported)

__all__ = ["interval", "positive_int", "seconds", "speed"]

HELP = "replay a recording through the streaming dsp core, printing a live line (samples/s, windows/s)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai replay`` options, added to its subcommand parser."""
    parser.add_argument("path", help="an .xdf recording, myo-readings session, or long-term trial/day folder")
    parser.add_argument("--speed", type=speed, default=1.0, help="1 = real time, N = N× faster, max = unpaced")
    parser.add_argument("--chunk", type=positive_int, default=10, help="samples per chunk (default 10 = 50 ms)")
    parser.add_argument("--seconds", type=seconds, default=None, help="stop after this much recording time")
    parser.add_argument("--loop", action="store_true", help="start again at the end (until Ctrl-C)")
    parser.add_argument("--every", type=interval, default=1.0, help="seconds between status lines")


def run(args: argparse.Namespace) -> int:
    """Stream a recording through the dsp core, printing a status line every ``--every`` seconds."""
    import time

    from myoxai.config import DEFAULT_CONFIG
    from myoxai.dsp import WindowStream
    from myoxai.errors import MyoxaiError
    from myoxai.io.open import open_recording
    from myoxai.io.validate import check_signal_fits
    from myoxai.sources.replay import ReplaySource

    rec = open_recording(args.path)
    check_signal_fits(rec.fs, rec.n_channels, DEFAULT_CONFIG, str(args.path))
    if len(rec) < DEFAULT_CONFIG.window:
        raise MyoxaiError(f"{args.path} holds {len(rec)} samples, fewer than one {DEFAULT_CONFIG.window}-sample "
                          "window; nothing to replay — record at least a second")
    src = ReplaySource(rec, speed=args.speed, chunk=args.chunk, loop=args.loop, seconds=args.seconds)
    n = src.n
    stream = WindowStream(DEFAULT_CONFIG, highpass=rec.meta.get("highpass_hz") != DEFAULT_CONFIG.highpass_hz)
    print(f"replaying {args.path}: {n} samples ({n / rec.fs:.1f} s) at "
          f"{'max speed' if args.speed == 0 else f'{args.speed:g}x'}, chunks of {args.chunk}"
          + (", looping" if args.loop else ""))
    t0 = last = time.perf_counter()
    done = windows = shown_samples = shown_windows = 0
    label = ""
    src.start()
    try:
        for chunk in src.chunks(timeout=0.5):
            batch = stream.push(chunk.samples)
            windows += len(batch)
            if len(batch) and chunk.labels is not None:
                lab = int(chunk.labels[-1])
                label = rec.class_names[lab] if 0 <= lab < len(rec.class_names) else "unlabeled"
            done += len(chunk)
            now = time.perf_counter()
            if now - last >= args.every or (done == n and not args.loop):
                span = max(now - last, 1e-9)
                print(f"t={done / rec.fs:7.2f} s  {(done - shown_samples) / span:9.1f} samples/s  "
                      f"{(windows - shown_windows) / span:8.1f} windows/s  windows={windows}"
                      + (f"  label={label}" if label else ""), flush=True)
                last, shown_samples, shown_windows = now, done, windows
    finally:
        src.stop()
    elapsed = time.perf_counter() - t0
    st = src.status()
    dropped = f", {st.samples_dropped} dropped (consumer too slow)" if st.samples_dropped else ""
    print(f"done: {done} samples, {windows} windows in {elapsed:.2f} s "
          f"({done / rec.fs / max(elapsed, 1e-9):.1f}x real time){dropped}")
    return 0
