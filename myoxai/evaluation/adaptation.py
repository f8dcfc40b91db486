"""Evaluation of unsupervised recalibration (``--adapt none,renorm,rotate,quick,tent,dann,scadann,...``).

Protocols (every number comes from test windows the adaptation never saw):

- long-term dataset, inter-day: train on day 1 (all 4 trials, labeled); for each later day,
  adapt on that day's trials of one half (e.g. trials 1-2) concatenated in recording order
  (M1T1, M1T2, M2T1, ... as a user produces them), unlabeled; test on the other half.
  ``split="12"`` adapts on trials 1-2 and tests on 3-4, ``"34"`` the reverse.
- myo-readings: train on session 1 (labeled); for sessions 2 and 3, adapt on the first half of
  each 60 s gesture file, joined in file order into one continuous stream (rest ↔ gesture every
  5 s, transitions included), and test on the pure windows of the second halves.

Methods (``ADAPT_METHODS``):

- ``none``: the calibration model as is;
- ``renorm`` (standardiser + AdaBN), ``adabn`` (BatchNorm statistics only), ``rotate`` (rotation
  compensation only), ``quick`` (rotate, then renorm: the Recalibrate button's instant step),
  ``tent`` and ``quick+tent`` (entropy minimisation of the BatchNorm affine parameters, from the
  calibration model or from ``quick``) — ``myoxai.adapt.quick``;
- ``dann``, ``scadann`` (``myoxai.adapt.recalibrate`` with its safeguards, so a rejected run scores as
  the model it started from, as it would live), ``scadann+quick`` (SCADANN whose target domain starts
  from the ``quick`` model; a rejected run keeps ``quick``), ``scadann-acc`` (SCADANN that also replays
  the pseudo-labels its accepted runs on this subject's earlier test days kept, as the reference
  accumulates sessions);
- ``labeled``: the upper bound, the self-calibration loop on the same adaptation windows with their
  TRUE labels;
- ``default``: ``DEFAULT_PIPELINE``, whatever the live Recalibrate button runs.

The calibration model holds out one trial per gesture of day 1 for early stopping (whole trials,
``group_split``); those trials are also the safeguard's source validation, so it is measured on
windows no step ever trained on. Day 1 itself is refused as a test day. Every record carries
accuracy, balanced accuracy and macro-F1.
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
    DEFAULT_PIPELINE,
    TARGET,
    PseudoLabelSettings,
    RecalibrationSettings,
    SourceData,
    merge_batchnorm,
    quick,
    recalibrate,
    split_batchnorm,
)
from myoxai.adapt.loop import LoopData, adversarial_fit
from myoxai.config import DEFAULT_CONFIG
from myoxai.dsp import process_signal
from myoxai.errors import MyoxaiError
from myoxai.evaluation import parse_int_list
from myoxai.evaluation.metrics import scores
from myoxai.models import TrainSettings, build_model, predict, torch_threads, train_model

log = logging.getLogger(__name__)
ADAPT_METHODS = ("none", "renorm", "adabn", "rotate", "quick", "tent", "quick+tent", "dann", "scadann",
                 "scadann+quick", "scadann-acc", "labeled", "default")
RECALIBRATED = ("dann", "scadann", "scadann+quick", "scadann-acc")
# A long-term-dataset gesture lasts 2 trials = 2.6 s in the adaptation stream (the reference's 1.5 s
# buffer and 2 s limits assume gestures held for seconds); chosen on days 3-8 of subjects 1-4.
KANOGA_PSEUDO = PseudoLabelSettings()


@dataclass
class AdaptEvalSettings:
    """Model and optimisation choices of an adaptation evaluation.

    ``cache_dir``: calibration models are saved there under a name made of the recipe, subject
    and seed, and loaded instead of retrained when present (the same recipe gives the same file).
    """

    model: str = "spectrogram-convnet"
    model_args: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    threads: int = 1
    train: TrainSettings = field(default_factory=lambda: TrainSettings(epochs=40, patience=6))
    recal: RecalibrationSettings = field(default_factory=RecalibrationSettings)
    cache_dir: str | None = None


def recipe_settings(model: str = "spectrogram-convnet", seed: int = 0, threads: int = 1) -> AdaptEvalSettings:
    """The calibration-model recipe chosen on the selection days (see ``myoxai.models.recipes``)."""
    from myoxai.models.recipes import recipe

    args, train = recipe(model)
    return AdaptEvalSettings(model=model, model_args=args, seed=seed, threads=threads, train=train)


def pseudo_settings(dataset: str) -> Any:
    """Pseudo-label settings per dataset (chosen on the selection days; see ``KANOGA_PSEUDO``)."""
    from myoxai.adapt import PseudoLabelSettings

    return KANOGA_PSEUDO if dataset == "kanoga" else PseudoLabelSettings()


def parse_methods(text: str) -> list[str]:
    """The comma list of ``--adapt`` methods, checked."""
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


def _quick_model(model: Any, source: SourceData, x: np.ndarray) -> Any:
    profile = quick.calibration_profile(source.training_part(0.25, 0)[0]) if quick.model_profile(model) is None \
        else quick.model_profile(model)
    return quick.quick_adapt(model, x, profile, min_windows=1)


def adapt_one(method: str, model: Any, source: SourceData, x_adapt: np.ndarray, y_adapt: np.ndarray,
              settings: AdaptEvalSettings, rec: dict[str, Any], state: dict[str, Any]) -> Any:
    """The model ``method`` gives for this adaptation set; fills ``rec`` with what the method reports.

    ``state`` carries what a method keeps across the test days of one subject (``scadann-acc``'s replay).
    """
    name = DEFAULT_PIPELINE if method == "default" else method
    if name == "none":
        return model
    if name == "labeled":
        return _labeled_upper_bound(model, source, x_adapt, y_adapt, settings.recal)
    if name in ("renorm", "adabn"):
        return quick.renormalize(model, x_adapt, standardizer=name == "renorm")
    if name in ("rotate", "quick", "quick+tent") or name == "scadann+quick":
        q, qrep = _quick_model(model, source, x_adapt)
        rec["rotation_shift"] = qrep.rotation_shift
        if name == "rotate":
            return quick.compensate_rotation(model, x_adapt, quick.calibration_profile(
                source.training_part(0.25, 0)[0]) if quick.model_profile(model) is None
                else quick.model_profile(model))[0]
        if name == "quick":
            return q
        if name == "quick+tent":
            return quick.tent(q, x_adapt, quick.TentSettings(seed=settings.seed))
    if name == "tent":
        return quick.tent(model, x_adapt, quick.TentSettings(seed=settings.seed))
    if name in RECALIBRATED:
        src = state.get("replay", source) if name == "scadann-acc" else source
        start = q if name == "scadann+quick" else None
        used, report = recalibrate(model, src, x_adapt, method="dann" if name == "dann" else "scadann",
                                   settings=settings.recal, start=start)
        rec.update({k: v for k, v in report.to_dict().items()
                    if k in ("status", "reason", "coverage", "agreement", "source_val_accuracy_before",
                             "source_val_accuracy_after", "n_replay")})
        if report.labels is not None:  # diagnostic only: the truth never reaches the adaptation
            kept = (report.labels >= 0) & (y_adapt >= 0)
            hit = report.labels[kept] == y_adapt[kept]
            rec["pseudo_label_accuracy"] = float(hit.mean()) if kept.any() else None
            if name == "scadann-acc" and report.accepted:
                keep = report.labels >= 0
                state["replay"] = src.with_replay(x_adapt[keep], report.labels[keep], settings.recal.replay_limit)
        return used
    raise MyoxaiError(f"unknown adaptation method {method!r}")


def run_methods(model: Any, source: SourceData, x_adapt: np.ndarray, y_adapt: np.ndarray, x_test: np.ndarray,
                y_test: np.ndarray, methods: Sequence[str], settings: AdaptEvalSettings,
                base: dict[str, Any], state: dict[str, Any] | None = None) -> list[dict[str, Any]]:
    """One record per method: accuracy, balanced accuracy, macro-F1 on the test windows, and what it reported."""
    state = {} if state is None else state
    out = []
    n_classes = int(getattr(model, "n_classes", int(max(y_test.max(), source.y.max())) + 1))
    for method in methods:
        rec: dict[str, Any] = {**base, "adapt": method, "n_adapt": int(len(x_adapt)), "n_test": int(len(y_test))}
        if method == "default":
            rec["pipeline"] = DEFAULT_PIPELINE
        t0 = time.perf_counter()
        with torch_threads(settings.threads):
            used = adapt_one(method, model, source, x_adapt, y_adapt, settings, rec, state)
        rec["seconds"] = time.perf_counter() - t0
        sc = scores(y_test, predict(used, x_test), n_classes)
        rec.update({k: sc[k] for k in ("accuracy", "balanced_accuracy", "macro_f1")})
        log.info("%s", {k: v for k, v in rec.items() if k not in ("reason",)})
        out.append(rec)
    return out


def train_calibration_model(x: np.ndarray, y: np.ndarray, groups: np.ndarray, n_classes: int,
                            settings: AdaptEvalSettings, description: dict[str, Any]) -> tuple[Any, SourceData]:
    """The labeled calibration model (validation on whole held-out groups) and its ``SourceData``.

    The source data's validation groups are exactly the ones the trainer held out, so the safeguard
    validates on windows the model never trained on. The calibration energy profile (of the
    training windows) is stored in the model's description. With ``settings.cache_dir`` the model
    is loaded from / saved to a file named by the recipe, the data description and the seed.
    """
    import hashlib
    import json

    from myoxai.models import load_model, save_model

    ts = TrainSettings(**{**settings.train.to_dict(), "seed": settings.seed, "threads": settings.threads})
    recipe = {"model": settings.model, "args": settings.model_args, "train": ts.to_dict(), "data": description}
    key = hashlib.sha256(json.dumps(recipe, sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = Path(settings.cache_dir) / f"calibration-{key}.safetensors" if settings.cache_dir else None
    if path is not None and path.exists():
        model = load_model(path)
        val_groups = np.asarray(model.description["training"]["val_groups"])
    else:
        model = build_model(settings.model, n_classes, seed=settings.seed, **settings.model_args)
        report = train_model(model, x.astype(np.float32), y, ts, groups=groups)
        val_groups = np.asarray(report.get("val_groups", []))
        tr = ~np.isin(groups, val_groups)
        profile = quick.calibration_profile(x[tr]).tolist()
        model.description = {"training": {"recipe": recipe, "val_groups": val_groups.tolist(),
                                          "calibration_profile": profile, "epochs_run": report.get("epochs_run"),
                                          "best_epoch": report.get("best_epoch")}}
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            save_model(model, path, [str(i) for i in range(n_classes)], training=model.description["training"])
            model = load_model(path)
    source = SourceData(x.astype(np.float32), y, groups, description, validation_groups=val_groups)
    return model.eval(), source


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


def kanoga_split(trials: np.ndarray, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays (adapt, test) of a day's windows: adaptation trials = the digits of ``split``.

    Each trial is its own 1.5 s recording, so no window spans two trials and the two sets share none.
    The adaptation windows stay in recording order (motion-major, trial-minor), as a user produces them.
    """
    adapt_trials = [int(c) for c in split]
    a = np.isin(trials, adapt_trials)
    return np.flatnonzero(a), np.flatnonzero(~a)


def eval_kanoga(root: str | Path, subjects: Iterable[int], days: Iterable[int], methods: Sequence[str],
                splits: Sequence[str] = ("12",), settings: AdaptEvalSettings | None = None,
                on_record: Callable[[dict[str, Any]], None] | None = None) -> list[dict[str, Any]]:
    """Inter-day adaptation on the long-term dataset (see module docstring)."""
    from myoxai.io.kanoga import N_MOTIONS, position_of_day

    s = settings or AdaptEvalSettings()
    days = list(days)
    if 1 in days:
        raise MyoxaiError("day 1 is the calibration day (the model trained on its trials); choose test days "
                          "from 2 on, e.g. --days 2-30")
    records = []
    for subject in subjects:
        d1 = kanoga_day(root, subject, 1)
        model, source = train_calibration_model(
            d1["x"], d1["y"], d1["motion"] * 10 + d1["trial"], N_MOTIONS, s,
            {"dataset": "kanoga", "subject": subject, "day": 1, "trials": [1, 2, 3, 4]})
        states: dict[str, dict[str, Any]] = {}
        for day in days:
            dd = kanoga_day(root, subject, day)
            for split in splits:
                a, t = kanoga_split(dd["trial"], split)
                base = {"dataset": "kanoga", "protocol": "inter-day", "subject": subject, "day": day,
                        "position": position_of_day(day), "split": f"adapt T{split} / test others"}
                for r in run_methods(model, source, dd["x"][a], dd["y"][a], dd["x"][t], dd["y"][t], methods, s,
                                     base, states.setdefault(split, {})):
                    records.append(r)
                    if on_record:
                        on_record(r)
    return records


# ---------------------------------------------------------------- myo-readings
def _file_windows(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Spectrograms, window labels (-1 where a window straddles a change) and sample spans of one 60 s file."""
    from myoxai.io.myo_readings import load_file

    rec = load_file(path, strict=False)
    batch = process_signal(rec.samples, DEFAULT_CONFIG, highpass=True)
    lab = np.asarray(rec.labels)
    first, last = lab[batch.start], lab[batch.end - 1]
    y = np.where(first == last, first, -1)  # labels switch every 5 s, so a 250 ms window has at most one change
    return batch.spectrograms.astype(np.float32), y, np.asarray(batch.start), np.asarray(batch.end)


def halves_of_file(start: np.ndarray, end: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays (adapt, test) of a file's windows cut at its middle sample.

    Adaptation windows end at or before the cut and test windows start at or after it; the few
    windows that straddle the cut are dropped, so the two sets share no sample.
    """
    cut = (int(start.min()) + int(end.max())) // 2
    return np.flatnonzero(end <= cut), np.flatnonzero(start >= cut)


def myo_session(folder: Path) -> list[tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
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
        model, source = train_calibration_model(x[keep], y[keep], seg[keep], len(CLASS_NAMES), s,
                                                {"dataset": "myo-readings", "participant": pid, "session": 1})
        for session in (2, 3):
            name = f"{pid}-{session}"
            if name not in dirs:
                continue
            halves = []
            for fx, fy, fs, fe in myo_session(dirs[name]):
                a, t = halves_of_file(fs, fe)
                halves.append((fx[a], fy[a], fx[t], fy[t]))
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
def _mean_sd(values: Sequence[float]) -> str:
    v = 100 * np.asarray(values, dtype=np.float64)
    return f"{v.mean():.1f} ± {v.std(ddof=1) if len(v) > 1 else 0:.1f}"


def summarize(records: Sequence[dict[str, Any]]) -> str:
    """Markdown table per dataset, split, position and method (%, mean ± sd).

    Accuracy over subject-days and over subjects (each subject's mean first), balanced accuracy and
    macro-F1 over subject-days, the paired gain over ``none``, accepted runs, and the mean estimated
    rotation where the method estimates one.
    """
    lines = ["| dataset | split | position | method | n | accuracy (subject-days) | accuracy (subjects) | "
             "balanced acc. | macro-F1 | Δ vs none | accepted | shift |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
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
                subjects = sorted({r["subject"] for r in m}, key=str)
                per_subject = [np.mean([r["accuracy"] for r in m if r["subject"] == s]) for s in subjects]
                delta = [100 * (r["accuracy"] - none[(r["subject"], r["day"])]) for r in m
                         if (r["subject"], r["day"]) in none]
                d_txt = f"{np.mean(delta):+.1f}" if delta and method != "none" else ""
                accepted = [r.get("status") for r in m if "status" in r]
                a_txt = f"{sum(a == 'accepted' for a in accepted)}/{len(accepted)}" if accepted else ""
                shifts = [r["rotation_shift"] for r in m if r.get("rotation_shift") is not None]
                sh_txt = f"{np.mean(shifts):+.2f}" if shifts else ""
                lines.append(f"| {dataset} | {split} | {pos} | {method} | {len(m)} | "
                             f"{_mean_sd([r['accuracy'] for r in m])} | {_mean_sd(per_subject)} | "
                             f"{_mean_sd([r['balanced_accuracy'] for r in m])} | "
                             f"{_mean_sd([r['macro_f1'] for r in m])} | {d_txt} | {a_txt} | {sh_txt} |")
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
    parser.add_argument("--buffer-s", type=float, default=1.5, help="pseudo-label buffer (seconds)")
    parser.add_argument("--max-unstable-s", type=float, default=2.0, help="pseudo-label instability limit (seconds)")
    parser.add_argument("--model-cache", help="folder for the calibration models (reused when present)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--out", help="append one JSON line per result to this file")


def run(args: Any) -> int:
    """Run the evaluation the options describe; print the summary table."""
    import json
    from dataclasses import replace

    from myoxai.adapt import PseudoLabelSettings

    methods = parse_methods(args.adapt)
    pseudo = PseudoLabelSettings(buffer_s=args.buffer_s, max_unstable_same_s=args.max_unstable_s,
                                 max_unstable_transition_s=args.max_unstable_s)
    recal = replace(RecalibrationSettings(), max_epochs=args.adapt_epochs, seed=args.seed, threads=args.threads,
                    pseudo=pseudo)
    base = recipe_settings(args.model, args.seed, args.threads)
    model_args = {**base.model_args, "channels": [int(c) for c in args.channels.split(",")]} if args.channels \
        else base.model_args
    s = replace(base, model_args=model_args, train=replace(base.train, epochs=args.train_epochs), recal=recal,
                cache_dir=args.model_cache)
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

    Maps eval's ``--dataset --root --subjects --days --models --epochs --seed --threads --json
    --model-cache`` onto this module (day 1 / session 1 is always the calibration and refused as a
    test day; ``--days`` lists the test days; the long-term dataset adapts on trials 1-2 and tests
    on 3-4). The model recipe is ``recipe_settings``; pseudo-label settings are ``pseudo_settings``.
    """
    import json
    from dataclasses import replace


    if args.protocol != "inter-day":
        raise MyoxaiError("--adapt evaluates the inter-day protocol (kanoga: day 1 → later days; myo-readings: "
                          "session 1 → 2, 3); use --protocol inter-day")
    methods = parse_methods(args.adapt)
    model = next((m.strip() for m in args.models.split(",") if m.strip() in ("spectrogram-convnet", "allconvnet")),
                 None)
    if model is None:
        raise MyoxaiError("--adapt needs a torch spectrogram model in --models (spectrogram-convnet or allconvnet)")
    recal = replace(RecalibrationSettings(), seed=args.seed, threads=args.threads,
                    pseudo=pseudo_settings(args.dataset))
    base = recipe_settings(model, args.seed, args.threads)
    s = replace(base, train=replace(base.train, epochs=args.epochs), recal=recal,
                cache_dir=getattr(args, "model_cache", None))
    if args.dataset == "kanoga":
        from myoxai.io.kanoga import available_subjects

        subjects = parse_int_list(args.subjects, "subjects") or available_subjects(args.root)
        days = parse_int_list(args.days, "days") or list(range(2, 31))
        recs = eval_kanoga(args.root, subjects, days, methods, ("12",), s)
    else:
        recs = eval_myo_readings(args.root, args.subjects.split(",") if args.subjects else None, methods, s)
    table = summarize(recs)
    out = {"command": {k: v for k, v in vars(args).items() if not k.startswith("_")}, "records": recs,
           "settings": {"model": model, "model_args": s.model_args, "train": s.train.to_dict(),
                        "recalibration": recal.to_dict(), "default_pipeline": DEFAULT_PIPELINE},
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
