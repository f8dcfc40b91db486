"""Evaluation of unsupervised recalibration (``--adapt none,dann,scadann,labeled``).

Protocols (every number comes from test windows the adaptation never saw):

- long-term dataset, inter-day: train on day 1 (all 4 trials, labeled); for each later day,
  adapt on that day's trials of one half (e.g. trials 1-2) concatenated in recording order
  (M1T1, M1T2, M2T1, ... as a user produces them), unlabeled; test on the other half.
  ``split="12"`` adapts on trials 1-2 and tests on 3-4, ``"34"`` the reverse.
- myo-readings: train on session 1 (labeled); for sessions 2 and 3, adapt on the first half of
  each 60 s gesture file, joined in file order into one continuous stream (rest ↔ gesture every
  5 s, transitions included), and test on the pure windows of the second halves.

Methods: ``none`` (the calibration model as is), ``dann`` and ``scadann`` (``myoxai.adapt.recalibrate``
with its safeguards, so a rejected run scores as ``none``, as it would live), and ``labeled`` —
the upper bound: the same self-calibration loop on the same adaptation windows with their TRUE
labels (the supervised recalibration SCADANN's pseudo-labels try to approach).
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from myoxai.adapt import (
    TARGET,
    RecalibrationSettings,
    SourceData,
    merge_batchnorm,
    recalibrate,
    split_batchnorm,
)
from myoxai.adapt.loop import LoopData, adversarial_fit
from myoxai.config import DEFAULT_CONFIG
from myoxai.dsp import process_signal
from myoxai.errors import MyoxaiError
from myoxai.evaluation import parse_int_list
from myoxai.models import TrainSettings, build_model, predict, torch_threads, train_model

log = logging.getLogger(__name__)
ADAPT_METHODS = ("none", "dann", "scadann", "labeled")


@dataclass
class AdaptEvalSettings:
    """Model and optimisation choices of an adaptation evaluation."""

    model: str = "spectrogram-convnet"
    model_args: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    threads: int = 1
    train: TrainSettings = field(default_factory=lambda: TrainSettings(epochs=40, patience=6))
    recal: RecalibrationSettings = field(default_factory=RecalibrationSettings)


def parse_methods(text: str) -> list[str]:
    methods = [m.strip() for m in text.split(",") if m.strip()]
    bad = [m for m in methods if m not in ADAPT_METHODS]
    if bad or not methods:
        raise MyoxaiError(f"--adapt takes a comma list of {', '.join(ADAPT_METHODS)}; got {text!r}")
    return methods


def _labeled_upper_bound(model: Any, source: SourceData, x: np.ndarray, y: np.ndarray,
                         s: RecalibrationSettings) -> Any:
    """Self-calibration loop from the calibration model with the adaptation windows' true labels."""
    net = copy.deepcopy(model)
    split_batchnorm(net)
    tr, va = source.validation_split(s.val_fraction, s.seed)
    from myoxai.models.training import stratified_split

    ttr, tva = stratified_split(y, s.val_fraction, s.seed)
    data = LoopData(source.x[tr], source.y[tr], x[ttr], y[ttr], source.x[va], source.y[va], x[tva], y[tva])
    with torch_threads(s.threads), torch.random.fork_rng(devices=[]):
        torch.manual_seed(s.seed)
        adversarial_fit(net, data, lam=s.domain_weight, ce_weight=s.ce_weight, lr=s.lr, betas=s.betas,
                        batch_size=s.batch_size, max_epochs=s.max_epochs, patience=s.patience, seed=s.seed)
    merge_batchnorm(net, TARGET)
    return net.eval()


def run_methods(model: Any, source: SourceData, x_adapt: np.ndarray, y_adapt: np.ndarray, x_test: np.ndarray,
                y_test: np.ndarray, methods: Sequence[str], settings: AdaptEvalSettings,
                base: dict[str, Any]) -> list[dict[str, Any]]:
    """One record per method: test accuracy and, for DANN/SCADANN, the recalibration report."""
    out = []
    for method in methods:
        rec: dict[str, Any] = {**base, "adapt": method, "n_adapt": int(len(x_adapt)), "n_test": int(len(y_test))}
        t0 = time.perf_counter()
        if method == "none":
            used = model
        elif method == "labeled":
            used = _labeled_upper_bound(model, source, x_adapt, y_adapt, settings.recal)
        else:
            used, report = recalibrate(model, source, x_adapt, method=method, settings=settings.recal)
            rec.update({k: v for k, v in report.to_dict().items()
                        if k in ("status", "reason", "coverage", "agreement", "source_val_accuracy_before",
                                 "source_val_accuracy_after")})
            if report.labels is not None:  # diagnostic only: the truth never reaches the adaptation
                kept = (report.labels >= 0) & (y_adapt >= 0)
                hit = report.labels[kept] == y_adapt[kept]
                rec["pseudo_label_accuracy"] = float(hit.mean()) if kept.any() else None
        rec["seconds"] = time.perf_counter() - t0
        rec["accuracy"] = float(np.mean(predict(used, x_test) == y_test))
        log.info("%s", {k: v for k, v in rec.items() if k not in ("reason",)})
        out.append(rec)
    return out


