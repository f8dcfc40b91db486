"""``myoxai eval --dataset myo-armband``: arguments → one inter-subject run → JSON (records + summary) and a table."""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path
from typing import Any

from myoxai.config import DEFAULT_CONFIG, MYO_ARMBAND_PAPER_CONFIG
from myoxai.errors import MyoxaiError
from myoxai.evaluation import parse_int_list
from myoxai.evaluation.metrics import summarize
from myoxai.evaluation.myo_armband import ALIGN_MODES, TORCH_MODELS, ArmbandSettings, run_inter_subject
from myoxai.models import TrainSettings, torch_threads

SIGNALS = {"default": DEFAULT_CONFIG, "paper": MYO_ARMBAND_PAPER_CONFIG}


def _align(text: str) -> tuple[str, ...]:
    words = [w.strip() for w in text.split(",") if w.strip()]
    if not words or any(w not in ALIGN_MODES for w in words):
        raise MyoxaiError(f"--align {text!r}: use a comma list of {', '.join(ALIGN_MODES)} (e.g. off,on,unlabeled)")
    return tuple(dict.fromkeys(words))


def run_armband(args: argparse.Namespace) -> str:
    """Run the protocol and write its JSON; the summary table for the command to print.

    Records stream to ``<json>.partial.jsonl`` so a long run can be followed and survives.
    """
    from myoxai import __version__
    from myoxai.io.outputs import write_text

    if args.protocol != "inter-subject":
        raise MyoxaiError("--dataset myo-armband supports --protocol inter-subject (its paper's protocol)")
    root = Path(args.root).expanduser()
    if not root.exists():
        raise MyoxaiError(f"--root {root} does not exist; unpack the Myo Armband dataset there first")
    out = Path(args.json).expanduser()  # checked by the eval command (--overwrite, never an input)
    models = [m.strip() for m in args.models.split(",") if m.strip()]
    unknown = [m for m in models if m not in (*TORCH_MODELS, "lda")]
    if unknown or not models:
        raise MyoxaiError(f"--models: unknown {unknown}; with myo-armband choose from lda, {', '.join(TORCH_MODELS)}")
    config = SIGNALS[args.signal]
    settings = ArmbandSettings(
        models=models, trials_per_gesture=tuple(parse_int_list(args.trials_per_gesture, "trials-per-gesture")),
        align=_align(args.align), pretrain=TrainSettings(epochs=args.epochs, seed=args.seed, threads=args.threads,
                                                         patience=3, lr_patience=1),
        participants=args.participants.split(",") if args.participants else None,
        cross_dataset=Path(args.cross_dataset).expanduser() if args.cross_dataset else None,
        cache=Path(args.pretrained_cache).expanduser() if args.pretrained_cache else None)
    for ft in (settings.transfer, settings.scratch):
        ft.seed, ft.threads = args.seed, args.threads
    if any(k < 1 or k > 4 for k in settings.trials_per_gesture):
        raise MyoxaiError("--trials-per-gesture: round 1 has 4 cycles; choose values in 1-4")
    out.parent.mkdir(parents=True, exist_ok=True)
    partial = out.with_name(out.name + ".partial.jsonl")
    t0 = time.perf_counter()
    with torch_threads(args.threads), partial.open("w") as stream:
        def emit(rec: dict[str, Any]) -> None:
            stream.write(json.dumps(rec) + "\n")
            stream.flush()

        records = run_inter_subject(root, config, settings, emit)
    summary = summarize(records)
    command = {k: v for k, v in vars(args).items() if k != "_run"}
    doc = {"myoxai": __version__, "command": command, "signal_config": config.to_dict(),
           "settings": {"pretrain": settings.pretrain.to_dict(), "transfer": settings.transfer.to_dict(),
                        "scratch": settings.scratch.to_dict()},
           "seconds": round(time.perf_counter() - t0, 1), "records": records, "summary": summary}
    write_text(out, json.dumps(doc, indent=1), overwrite=args.overwrite, inputs=[args.root])
    partial.unlink()
    return format_table(summary)


def format_table(summary: list[dict[str, Any]]) -> str:
    """One line per (model, variant): mean ± sd accuracy, worst participant, balanced accuracy, macro-F1."""
    lines = [f"{'model':20s} {'variant':26s} {'acc %':>13s} {'worst':>6s} {'bal %':>6s} {'F1 %':>6s}"]
    for row in sorted(summary, key=lambda r: (r["variant"].split("-k")[-1], r["model"], r["variant"])):
        worst = min(row["accuracy_per_subject"].values())
        lines.append(f"{row['model']:20s} {row['variant']:26s} {100 * row['accuracy']:6.2f} ± "
                     f"{100 * row['accuracy_sd']:4.1f} {100 * worst:6.1f} {100 * row['balanced_accuracy']:6.2f} "
                     f"{100 * row['macro_f1']:6.2f}")
    return "\n".join(lines)
