"""Evaluation of unsupervised recalibration (``--adapt none,renorm,rotate,quick,tent,dann,scadann,...``).

Protocols (every number comes from test windows the adaptation never saw):

- long-term dataset, inter-day: train on the calibration days (default day 1; ``--calibration-days
  1,2`` for a user who calibrated twice; all 4 trials of each, labeled); for each later day,
  adapt on that day's trials of one half (e.g. trials 1-2) concatenated in recording order
  (M1T1, M1T2, M2T1, ... as a user produces them), unlabeled; test on the other half.
  ``split="12"`` adapts on trials 1-2 and tests on 3-4, ``"34"`` the reverse.
- myo-readings: ``myoxai.evaluation.adaptation_myo`` (session 1 → later sessions).

Methods: the registry ``myoxai.adapt.methods.METHODS`` (composed steps with their flags), plus
``default`` = ``METHODS[DEFAULT_PIPELINE]``, exactly what the live Quick adapt button runs. Only
methods flagged ``needs_labels`` (``labeled``, the upper bound) are handed the adaptation windows'
labels; recalibrations (DANN, SCADANN) keep their safeguards, so a rejected run scores as the model
it started from, as it would live.

The calibration model holds out a quarter of each gesture's trials of the calibration days for early
stopping (whole trials, ``group_split``: one of day 1's four, two of the eight of days 1-2; a trial is
one group per day, so no held-out trial shares a window with training); those trials are also the
safeguard's source validation, so it is measured on windows no step ever trained on. A calibration
day is refused as a test day. Every record carries accuracy, balanced accuracy and macro-F1, and
its calibration days (``train.days``; ``train.variant`` "fixed" for day 1 alone, "fixed-days1+2"
otherwise, so tables and statistics never pool two calibrations). ``--pretrain others`` starts the
calibration from a model pre-trained on the root's other subjects (``myoxai.evaluation.pretrain_others``;
``train.pretrain``, variant "fixed+others"); ``--pretrain myo-armband`` from one pre-trained on the Myo Armband
dataset's 19 pre-training participants (``myoxai.evaluation.pretrain_myo_armband``, "fixed+myo-armband").

Each subject-day (participant-session) is one cell (``kanoga_cells``, ``myo_readings_cells``) that
``myoxai eval --adapt`` runs through ``myoxai.evaluation.executor``. Methods that carry state from
one test day to the next (``carries_state``: ``scadann-acc``) get one cell per subject that
walks its days in order. Every calibration model and every adaptation run is seeded with the run
seed itself (as the methods were selected), which does not depend on the order cells run in, so
sequential and Dask runs give identical records. The calibration model is memoised per process (and
kept in ``--model-cache``), so it is trained once per subject sequentially and at most once per
worker on Dask.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.adapt import DEFAULT_PIPELINE, PseudoLabelSettings, RecalibrationSettings, SourceData, quick
from myoxai.adapt.methods import METHODS, AdaptContext, method_names, resolve
from myoxai.config import DEFAULT_CONFIG
from myoxai.dsp import process_signal
from myoxai.errors import MyoxaiError
from myoxai.evaluation.cells import Cell, GridContext, memo
from myoxai.evaluation.metrics import scores
from myoxai.models import TrainSettings, predict, torch_threads, train_model

log = logging.getLogger(__name__)
# A long-term-dataset gesture lasts 2 trials = 2.6 s in the adaptation stream (the reference's 1.5 s
# buffer and 2 s limits assume gestures held for seconds); chosen on days 3-8 of subjects 1-4.
KANOGA_PSEUDO = PseudoLabelSettings()


@dataclass
class AdaptEvalSettings:
    """Model and optimisation choices of an adaptation evaluation.

    ``cache_dir``: calibration models are saved there under a name made of the recipe, subject,
    calibration days and seed, and loaded instead of retrained when present (the same recipe gives
    the same file).
    """

    model: str = "spectrogram-convnet"
    model_args: dict[str, Any] = field(default_factory=dict)
    seed: int = 0
    threads: int = 1
    train: TrainSettings = field(default_factory=lambda: TrainSettings(epochs=40, patience=6))
    recal: RecalibrationSettings = field(default_factory=RecalibrationSettings)
    cache_dir: str | None = None  # where calibration models are kept; not part of the results' key
    ensemble: int = 1  # members of the calibration model (``myoxai.models.ensemble``); 1 = one model

    def to_dict(self) -> dict[str, Any]:
        """JSON description (for the output file and the cell cache key; ``ensemble`` only when not 1)."""
        return {"model": self.model, "model_args": self.model_args, "seed": self.seed, "threads": self.threads,
                "train": self.train.to_dict(), "recalibration": self.recal.to_dict(),
                **({"ensemble": self.ensemble} if self.ensemble != 1 else {})}


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
    bad = [m for m in methods if m not in method_names()]
    if bad or not methods:
        raise MyoxaiError(f"--adapt takes a comma list of {', '.join(method_names())}; got {text!r}")
    return methods


def adapt_one(method: str, model: Any, source: SourceData, x_adapt: np.ndarray, y_adapt: np.ndarray,
              settings: AdaptEvalSettings, rec: dict[str, Any], state: dict[str, Any]) -> Any:
    """The model the registered ``method`` gives for this adaptation set; fills ``rec`` with what it reports.

    Only ``needs_labels`` methods are handed ``y_adapt``; the scored windows never reach this function.
    ``state`` carries what a method keeps across the test days of one subject (``scadann-acc``'s replay).
    """
    m = resolve(method)
    ctx = AdaptContext(x_adapt, source=source, labels=y_adapt if m.needs_labels else None, seed=settings.seed,
                       recal=settings.recal, state=state)
    used = m.run(model, ctx)
    pseudo = ctx.report.pop("pseudo_labels", None)
    if pseudo is not None:  # diagnostic only: the truth never reaches the adaptation
        kept = (pseudo >= 0) & (y_adapt >= 0)
        rec["pseudo_label_accuracy"] = float((pseudo[kept] == y_adapt[kept]).mean()) if kept.any() else None
    supports = ctx.report.pop("support_index", None)
    if supports is not None:  # diagnostic only: how many prototype supports are of the gesture they stand for
        hits = [int(np.sum(y_adapt[idx] == k)) for k, idx in enumerate(supports)]
        rec["support_purity"] = sum(hits) / max(sum(len(i) for i in supports), 1)
    rec.update({k: v for k, v in ctx.report.items() if k not in ("adapt_seconds", "n_target", "renormalized")})
    return used


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
        rec.update({k: sc[k] for k in ("accuracy", "balanced_accuracy", "macro_f1", "confusion")})
        if method == "none":  # diagnosis: today's per-electrode log-RMS minus the calibration's (rotation included)
            ref = quick.reference_profile(model, source)
            if ref is not None:
                gain = quick.calibration_profile(x_adapt) - ref
                rec["electrode_log_gain"] = [round(float(g), 4) for g in gain]
        log.info("%s", {k: v for k, v in rec.items() if k not in ("reason", "confusion")})
        out.append(rec)
    return out


def train_calibration_model(x: np.ndarray, y: np.ndarray, groups: np.ndarray, n_classes: int,
                            settings: AdaptEvalSettings, description: dict[str, Any],
                            start: Callable[[], Any] | None = None) -> tuple[Any, SourceData]:
    """The labeled calibration model (validation on whole held-out groups) and its ``SourceData``.

    The source data's validation groups are exactly the ones the trainer held out, so the safeguard
    validates on windows the model never trained on. The calibration energy profile (of the
    training windows) is stored in the model's description. With ``settings.cache_dir`` the model
    is loaded from / saved to a file named by the recipe, the data (description and content hash),
    the seed and the code fingerprint. ``start`` gives the model to train from (a pre-trained one,
    whose identity must then be in ``description``); by default a freshly built one.
    """
    import hashlib
    import json

    from myoxai.evaluation.fingerprint import array_hash, code_fingerprint
    from myoxai.models import load_model, save_model
    from myoxai.models.ensemble import build_any

    ts = TrainSettings(**{**settings.train.to_dict(), "seed": settings.seed, "threads": settings.threads})
    recipe = {"model": settings.model, "args": settings.model_args, "train": ts.to_dict(), "data": description,
              **({"ensemble": settings.ensemble} if settings.ensemble != 1 else {})}
    # the file name sees the data (hash of windows, labels, groups) and the code, not only the recipe
    ident = {**recipe, "data_hash": array_hash(x, y, groups), "code": code_fingerprint()["sources"]}
    key = hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:16]
    path = Path(settings.cache_dir) / f"calibration-{key}.safetensors" if settings.cache_dir else None
    if path is not None and path.exists():
        model = load_model(path)
        val_groups = np.asarray(model.description["training"]["val_groups"])
    else:
        model = start() if start else build_any(settings.model, n_classes, seed=settings.seed,
                                                ensemble=settings.ensemble, **settings.model_args)
        report = train_model(model, x.astype(np.float32), y, ts, groups=groups)  # standardiser refitted here
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


def calibration_windows(root: str | Path, subject: int, days: Sequence[int]
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(windows, labels, groups) of every trial of the calibration ``days``, in day order.

    A group is one trial of one gesture on one day (``day * 1000 + motion * 10 + trial``), so the
    trainer's whole-group validation holds out whole trials on any day; with day 1 alone the groups'
    order, hence the held-out trials, is the one ``motion * 10 + trial`` gave.
    """
    parts = [kanoga_day(root, subject, d) for d in days]
    groups = np.concatenate([d * 1000 + p["motion"] * 10 + p["trial"] for d, p in zip(days, parts, strict=True)])
    return np.concatenate([p["x"] for p in parts]), np.concatenate([p["y"] for p in parts]), groups


def kanoga_split(trials: np.ndarray, split: str) -> tuple[np.ndarray, np.ndarray]:
    """Index arrays (adapt, test) of a day's windows: adaptation trials = the digits of ``split``.

    Each trial is its own 1.5 s recording, so no window spans two trials and the two sets share none.
    The adaptation windows stay in recording order (motion-major, trial-minor), as a user produces them.
    """
    adapt_trials = [int(c) for c in split]
    a = np.isin(trials, adapt_trials)
    return np.flatnonzero(a), np.flatnonzero(~a)


KANOGA_RUNNER = "myoxai.evaluation.adaptation:run_kanoga_cell"


# Methods whose state carries from one test day to the next (e.g. a replay of earlier days'
# pseudo-labels) get one cell per subject that walks its test days in order; all others get one cell
# per subject-day. ``scadann-acc`` replays the pseudo-labels of the subject's earlier test days.
CROSS_DAY_METHODS: tuple[str, ...] = tuple(name for name, m in METHODS.items() if m.carries_state)


def _split_methods(methods: Sequence[str]) -> tuple[list[str], list[str]]:
    return [m for m in methods if m not in CROSS_DAY_METHODS], [m for m in methods if m in CROSS_DAY_METHODS]


def calibration_variant(calibration_days: Sequence[int], pretrain: str = "none", ensemble: int = 1) -> str:
    """The records' ``train.variant``: "fixed" for day 1 alone (as before), "fixed-days1+2" for days 1 and 2.

    ``+others`` is appended after pre-training on the other subjects ("fixed+others"), ``+myo-armband`` after
    pre-training on the Myo Armband dataset, ``+ensembleK`` for an ensemble of K seeds ("fixed+ensemble3").
    """
    days = "fixed" if list(calibration_days) == [1] else "fixed-days" + "+".join(str(d) for d in calibration_days)
    days = days if pretrain == "none" else f"{days}+{pretrain}"
    return days if ensemble == 1 else f"{days}+ensemble{ensemble}"


def kanoga_cells(subjects: Iterable[int], days: Iterable[int], methods: Sequence[str],
                 splits: Sequence[str] = ("12",), calibration_days: Sequence[int] = (1,), pretrain: str = "none",
                 available: Sequence[int] = (), pretrain_root: str | Path | None = None) -> list[Cell]:
    """Inter-day adaptation on the long-term dataset, one cell per subject-day (see module docstring).

    The calibration model trains on every trial of ``calibration_days``; none of them may be a test day.
    ``pretrain="others"`` pre-trains it on days 1-3 of the ``available`` subjects other than the scored one,
    ``"myo-armband"`` on the Myo Armband dataset's pre-training participants at ``pretrain_root``.
    """
    from myoxai.evaluation.pretrain_others import cell_extras
    from myoxai.io.kanoga import N_DAYS

    days, cal = sorted(days), sorted(set(calibration_days))
    if not cal or not all(1 <= d <= N_DAYS for d in cal):
        raise MyoxaiError(f"--calibration-days {','.join(map(str, cal))}: days of 1-{N_DAYS}, e.g. 1 or 1,2")
    if clash := [d for d in days if d in cal]:
        one = len(clash) == 1
        what = "are calibration days" if not one else "is the calibration day" if len(cal) == 1 else \
            "is a calibration day"
        hint = f", e.g. --days {max(cal) + 1}-{N_DAYS}" if max(cal) < N_DAYS else ""
        raise MyoxaiError(f"{'day' if one else 'days'} {','.join(map(str, clash))} {what} (--calibration-days "
                          f"{','.join(map(str, cal))}: the model trained on all {'its' if one else 'their'} trials); "
                          f"choose other test days{hint}")
    per_day, across = _split_methods(methods)
    extras = {s: cell_extras(pretrain, s, available, pretrain_root) for s in subjects}

    def cell(s: int, ds: list[int], ms: list[str]) -> Cell:
        label = f"adapt kanoga s{s} day {ds[0]}" if len(ds) == 1 else f"adapt kanoga s{s} days {ds} {','.join(ms)}"
        label += f" (calibration days {','.join(map(str, cal))})" if cal != [1] else ""
        params = {"dataset": "kanoga", "protocol": "inter-day", "subject": s, "days": ds, "methods": ms,
                  "splits": list(splits), "calibration_days": cal}
        reads = [[s, c] for c in cal] + [[s, d] for d in ds]
        more, more_reads, note = extras[s]  # the pre-training data's units or hashes go into the cell key
        params.update(more)
        reads += more_reads
        label += note
        return Cell(KANOGA_RUNNER, params, reads, label, seed_key={"dataset": "kanoga", "subject": s, "days": ds})

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

    The calibration model comes from ``params["calibration_days"]`` (default day 1); then every split
    and method runs on the day.
    """
    from myoxai.io.kanoga import N_MOTIONS, position_of_day

    root, subject = context.root, params["subject"]
    s = context.settings
    cal = list(params.get("calibration_days", [1]))
    pretrain = params.get("pretrain", "none")

    def make(settings: AdaptEvalSettings) -> tuple:
        from myoxai.evaluation import pretrain_others as po

        x, y, groups = calibration_windows(root, subject, cal)
        description = {"dataset": "kanoga", "subject": subject, "days": cal, "trials": [1, 2, 3, 4]}
        start = None
        if pretrain != "none":  # its identity (settings, data, code) names the calibration model
            description["pretrain"], start = po.start_for(params, root, settings, N_MOTIONS, kanoga_day)
        return train_calibration_model(x, y, groups, N_MOTIONS, settings, description, start)

    model, source = _calibration({"dataset": "kanoga", "subject": subject, "calibration_days": cal,
                                  "pretrain": pretrain, "pretrain_subjects": params.get("pretrain_subjects"),
                                  "pretrain_data": params.get("pretrain_data")},
                                 context, make)
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
                    **({"ensemble": s.ensemble} if s.ensemble != 1 else {}),
                    "train": {"variant": calibration_variant(cal, pretrain, s.ensemble), "days": cal,
                              "trials": [1, 2, 3, 4], "pretrain": pretrain,
                              **{k: params[k] for k in ("pretrain_subjects", "pretrain_participants") if k in params}},
                    "test": {"day": day, "position": position_of_day(day),
                             "trials": [t for t in (1, 2, 3, 4) if t not in adapt_trials],
                             "adapt_trials": adapt_trials, "split": f"adapt T{split} / test others"}}
            records += _as_records(run_methods(model, source, dd["x"][a], dd["y"][a], dd["x"][t], dd["y"][t],
                                               params["methods"], cell_settings, base,
                                               states.setdefault(split, {})), timings)
    return {"records": records, "details": {"timings": timings}}