def source_from(x: np.ndarray, y: np.ndarray, groups: np.ndarray, description: dict[str, Any]) -> SourceData:
    return SourceData(x.astype(np.float32), y, groups, description)


def train_calibration_model(x: np.ndarray, y: np.ndarray, n_classes: int, settings: AdaptEvalSettings) -> Any:
    model = build_model(settings.model, n_classes, seed=settings.seed, **settings.model_args)
    ts = TrainSettings(**{**settings.train.to_dict(), "seed": settings.seed, "threads": settings.threads})
    train_model(model, x.astype(np.float32), y, ts)
    return model.eval()


# ---------------------------------------------------------------- long-term (Kanoga) dataset
def kanoga_day(root: str | Path, subject: int, day: int) -> dict[str, np.ndarray]:
    """Spectrograms of one day in recording order, with label, motion, trial per window."""
    from myoxai.io.kanoga import load_kanoga

    xs, ys, trials, motions = [], [], [], []
    for rec in load_kanoga(root, [subject], [day]):
        spec = process_signal(rec.samples, DEFAULT_CONFIG, highpass=False).spectrograms
        xs.append(spec)
        ys.append(np.full(len(spec), rec.meta["motion"] - 1))
        trials.append(np.full(len(spec), rec.meta["trial"]))
        motions.append(np.full(len(spec), rec.meta["motion"]))
    return {"x": np.concatenate(xs).astype(np.float32), "y": np.concatenate(ys), "trial": np.concatenate(trials),
            "motion": np.concatenate(motions)}


