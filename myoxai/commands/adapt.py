"""``myoxai adapt``: the live Quick adapt (with its no-harm check) on a recording, written as a new model file.

The recording's windows, in time order, play the live buffer: most are adapted on, every fourth
2-s block is held back for the no-harm check (``myoxai.live.quick_adapt``). Its labels, if any,
are ignored. An accepted adaptation writes the adapted model; a declined one writes the input
model unchanged with the report saying why, so a script can use ``--out`` either way.
"""

from __future__ import annotations

import argparse

HELP = "Quick adapt a model to a recording (unlabeled, with the no-harm check) and write the adapted model"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai adapt`` options, added to its subcommand parser."""
    parser.add_argument("--model", default=None, help="model file (default: the bundled demo model)")
    parser.add_argument("--data", default=None, help="recording to adapt to: .xdf, long-term dataset day folder, "
                                                     "myo-readings session (default: the bundled held-out part)")
    parser.add_argument("--method", default="default",
                        help="registered unlabeled adaptation method (myoxai.adapt.methods; default: the live "
                             "Quick adapt's pipeline — rotation compensation, re-normalisation, prototype head)")
    parser.add_argument("--out", required=True, help="the adapted model file to write (.safetensors)")
    parser.add_argument("--json", metavar="OUT", default=None, help="also write the report as JSON")
    parser.add_argument("--overwrite", action="store_true", help="replace existing output files")


def run(args: argparse.Namespace) -> int:
    """Adapt, check, report, and write the model to use."""
    import json
    from pathlib import Path

    from myoxai.adapt.methods import resolve
    from myoxai.errors import MyoxaiError
    from myoxai.io.outputs import check_output
    from myoxai.live.quick_adapt import checked_quick_adapt
    from myoxai.live.setup import load_live_model

    inputs = [p for p in (args.model, args.data) if p]
    check_output(Path(args.out), overwrite=args.overwrite, inputs=inputs)
    if args.json:
        check_output(Path(args.json), overwrite=args.overwrite, inputs=inputs)
    model = load_live_model(args.model)
    if getattr(model, "input_kind", "") != "spectrogram" or not hasattr(model, "features"):
        raise MyoxaiError(f"{args.model}: Quick adapt needs a torch spectrogram model (allconvnet or "
                          "spectrogram-convnet)")
    windows, what = recording_windows(args.data)
    source = None
    if args.model is None and resolve(args.method).needs_source:  # only the bundled model's data is known
        from myoxai.live.bundled import bundled_source_data

        source = bundled_source_data()
    result = checked_quick_adapt(model, windows, source, method=args.method)
    report = {**result.to_dict(), "data": what, "model": args.model or "bundled", "out": args.out}
    print(f"myoxai adapt on {what}: {'ACCEPTED' if result.accepted else 'DECLINED'} — "
          f"{report['reason']}")
    shift = result.report.rotation_shift
    cover = result.report.prototype_coverage
    print(f"  estimated rotation {'n/a' if shift is None else f'{shift:+.2f}'} electrodes; prototype supports "
          + ("n/a" if cover is None else f"{cover[0]} of {cover[1]} gestures ({result.report.prototype_supports})"))
    print(f"  no-harm check: {result.check.summary()}")
    path = save_adapted(result.candidate if result.accepted else model, args.out, args.model, report)
    print(f"wrote {path} ({'adapted model' if result.accepted else 'the input model unchanged, with the report'})")
    if args.json:
        from myoxai.io.outputs import write_text

        write_text(args.json, json.dumps(report, indent=1), overwrite=args.overwrite, inputs=inputs)
        print(f"report written to {args.json}")
    return 0


def recording_windows(data: str | None) -> tuple[object, str]:
    """(spectrograms of every window in time order, description) of a recording, or of the bundled held-out part."""
    import numpy as np

    from myoxai.config import DEFAULT_CONFIG
    from myoxai.dsp import process_signal
    from myoxai.errors import MyoxaiError

    if data is None:
        from myoxai.live.bundled import held_out_recording

        rec, what = held_out_recording(), "bundled recording (held-out part)"
    else:
        from myoxai.io.open import open_recording

        rec, what = open_recording(data), str(data)
    if rec.n_channels != DEFAULT_CONFIG.n_channels:
        raise MyoxaiError(f"{what} has {rec.n_channels} channels; the model expects {DEFAULT_CONFIG.n_channels}")
    highpass = rec.meta.get("highpass_hz") != DEFAULT_CONFIG.highpass_hz
    return process_signal(rec.samples, DEFAULT_CONFIG, highpass=highpass).spectrograms.astype(np.float32), what


def save_adapted(model: object, out: str, parent: str | None, report: dict) -> object:
    """Write ``model`` with its parent's training description, the adaptation report and its drift reference."""
    from myoxai.adapt.lineage import file_sha256
    from myoxai.engine.drift import REFERENCE_KEY
    from myoxai.live.bundled import BUNDLED_MODEL
    from myoxai.models import save_model

    desc = dict(getattr(model, "description", None) or {})
    parent_path = parent or BUNDLED_MODEL
    training = {**desc.get("training", {}),
                "adaptation": {**report, "parent": {"path": str(parent_path), "sha256": file_sha256(parent_path)}}}
    return save_model(model, out, list(model.class_names), training=training, metrics=desc.get("metrics", {}),
                      drift_reference=desc.get(REFERENCE_KEY), overwrite=True)
