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

Each subject-day (participant-session) is one cell (``kanoga_cells``, ``myo_readings_cells``) that
``myoxai eval --adapt`` runs through ``myoxai.evaluation.executor``. The recalibration seed derives
from the cell's key. The calibration model is seeded from the subject's key and memoised per process,
so it is trained once per subject sequentially and at most once per worker on Dask.
"""

from __future__ import annotations

import copy
import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
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
from myoxai.evaluation.cells import Cell, GridContext, derive_seed, memo
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

    def to_dict(self) -> dict[str, Any]:
        """JSON description (for the output file and the cell cache key)."""
        return {"model": self.model, "model_args": self.model_args, "seed": self.seed, "threads": self.threads,
                "train": self.train.to_dict(), "recalibration": self.recal.to_dict()}


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


KANOGA_RUNNER = "myoxai.evaluation.adaptation:run_kanoga_cell"
MYO_READINGS_RUNNER = "myoxai.evaluation.adaptation:run_myo_readings_cell"


# Methods whose state carries from one test day to the next (e.g. a replay of earlier days'
# pseudo-labels) get one cell per subject that walks its test days in order; all others get one cell
# per subject-day. None of today's methods carries state.
CROSS_DAY_METHODS: tuple[str, ...] = ()


def _split_methods(methods: Sequence[str]) -> tuple[list[str], list[str]]:
    return [m for m in methods if m not in CROSS_DAY_METHODS], [m for m in methods if m in CROSS_DAY_METHODS]


def kanoga_cells(subjects: Iterable[int], days: Iterable[int], methods: Sequence[str],
                 splits: Sequence[str] = ("12",)) -> list[Cell]:
    """Inter-day adaptation on the long-term dataset, one cell per subject-day (see module docstring)."""
    days = sorted(days)
    if 1 in days:
        raise MyoxaiError("day 1 is the calibration day (the model trained on its trials); choose test days "
                          "from 2 on, e.g. --days 2-30")
    per_day, across = _split_methods(methods)

    def cell(s: int, ds: list[int], ms: list[str]) -> Cell:
        label = f"adapt kanoga s{s} day {ds[0]}" if len(ds) == 1 else f"adapt kanoga s{s} days {ds} {','.join(ms)}"
        return Cell(KANOGA_RUNNER, {"dataset": "kanoga", "protocol": "inter-day", "subject": s, "days": ds,
                                    "methods": ms, "splits": list(splits)},
                    [[s, 1]] + [[s, d] for d in ds], label, seed_key={"dataset": "kanoga", "subject": s, "days": ds})

    return [c for s in subjects
            for c in ([cell(s, [d], per_day) for d in days] if per_day else []) + ([cell(s, days, across)] if across
                                                                                   else [])]


def _calibration(key: dict[str, Any], context: GridContext, make: Callable[[AdaptEvalSettings], tuple]) -> tuple:
    """The calibration model (and its source data) of one subject, memoised per process.

    Seeded from the run seed and ``key`` only, so every process that trains it gets the same model.
    """
    settings = replace(context.settings, seed=derive_seed(context.seed, key))
    return memo(("adapt-calibration", context.root, key, context.settings_key, settings.seed),
                lambda: make(settings))


def _as_records(flat: list[dict[str, Any]], timings: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """``run_methods`` records with their wall-clock seconds moved out (records must be reproducible)."""
    out = []
    for r in flat:
        r = {**r, "train": dict(r["train"]), "test": dict(r["test"])}
        timings.append({"adapt": r["adapt"], "split": r["test"].get("split"), "seconds": r.pop("seconds", None)})
        out.append(r)
    return out


def run_kanoga_cell(params: dict[str, Any], context: GridContext, seed: int) -> dict[str, Any]:
    """Runner of one subject-day (or of a subject's days in order): calibration model from day 1, then
    every split and method."""
    from myoxai.io.kanoga import N_MOTIONS, position_of_day

    root, subject = context.root, params["subject"]
    s = context.settings

    def make(settings: AdaptEvalSettings) -> tuple:
        d1 = kanoga_day(root, subject, 1)
        model = train_calibration_model(d1["x"], d1["y"], N_MOTIONS, settings)
        source = source_from(d1["x"], d1["y"], d1["motion"] * 10 + d1["trial"],
                             {"dataset": "kanoga", "subject": subject, "day": 1, "trials": [1, 2, 3, 4]})
        return model, source

    model, source = _calibration({"dataset": "kanoga", "subject": subject, "calibration_day": 1}, context, make)
    cell_settings = replace(s, recal=replace(s.recal, seed=seed))
    records: list[dict[str, Any]] = []
    timings: list[dict[str, Any]] = []
    for day in params["days"]:
        dd = kanoga_day(root, subject, day)
        for split in params["splits"]:
            adapt_trials = [int(c) for c in split]
            a = np.isin(dd["trial"], adapt_trials)  # recording order kept: motion-major, trial-minor
            base = {"dataset": "kanoga", "protocol": "inter-day", "subject": subject, "model": s.model,
                    "train": {"variant": "fixed", "days": [1], "trials": [1, 2, 3, 4]},
                    "test": {"day": day, "position": position_of_day(day),
                             "trials": [t for t in (1, 2, 3, 4) if t not in adapt_trials],
                             "adapt_trials": adapt_trials, "split": f"adapt T{split} / test others"}}
            records += _as_records(run_methods(model, source, dd["x"][a], dd["y"][a], dd["x"][~a], dd["y"][~a],
                                               params["methods"], cell_settings, base), timings)
    return {"records": records, "details": {"timings": timings}}


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



def myo_readings_cells(sessions: Iterable[tuple[Any, int]], methods: Sequence[str]) -> list[Cell]:
    """Session 1 → each later session of every participant, one cell per participant-session."""
    later: dict[Any, list[int]] = {}
    for pid, k in sorted(sessions):
        if k != 1:
            later.setdefault(pid, []).append(k)
    per_session, across = _split_methods(methods)

    def cell(pid: Any, ks: list[int], ms: list[str]) -> Cell:
        label = f"adapt myo-readings {pid}-{ks[0]}" if len(ks) == 1 else f"adapt myo-readings {pid} {ks} {','.join(ms)}"
        return Cell(MYO_READINGS_RUNNER, {"dataset": "myo-readings", "protocol": "inter-session", "subject": pid,
                                          "sessions": ks, "methods": ms},
                    [[pid, 1]] + [[pid, k] for k in ks], label,
                    seed_key={"dataset": "myo-readings", "subject": pid, "sessions": ks})

    return [c for pid, ks in later.items()
            for c in ([cell(pid, [k], per_session) for k in ks] if per_session else [])
            + ([cell(pid, ks, across)] if across else [])]


def _session_folder(root: str, pid: Any, session: int) -> Path:
    from myoxai.io.myo_readings import session_dirs

    name = f"{pid}-{session}"
    folder = next((p for p in session_dirs(root) if p.name == name), None)
    if folder is None:
        raise MyoxaiError(f"participant {pid} has no session {session} under {root}")
    return folder


def run_myo_readings_cell(params: dict[str, Any], context: GridContext, seed: int) -> dict[str, Any]:
    """Runner of one participant-session: adapt on the first half of each file as one stream, test the rest."""
    from myoxai.io.myo_readings import CLASS_NAMES

    root, pid = context.root, params["subject"]
    s = context.settings

    def make(settings: AdaptEvalSettings) -> tuple:
        files = myo_session(_session_folder(root, pid, 1))
        x = np.concatenate([f[0] for f in files])
        y = np.concatenate([f[1] for f in files])
        seg = np.concatenate([i * 1000 + np.cumsum(np.r_[0, np.diff(f[1]) != 0]) for i, f in enumerate(files)])
        keep = y >= 0
        model = train_calibration_model(x[keep], y[keep], len(CLASS_NAMES), settings)
        source = source_from(x[keep], y[keep], seg[keep], {"dataset": "myo-readings", "participant": pid,
                                                          "session": 1})
        return model, source

    model, source = _calibration({"dataset": "myo-readings", "subject": pid, "calibration_session": 1}, context,
                                 make)
    cell_settings = replace(s, recal=replace(s.recal, seed=seed))
    records: list[dict[str, Any]] = []
    timings: list[dict[str, Any]] = []
    for session in params["sessions"]:
        parts = myo_session(_session_folder(root, pid, session))
        halves = [(fx[:len(fx) // 2], fy[:len(fy) // 2], fx[len(fx) // 2:], fy[len(fy) // 2:]) for fx, fy in parts]
        xa = np.concatenate([h[0] for h in halves])
        ya = np.concatenate([h[1] for h in halves])
        xt = np.concatenate([h[2] for h in halves])
        yt = np.concatenate([h[3] for h in halves])
        base = {"dataset": "myo-readings", "protocol": "inter-session", "subject": pid, "model": s.model,
                "train": {"variant": "fixed", "session": 1},
                "test": {"day": session, "session": session, "position": "", "trials": [],
                         "split": "adapt first half / test second half"}}
        la = ya >= 0
        for method in params["methods"]:
            if method == "labeled":  # the upper bound trains on pure windows only (it needs labels)
                rs = run_methods(model, source, xa[la], ya[la], xt[yt >= 0], yt[yt >= 0], [method], cell_settings,
                                 base)
            else:
                rs = run_methods(model, source, xa, ya, xt[yt >= 0], yt[yt >= 0], [method], cell_settings, base)
            records += _as_records(rs, timings)
    return {"records": records, "details": {"timings": timings}}


# ---------------------------------------------------------------- summary
def summarize(records: Sequence[dict[str, Any]]) -> str:
    """Markdown table: accuracy mean ± sd over (subject, day) per dataset, split, method and position."""
    lines = ["| dataset | split | position | method | n | accuracy % (mean ± sd) | Δ vs none | accepted |",
             "|---|---|---|---|---|---|---|---|"]
    keys = sorted({(r["dataset"], r["test"]["split"]) for r in records})
    for dataset, split in keys:
        rows = [r for r in records if r["dataset"] == dataset and r["test"]["split"] == split]
        positions = ["all"] + sorted({r["test"]["position"] for r in rows} - {"-", ""})
        for pos in positions:
            sel = [r for r in rows if pos == "all" or r["test"]["position"] == pos]
            none = {(r["subject"], r["test"]["day"]): r["accuracy"] for r in sel if r["adapt"] == "none"}
            for method in ADAPT_METHODS:
                m = [r for r in sel if r["adapt"] == method]
                if not m:
                    continue
                acc = 100 * np.array([r["accuracy"] for r in m])
                delta = [100 * (r["accuracy"] - none[(r["subject"], r["test"]["day"])]) for r in m
                         if (r["subject"], r["test"]["day"]) in none]
                acc_txt = f"{acc.mean():.1f} ± {acc.std(ddof=1) if len(acc) > 1 else 0:.1f}"
                d_txt = f"{np.mean(delta):+.1f}" if delta and method != "none" else ""
                accepted = [r.get("status") for r in m if "status" in r]
                a_txt = f"{sum(a == 'accepted' for a in accepted)}/{len(accepted)}" if accepted else ""
                lines.append(f"| {dataset} | {split} | {pos} | {method} | {len(m)} | {acc_txt} | {d_txt} | {a_txt} |")
    return "\n".join(lines)