def eval_kanoga(root: str | Path, subjects: Iterable[int], days: Iterable[int], methods: Sequence[str],
                splits: Sequence[str] = ("12",), settings: AdaptEvalSettings | None = None,
                on_record: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Inter-day adaptation on the long-term dataset (see module docstring)."""
    from myoxai.io.kanoga import N_MOTIONS, position_of_day

    s = settings or AdaptEvalSettings()
    records = []
    for subject in subjects:
        d1 = kanoga_day(root, subject, 1)
        model = train_calibration_model(d1["x"], d1["y"], N_MOTIONS, s)
        source = source_from(d1["x"], d1["y"], d1["motion"] * 10 + d1["trial"],
                             {"dataset": "kanoga", "subject": subject, "day": 1, "trials": [1, 2, 3, 4]})
        for day in days:
            dd = kanoga_day(root, subject, day)
            for split in splits:
                adapt_trials = [int(c) for c in split]
                a = np.isin(dd["trial"], adapt_trials)  # recording order kept: motion-major, trial-minor
                base = {"dataset": "kanoga", "protocol": "inter-day", "subject": subject, "day": day,
                        "position": position_of_day(day), "split": f"adapt T{split} / test others"}
                for r in run_methods(model, source, dd["x"][a], dd["y"][a], dd["x"][~a], dd["y"][~a], methods, s,
                                     base):
                    records.append(r)
                    if on_record:
                        on_record(r)
    return records


# ---------------------------------------------------------------- myo-readings
def _file_windows(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """Spectrograms and window labels of one 60 s file (label -1 where a window straddles a change)."""
    from myoxai.io.myo_readings import load_file

    rec = load_file(path, strict=False)
    batch = process_signal(rec.samples, DEFAULT_CONFIG, highpass=True)
    lab = np.asarray(rec.labels)
    first, last = lab[batch.start], lab[batch.end - 1]
    y = np.where(first == last, first, -1)  # labels switch every 5 s, so a 250 ms window has at most one change
    return batch.spectrograms.astype(np.float32), y


def myo_session(folder: Path) -> list[tuple[np.ndarray, np.ndarray]]:
    files = sorted((p for p in folder.glob("*.txt") if p.stem.isdigit()), key=lambda p: int(p.stem))
    if not files:
        raise MyoxaiError(f"{folder} holds no <label>.txt files")
    return [_file_windows(f) for f in files]


def eval_myo_readings(root: str | Path, participants: Iterable[str] | None, methods: Sequence[str],
                      settings: AdaptEvalSettings | None = None,
                      on_record: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Session 1 → sessions 2 and 3, adapting on the first half of each file as one stream."""
    from myoxai.io.myo_readings import CLASS_NAMES, session_dirs

    s = settings or AdaptEvalSettings()
    dirs = {p.name: p for p in session_dirs(root)}
    ids = sorted({n.split("-")[0] for n in dirs}) if participants is None else list(participants)
    records = []
    for pid in ids:
        if f"{pid}-1" not in dirs:
            raise MyoxaiError(f"participant {pid} has no session 1 under {root}")
        files = myo_session(dirs[f"{pid}-1"])
        x = np.concatenate([f[0] for f in files])
        y = np.concatenate([f[1] for f in files])
        seg = np.concatenate([i * 1000 + np.cumsum(np.r_[0, np.diff(f[1]) != 0]) for i, f in enumerate(files)])
        keep = y >= 0
        model = train_calibration_model(x[keep], y[keep], len(CLASS_NAMES), s)
        source = source_from(x[keep], y[keep], seg[keep], {"dataset": "myo-readings", "participant": pid,
                                                          "session": 1})
        for session in (2, 3):
            name = f"{pid}-{session}"
            if name not in dirs:
                continue
            parts = myo_session(dirs[name])
            halves = [(fx[:len(fx) // 2], fy[:len(fy) // 2], fx[len(fx) // 2:], fy[len(fy) // 2:])
                      for fx, fy in parts]
            xa = np.concatenate([h[0] for h in halves])
            ya = np.concatenate([h[1] for h in halves])
            xt = np.concatenate([h[2] for h in halves])
            yt = np.concatenate([h[3] for h in halves])
            base = {"dataset": "myo-readings", "protocol": "inter-session", "subject": pid, "day": session,
                    "position": "-", "split": "adapt first half / test second half"}
            la = ya >= 0
            for method in methods:
                if method == "labeled":  # the upper bound trains on pure windows only (it needs labels)
                    rs = run_methods(model, source, xa[la], ya[la], xt[yt >= 0], yt[yt >= 0], [method], s, base)
                else:
                    rs = run_methods(model, source, xa, ya, xt[yt >= 0], yt[yt >= 0], [method], s, base)
                for r in rs:
                    records.append(r)
                    if on_record:
                        on_record(r)
    return records


# ---------------------------------------------------------------- summary
def summarize(records: Sequence[dict[str, Any]]) -> str:
    """Markdown table: accuracy mean ± sd over (subject, day) per dataset, split, method and position."""
    lines = ["| dataset | split | position | method | n | accuracy % (mean ± sd) | Δ vs none | accepted |",
             "|---|---|---|---|---|---|---|---|"]
    keys = sorted({(r["dataset"], r["split"]) for r in records})
    for dataset, split in keys:
        rows = [r for r in records if r["dataset"] == dataset and r["split"] == split]
        positions = ["all"] + sorted({r["position"] for r in rows} - {"-"})
        for pos in positions:
            sel = [r for r in rows if pos == "all" or r["position"] == pos]
            none = {(r["subject"], r["day"]): r["accuracy"] for r in sel if r["adapt"] == "none"}
            for method in ADAPT_METHODS:
                m = [r for r in sel if r["adapt"] == method]
                if not m:
                    continue
                acc = 100 * np.array([r["accuracy"] for r in m])
                delta = [100 * (r["accuracy"] - none[(r["subject"], r["day"])]) for r in m
                         if (r["subject"], r["day"]) in none]
                acc_txt = f"{acc.mean():.1f} ± {acc.std(ddof=1) if len(acc) > 1 else 0:.1f}"
                d_txt = f"{np.mean(delta):+.1f}" if delta and method != "none" else ""
                accepted = [r.get("status") for r in m if "status" in r]
                a_txt = f"{sum(a == 'accepted' for a in accepted)}/{len(accepted)}" if accepted else ""
                lines.append(f"| {dataset} | {split} | {pos} | {method} | {len(m)} | {acc_txt} | {d_txt} | {a_txt} |")
    return "\n".join(lines)


# ---------------------------------------------------------------- command line
def add_arguments(parser: Any) -> None:
    """Options of the adaptation evaluation (shared by ``myoxai eval --adapt`` and ``python -m``)."""
    parser.add_argument("--adapt", default="none,dann,scadann,labeled", help="comma list of " + ",".join(ADAPT_METHODS))
    parser.add_argument("--dataset", choices=("kanoga", "myo-readings"), default="kanoga")
    parser.add_argument("--root", help="unpacked dataset folder")
    parser.add_argument("--subjects", default="1-4", help="kanoga subjects (e.g. 1-4) or myo-readings ids (a,b)")
    parser.add_argument("--days", default="2-30:7", help="kanoga test days, e.g. 2-30:3 (step 3)")
    parser.add_argument("--splits", default="12", help="kanoga adaptation trials per split, e.g. 12,34")
    parser.add_argument("--model", default="spectrogram-convnet")
    parser.add_argument("--channels", default="", help="conv widths, e.g. 16,32,32 (default: the model's)")
    parser.add_argument("--train-epochs", type=int, default=40)
    parser.add_argument("--adapt-epochs", type=int, default=30)
    parser.add_argument("--buffer", type=int, default=30, help="pseudo-label buffer (windows)")
    parser.add_argument("--max-unstable", type=int, default=40, help="pseudo-label instability limit (windows)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", help="append one JSON line per result to this file")


def run(args: Any) -> int:
    """Run the evaluation the options describe; print the summary table."""
    import json
    from dataclasses import replace

    from myoxai.adapt import PseudoLabelSettings

    methods = parse_methods(args.adapt)
    pseudo = PseudoLabelSettings(buffer=args.buffer, max_unstable_same=args.max_unstable,
                                 max_unstable_transition=args.max_unstable)
    recal = replace(RecalibrationSettings(), max_epochs=args.adapt_epochs, seed=args.seed, threads=args.threads,
                    pseudo=pseudo)
    s = AdaptEvalSettings(model=args.model, seed=args.seed, threads=args.threads,
                          model_args={"channels": [int(c) for c in args.channels.split(",")]} if args.channels else {},
                          train=TrainSettings(epochs=args.train_epochs), recal=recal)
    out = Path(args.out) if args.out else None

    def write(rec: dict[str, Any]) -> None:
        if out is not None:
            with out.open("a") as f:
                f.write(json.dumps(rec) + "\n")

    if args.dataset == "kanoga":
        root = args.root or str(Path.home() / ".cache/myoxai/kanoga")
        recs = eval_kanoga(root, parse_int_list(args.subjects, "subjects"), parse_int_list(args.days, "days"), methods,
                           [sp.strip() for sp in args.splits.split(",")], s, write)
    else:
        root = args.root or str(Path.home() / ".cache/myoxai/myo_readings")
        ids = None if args.subjects in ("", "all") else args.subjects.split(",")
        recs = eval_myo_readings(root, ids, methods, s, write)
    print(summarize(recs))
    return 0


def run_from_eval(args: Any) -> int:
    """``myoxai eval --adapt dann,scadann,...``: the separated-split protocols above, from eval's options.

    Maps eval's ``--dataset --root --subjects --days --models --epochs --seed --threads --json`` onto
    this module (day 1 / session 1 is always the calibration; ``--days`` lists the test days).
    Pseudo-label lengths: a long-term-dataset gesture lasts only 2 trials = 52 windows in the
    adaptation stream, so the buffer is 10 windows (0.5 s) and the instability limit 20; the
    myo-readings gestures are held 5 s, so the reference's 30/40 apply.
    """
    import json
    from dataclasses import replace

    from myoxai.adapt import PseudoLabelSettings

    if args.protocol != "inter-day":
        raise MyoxaiError("--adapt evaluates the inter-day protocol (kanoga: day 1 → later days; myo-readings: "
                          "session 1 → 2, 3); use --protocol inter-day")
    methods = parse_methods(args.adapt)
    model = next((m.strip() for m in args.models.split(",") if m.strip() in ("spectrogram-convnet", "allconvnet")),
                 None)
    if model is None:
        raise MyoxaiError("--adapt needs a torch spectrogram model in --models (spectrogram-convnet or allconvnet)")
    short = args.dataset == "kanoga"
    pseudo = PseudoLabelSettings(buffer=10, max_unstable_same=20, max_unstable_transition=20) if short \
        else PseudoLabelSettings()
    recal = replace(RecalibrationSettings(), seed=args.seed, threads=args.threads, pseudo=pseudo)
    s = AdaptEvalSettings(model=model, seed=args.seed, threads=args.threads,
                          train=TrainSettings(epochs=args.epochs), recal=recal)
    if args.dataset == "kanoga":
        from myoxai.io.kanoga import available_subjects

        subjects = parse_int_list(args.subjects, "subjects") or available_subjects(args.root)
        days = [d for d in (parse_int_list(args.days, "days") or range(2, 31)) if d > 1]
        recs = eval_kanoga(args.root, subjects, days, methods, ("12", "34"), s)
    else:
        recs = eval_myo_readings(args.root, args.subjects.split(",") if args.subjects else None, methods, s)
    table = summarize(recs)
    out = {"command": {k: v for k, v in vars(args).items() if not k.startswith("_")}, "records": recs,
           "settings": {"model": model, "train": s.train.to_dict(), "recalibration": recal.to_dict()},
           "summary_markdown": table}
    Path(args.json).parent.mkdir(parents=True, exist_ok=True)
    Path(args.json).write_text(json.dumps(out, indent=1, default=str))
    print(table)
    return 0


if __name__ == "__main__":
    import argparse
    import sys

    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s: %(message)s")
    p = argparse.ArgumentParser(prog="python -m myoxai.evaluation.adaptation", description=__doc__.splitlines()[0])
    add_arguments(p)
    sys.exit(run(p.parse_args()))
