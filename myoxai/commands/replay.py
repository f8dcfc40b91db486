"""``myoxai replay FILE``: stream a recording through the dsp core at real time, ×N, or as fast as possible."""

from __future__ import annotations

import argparse

HELP = "replay a recording through the streaming dsp core, printing a live line (samples/s, windows/s)"


def speed(text: str) -> float:
    """``1``, ``10``, ``0.5`` or ``max`` (0 = no pacing)."""
    if text == "max":
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"speed must be a number or 'max', not {text!r}") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("speed must be positive (or 'max')")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("path", help="an .xdf recording, myo-readings session, or long-term trial/day folder")
    parser.add_argument("--speed", type=speed, default=1.0, help="1 = real time, N = N× faster, max = unpaced")
    parser.add_argument("--chunk", type=int, default=10, help="samples per chunk (default 10 = 50 ms)")
    parser.add_argument("--seconds", type=float, default=None, help="stop after this much recording time")
    parser.add_argument("--every", type=float, default=1.0, help="seconds between status lines")


def run(args: argparse.Namespace) -> int:
    import time

    from myoxai.config import DEFAULT_CONFIG
    from myoxai.dsp import WindowStream
    from myoxai.errors import MyoxaiError
    from myoxai.io.open import open_recording

    rec = open_recording(args.path)
    if rec.n_channels != DEFAULT_CONFIG.n_channels:
        raise MyoxaiError(f"{args.path} has {rec.n_channels} channels; myoxai expects {DEFAULT_CONFIG.n_channels}")
    if args.chunk < 1:
        raise MyoxaiError("--chunk must be at least 1 sample")
    n = len(rec) if args.seconds is None else min(len(rec), int(args.seconds * rec.fs))
    stream = WindowStream(DEFAULT_CONFIG, highpass=rec.meta.get("highpass_hz") != DEFAULT_CONFIG.highpass_hz)
    print(f"replaying {args.path}: {n} samples ({n / rec.fs:.1f} s) at "
          f"{'max speed' if args.speed == 0 else f'{args.speed:g}x'}, chunks of {args.chunk}")
    t0 = last = time.perf_counter()
    done = windows = shown_samples = shown_windows = 0
    label = ""
    while done < n:
        stop = min(n, done + args.chunk)
        if args.speed:  # pace on recording time: sleep until this chunk's last sample is due
            due = t0 + (stop - 1) / rec.fs / args.speed
            delay = due - time.perf_counter()
            if delay > 0:
                time.sleep(delay)
        batch = stream.push(rec.samples[done:stop])
        windows += len(batch)
        if len(batch) and rec.labels is not None:
            lab = int(rec.labels[batch.end[-1] - 1])
            label = rec.class_names[lab] if 0 <= lab < len(rec.class_names) else "unlabeled"
        done = stop
        now = time.perf_counter()
        if now - last >= args.every or done == n:
            span = now - last
            print(f"t={done / rec.fs:7.2f} s  {(done - shown_samples) / span:9.1f} samples/s  "
                  f"{(windows - shown_windows) / span:8.1f} windows/s  windows={windows}"
                  + (f"  label={label}" if label else ""), flush=True)
            last, shown_samples, shown_windows = now, done, windows
    elapsed = time.perf_counter() - t0
    print(f"done: {done} samples, {windows} windows in {elapsed:.2f} s "
          f"({done / rec.fs / max(elapsed, 1e-9):.1f}x real time)")
    return 0
