"""``myoxai info FILE``: what a recording holds."""

from __future__ import annotations

import argparse

HELP = "show streams, duration, rate and labels of a recording (XDF, dataset session or trial)"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai info`` options, added to its subcommand parser."""
    parser.add_argument("path", help="an .xdf file, a myo-readings session folder/file, a long-term trial/day, or a "
                        "Myo Armband round folder or classe_<i>.dat")


def run(args: argparse.Namespace) -> int:
    """Print the streams, duration, sampling rate and labels of one recording."""
    import numpy as np

    from myoxai.io.open import open_recording

    rec = open_recording(args.path)
    dt = np.diff(rec.timestamps)
    rate = 1.0 / np.median(dt) if dt.size else float("nan")
    print(f"file:       {args.path}")
    print(f"samples:    {len(rec)} x {rec.n_channels} channels")
    print(f"duration:   {rec.duration:.2f} s at nominal {rec.fs:g} Hz (median measured {rate:.2f} Hz)")
    if dt.size:
        gaps = int(np.sum(dt > 1.5 / rec.fs))
        print(f"timestamps: {rec.timestamps[0]:.3f} … {rec.timestamps[-1]:.3f} s, {gaps} gap(s) > 1.5 samples")
    print(f"range:      {rec.samples.min():.4g} … {rec.samples.max():.4g} ({rec.meta.get('units', 'a.u.')})")
    if rec.labels is not None:
        counts = np.bincount(rec.labels[rec.labels >= 0], minlength=len(rec.class_names))
        print(f"labels:     {len(rec.segments())} segments, {int(np.sum(rec.labels < 0))} unlabeled samples")
        for i, name in enumerate(rec.class_names):
            print(f"  {i:2d} {name:20s} {counts[i] / rec.fs:8.1f} s")
    else:
        print("labels:     none")
    meta = {k: v for k, v in rec.meta.items() if k not in ("parts",)}
    print("meta:       " + ", ".join(f"{k}={v}" for k, v in meta.items()))
    return 0
