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
  compensation only), ``quick`` (rotate, then renorm), ``t3a`` and ``quick+t3a`` (the head replaced
  by class prototypes of the buffer's most confident features, on the calibration model or after
  ``quick``: the Recalibrate button's instant step), ``tent`` and ``quick+tent`` (entropy
  minimisation of the BatchNorm affine parameters, from the calibration model or from ``quick``)
  — ``myoxai.adapt.quick``;
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

Each subject-day (participant-session) is one cell (``kanoga_cells``, ``myo_readings_cells``) that
``myoxai eval --adapt`` runs through ``myoxai.evaluation.executor``. Methods that carry state from
one test day to the next (``CROSS_DAY_METHODS``: ``scadann-acc``) get one cell per subject that
walks its days in order. Every calibration model and every adaptation run is seeded with the run
seed itself (as the methods were selected), which does not depend on the order cells run in, so
sequential and Dask runs give identical records. The calibration model is memoised per process (and
kept in ``--model-cache``), so it is trained once per subject sequentially and at most once per
worker on Dask.
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
from myoxai.evaluation.cells import Cell, GridContext, memo
from myoxai.evaluation.metrics import scores
from myoxai.models import TrainSettings, build_model, predict, torch_threads, train_model

log = logging.getLogger(__name__)
ADAPT_METHODS = ("none", "renorm", "adabn", "rotate", "quick", "t3a", "quick+t3a", "tent", "quick+tent", "dann",
                 "scadann", "scadann+quick", "scadann-acc", "labeled", "default")
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
    cache_dir: str | None = None  # where calibration models are kept; not part of the results' key

    def to_dict(self) -> dict[str, Any]:
        """JSON description (for the output file and the cell cache key)."""
        return {"model": self.model, "model_args": self.model_args, "seed": self.seed, "threads": self.threads,
                "train": self.train.to_dict(), "recalibration": self.recal.to_dict()}


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


def _quick_model(model: Any, source: SourceData, x: np.ndarray, renorm: bool = True) -> Any:
    return quick.quick_adapt(model, x, quick.reference_profile(model, source), renorm=renorm, prototypes=False,
                             min_windows=1)


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
    if name == "t3a":
        used, rec["prototype_supports"] = quick.prototype_head(model, x_adapt)
        return used
    if name in ("rotate", "quick", "quick+t3a", "quick+tent") or name == "scadann+quick":
        q, qrep = _quick_model(model, source, x_adapt, renorm=name != "rotate")
        rec["rotation_shift"] = qrep.rotation_shift
        if name in ("rotate", "quick"):
            return q
        if name == "quick+t3a":
            used, rec["prototype_supports"] = quick.prototype_head(q, x_adapt)
            return used
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
    is loaded from / saved to a file named by the recipe, the data (description and content hash),
    the seed and the code fingerprint.
    """
    import hashlib
    import json

    from myoxai.evaluation.fingerprint import array_hash, code_fingerprint
    from myoxai.models import load_model, save_model

    ts = TrainSettings(**{**settings.train.to_dict(), "seed": settings.seed, "threads": settings.threads})
    recipe = {"model": settings.model, "args": settings.model_args, "train": ts.to_dict(), "data": description}
    # the file name sees the data (hash of windows, labels, groups) and the code, not only the recipe
    ident = {**recipe, "data_hash": array_hash(x, y, groups), "code": code_fingerprint()["sources"]}
    key = hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:16]
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


KANOGA_RUNNER = "myoxai.evaluation.adaptation:run_kanoga_cell"
MYO_READINGS_RUNNER = "myoxai.evaluation.adaptation:run_myo_readings_cell"


# Methods whose state carries from one test day to the next (e.g. a replay of earlier days'
# pseudo-labels) get one cell per subject that walks its test days in order; all others get one cell
# per subject-day. ``scadann-acc`` replays the pseudo-labels of the subject's earlier test days.
CROSS_DAY_METHODS: tuple[str, ...] = ("scadann-acc",)


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

    Seeded with the run seed (``context.settings.seed``), so every process that trains it gets the same model.
    """
    settings = context.settings
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
    """Runner of one subject-day (or of a subject's days in order).

    The calibration model comes from day 1; then every split and method runs on the day.
    """
    from myoxai.io.kanoga import N_MOTIONS, position_of_day

    root, subject = context.root, params["subject"]
    s = context.settings

    def make(settings: AdaptEvalSettings) -> tuple:
        d1 = kanoga_day(root, subject, 1)
        return train_calibration_model(d1["x"], d1["y"], d1["motion"] * 10 + d1["trial"], N_MOTIONS, settings,
                                       {"dataset": "kanoga", "subject": subject, "day": 1, "trials": [1, 2, 3, 4]})

    model, source = _calibration({"dataset": "kanoga", "subject": subject, "calibration_day": 1}, context, make)
    cell_settings = s  # recalibration seeded with the run seed, as in selection (see the module docstring)
    records: list[dict[str, Any]] = []
    timings: list[dict[str, Any]] = []
    states: dict[str, dict[str, Any]] = {}  # per split: what cross-day methods carry to the next day
    for day in params["days"]:
        dd = kanoga_day(root, subject, day)
        for split in params["splits"]:
            adapt_trials = [int(c) for c in split]
            a, t = kanoga_split(dd["trial"], split)  # recording order kept: motion-major, trial-minor
            base = {"dataset": "kanoga", "protocol": "inter-day", "subject": subject, "model": s.model,
                    "train": {"variant": "fixed", "days": [1], "trials": [1, 2, 3, 4]},
                    "test": {"day": day, "position": position_of_day(day),
                             "trials": [t for t in (1, 2, 3, 4) if t not in adapt_trials],
                             "adapt_trials": adapt_trials, "split": f"adapt T{split} / test others"}}
            records += _as_records(run_methods(model, source, dd["x"][a], dd["y"][a], dd["x"][t], dd["y"][t],
                                               params["methods"], cell_settings, base,
                                               states.setdefault(split, {})), timings)
    return {"records": records, "details": {"timings": timings}}


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
    """Windows, labels and sample spans of each <label>.txt file of a myo-readings session folder."""
    from myoxai.io._text import is_ascii_int

    files = sorted((p for p in folder.glob("*.txt") if is_ascii_int(p.stem)), key=lambda p: int(p.stem))
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
        return train_calibration_model(x[keep], y[keep], seg[keep], len(CLASS_NAMES), settings,
                                       {"dataset": "myo-readings", "participant": pid, "session": 1})

    model, source = _calibration({"dataset": "myo-readings", "subject": pid, "calibration_session": 1}, context,
                                 make)
    cell_settings = s  # recalibration seeded with the run seed, as in selection (see the module docstring)
    records: list[dict[str, Any]] = []
    timings: list[dict[str, Any]] = []
    for session in params["sessions"]:
        parts = myo_session(_session_folder(root, pid, session))
        halves = []
        for fx, fy, fs, fe in parts:  # cut at each file's middle sample; straddling windows are dropped
            a, t = halves_of_file(fs, fe)
            halves.append((fx[a], fy[a], fx[t], fy[t]))
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
                subjects = sorted({r["subject"] for r in m}, key=str)
                per_subject = [np.mean([r["accuracy"] for r in m if r["subject"] == s]) for s in subjects]
                delta = [100 * (r["accuracy"] - none[(r["subject"], r["test"]["day"])]) for r in m
                         if (r["subject"], r["test"]["day"]) in none]
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
