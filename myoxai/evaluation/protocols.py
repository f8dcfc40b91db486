"""Evaluation protocols as grids of cells: train once, then test on one or more test sets.

Each protocol function turns a dataset selection (subjects × days or sessions, models) into
``Cell``s that ``run_train_test`` executes: it loads the cell's data units, trains (or, for
inter-subject transfer, fine-tunes a memoised pre-trained model), then for every test set and
every adaptation method calls the adapter (``"none"`` keeps the model as is) with the test
windows' inputs only (labels hidden) and scores the result. Adaptation methods plug in through
``ADAPTERS`` without touching the protocols: ``Adapter(model, train_set, unlabeled_test_set,
settings) -> model``. A selection is ``{"units": [[subject, day], ...], "where": {meta: rule}}``
(see ``data.select``), so a new protocol or dataset is just more cells.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import numpy as np

from myoxai.config import DEFAULT_CONFIG, SignalConfig
from myoxai.dsp.features import KANOGA_TD_AR, TD_AR_REST, FeatureSet
from myoxai.errors import MyoxaiError
from myoxai.evaluation.cells import Cell, GridContext, derive_seed, memo
from myoxai.evaluation.data import WindowSet, concat, select, unit_windows
from myoxai.evaluation.metrics import scores
from myoxai.models import AnyModel, TrainSettings, train_model

Adapter = Callable[[AnyModel, WindowSet, WindowSet, TrainSettings], AnyModel]
ADAPTERS: dict[str, Adapter] = {"none": lambda model, train, test, settings: model}
RUNNER = "myoxai.evaluation.protocols:run_train_test"
WITHIN_DAY = ("intra-day", "intra-session")  # protocols whose models are trained and scored in one session


def lda_features(dataset: str) -> FeatureSet:
    """The LDA's feature set per dataset.

    The long-term dataset keeps its authors' TD+AR set with their 0.01 dead-zone (its rest noise: the
    data are high-passed floats with rest RMS ≈ 0.01, and it reproduces their published baseline);
    every other dataset sets the dead-zone from the rest noise of the training windows.
    """
    return KANOGA_TD_AR if dataset == "kanoga" else TD_AR_REST


def fit_fresh(name: str, data: WindowSet, settings: TrainSettings, within_day: bool = False,
              dataset: str = "", config: SignalConfig = DEFAULT_CONFIG, ensemble: int = 1,
              model: AnyModel | None = None) -> tuple[AnyModel, dict[str, Any]]:
    """Train a new model of ``name`` on ``data`` (windows of ``config``) with its recipe (``myoxai.models.recipes``).

    The recipe gives the architecture arguments and augmentation (none ``within_day``: the model is
    scored in the session it was trained in); ``settings`` keeps the epochs, seed and threads of the
    command line. Validation holds out whole trials (per gesture) when the set knows its trials.
    LDA uses the set's cached features (``lda_features(dataset)``, dead-zone set from ``data``).
    ``ensemble`` > 1 trains K seeds of the model (``myoxai.models.ensemble``; member 0 = the single model).
    ``model`` (e.g. one started from pre-trained weights, ``train --init-from``) is trained instead of a
    freshly built one, with the same recipe settings and validation.
    """
    from dataclasses import replace

    from myoxai.models.ensemble import build_any
    from myoxai.models.recipes import recipe

    args, rs = recipe(name, within_day=within_day)
    if name == "lda":
        args = {**args, "feature_set": lda_features(dataset)}
    if model is None:
        model = build_any(name, len(data.class_names), seed=settings.seed, config=config, ensemble=ensemble, **args)
    if args:
        settings = replace(rs, epochs=settings.epochs, seed=settings.seed, threads=settings.threads,
                           progress=settings.progress)
    groups = None
    if "trial" in data.meta and "day" in data.meta:
        groups = (np.asarray(data.y, np.int64) * 100000 + np.asarray(data.meta["day"], np.int64) * 100
                  + np.asarray(data.meta["trial"], np.int64))
    return model, model.fit_on(data, settings, groups=groups)


def logits_on(model: AnyModel, data: WindowSet) -> np.ndarray:
    """Class scores of ``model`` on every window of ``data`` (LDA on its cached features)."""
    return model.logits_on(data)


def _load(dataset: str, context: GridContext, selection: dict[str, Any], model: str) -> WindowSet:
    fs = lda_features(dataset)
    feature_sets = (fs,) if model == "lda" and not fs.data_dependent else ()
    data = concat([unit_windows(dataset, context.root, u, DEFAULT_CONFIG, feature_sets) for u in selection["units"]])
    return data.subset(select(data, selection.get("where", {})))


def run_train_test(params: dict[str, Any], context: GridContext, seed: int) -> dict[str, Any]:
    """Runner of a train-then-test cell: one record per (test set, adaptation method)."""
    import time

    dataset, name = params["dataset"], params["model"]
    settings = replace(context.settings, seed=seed)
    train_set = _load(dataset, context, params["train_select"], name)
    t0 = time.perf_counter()
    if "pretrain" in params:  # transfer: fine-tune a copy of a model pre-trained on other subjects
        pre = params["pretrain"]
        pre_settings = replace(context.settings, seed=derive_seed(context.seed, pre))
        source, _ = memo(("pretrain", dataset, context.root, pre, pre_settings.to_dict()),
                         lambda: fit_fresh(pre["model"], _load(dataset, context, pre, pre["model"]), pre_settings,
                                           dataset=dataset))
        model = copy.deepcopy(source)
        model.freeze_early_layers(pre["frozen_convs"])
        report = train_model(model, train_set.inputs(model.input_kind), train_set.y, settings)
    else:
        model, report = fit_fresh(name, train_set, settings, within_day=params["protocol"] in WITHIN_DAY,
                                  dataset=dataset, ensemble=params.get("ensemble", 1))
    details = {"train_seconds": round(time.perf_counter() - t0, 3)}
    records = []
    for test_spec in params["tests"]:
        test = _load(dataset, context, test_spec, name)
        for adapt_name in params.get("adapt", ["none"]):
            adapted = ADAPTERS[adapt_name](model, train_set, test.unlabeled(), settings)
            pred = np.argmax(logits_on(adapted, test), axis=1)
            rec = {"dataset": dataset, "subject": params["subject"], "protocol": params["protocol"], "model": name,
                   "adapt": adapt_name, "train": {**params["train"], "n_windows": len(train_set), "seed": seed,
                                                  "epochs_run": report.get("epochs_run")},
                   "test": {**test_spec["desc"], "n_windows": len(test)}}
            if "fin" in report:
                rec["train"]["fin_r2"] = report["fin"]["r2"]
            if params.get("ensemble", 1) != 1:  # compared with the single model as another model, paired
                rec.update(model=f"{name}+ensemble{params['ensemble']}", ensemble=params["ensemble"])
            rec.update(scores(test.y, pred, len(test.class_names)))
            records.append(rec)
    return {"records": records, "details": details}


def _cell(dataset: str, protocol: str, subject: Any, model: str, train: dict[str, Any], train_select: dict,
          tests: list[dict[str, Any]], **extra: Any) -> Cell:
    params = {"dataset": dataset, "protocol": protocol, "subject": subject, "model": model, "train": train,
              "train_select": train_select, "tests": tests, **extra}
    reads = sorted({tuple(u) for sel in [train_select, *tests, extra.get("pretrain", {"units": []})]
                    for u in sel["units"]})
    label = f"{protocol} s{subject} {model} {train['variant']} " + ",".join(str(u[1]) for u in train_select["units"])
    return Cell(RUNNER, params, [list(u) for u in reads], label,
                seed_key={"dataset": dataset, "subject": subject, "model": model, "train": train})


def _kanoga_test(subject: int, day: int, trials: list[int]) -> dict[str, Any]:
    from myoxai.io.kanoga import position_of_day

    return {"desc": {"day": day, "position": position_of_day(day), "trials": trials},
            "units": [[subject, day]], "where": {"trial": trials}}


ALL_TRIALS = [1, 2, 3, 4]


def kanoga_intra_day(subjects: list[int], days: list[int], models: list[str]) -> list[Cell]:
    """Leave-one-trial-out within each day: train on 3 trials, test the 4th (4 folds)."""
    cells = []
    for s in subjects:
        for d in days:
            for t in ALL_TRIALS:
                rest = [x for x in ALL_TRIALS if x != t]
                train = {"variant": "leave-one-trial-out", "days": [d], "trials": rest}
                for name in models:
                    cells.append(_cell("kanoga", "intra-day", s, name, train,
                                       {"units": [[s, d]], "where": {"trial": rest}}, [_kanoga_test(s, d, [t])]))
    return cells


def kanoga_inter_day(subjects: list[int], days: list[int], models: list[str], incremental_every: int = 1,
                     incremental_models: list[str] | None = None) -> list[Cell]:
    """"fixed": train on the first day, test every later day; "incremental": retrain on all earlier days.

    ``incremental_every`` > 1 evaluates the incremental upper bound only on every k-th test day
    (and the last), because retraining on up to 29 days per test day is the expensive part.
    """
    days = sorted(days)
    if len(days) < 2:
        raise MyoxaiError("inter-day needs at least two days (e.g. --days 1-30)")
    inc_models = models if incremental_models is None else [m for m in models if m in incremental_models]
    inc_days = days[1:][::max(1, incremental_every)]
    if days[-1] not in inc_days:
        inc_days.append(days[-1])
    cells = []
    for s in subjects:
        tests = [_kanoga_test(s, d, ALL_TRIALS) for d in days[1:]]
        for name in models:
            cells.append(_cell("kanoga", "inter-day", s, name, {"variant": "fixed", "days": [days[0]]},
                               {"units": [[s, days[0]]]}, tests))
        for d in inc_days:
            before = [x for x in days if x < d]
            for name in inc_models:
                cells.append(_cell("kanoga", "inter-day", s, name, {"variant": "incremental", "days": before},
                                   {"units": [[s, x] for x in before]}, [_kanoga_test(s, d, ALL_TRIALS)]))
    return cells


def kanoga_inter_subject(subjects: list[int], days: list[int], models: list[str],
                         trials_per_gesture: tuple[int, ...] = (1, 2, 4)) -> list[Cell]:
    """Leave-one-subject-out: calibrate on k trials per gesture of the target's first day.

    For each k the All-ConvNet is fine-tuned from a model pre-trained on the other subjects (all
    selected days; first three convs frozen, "transfer") and every requested model is trained from
    scratch on the same trials ("scratch"). Test: the target's later selected days (all trials),
    or, with one day selected, the target's remaining trials of that day. The pre-trained model is
    memoised per process (once per target subject sequentially, at most once per worker on Dask).
    """
    days = sorted(days)
    if len(subjects) < 2:
        raise MyoxaiError("inter-subject needs at least two subjects (e.g. --subjects 1-4)")
    cells = []
    for s in subjects:
        for k in trials_per_gesture:
            cal = list(range(1, k + 1))
            if len(days) > 1:
                tests = [_kanoga_test(s, d, ALL_TRIALS) for d in days[1:]]
            elif k < 4:
                tests = [_kanoga_test(s, days[0], [t for t in ALL_TRIALS if t > k])]
            else:
                continue
            base = {"day": days[0], "trials_per_gesture": k, "trials": cal}
            cal_select = {"units": [[s, days[0]]], "where": {"trial": cal}}
            for name in models:
                cells.append(_cell("kanoga", "inter-subject", s, name, {"variant": f"scratch-k{k}", **base},
                                   cal_select, tests))
            if "allconvnet" in models:
                others = [x for x in subjects if x != s]
                train = {"variant": f"transfer-k{k}", **base, "source_subjects": others, "source_days": days,
                         "frozen_convs": 3}
                pretrain = {"model": "allconvnet", "units": [[o, d] for o in others for d in days], "frozen_convs": 3}
                cells.append(_cell("kanoga", "inter-subject", s, "allconvnet", train, cal_select, tests,
                                   pretrain=pretrain))
    return cells


def myo_readings_intra_session(sessions: list[tuple[int, int]], models: list[str],
                               train_fraction: float = 0.75) -> list[Cell]:
    """Within each session: the first 75 % of every gesture file trains, the windows after it test.

    A window starting at fraction f covers [f, f + window]; a one-window guard band (0.01 of a
    60 s file) before the split keeps train and test samples disjoint.
    """
    cells = []
    for pid, sess in sessions:
        train = {"variant": "time-split", "session": sess, "fraction": train_fraction}
        test = {"desc": {"day": sess, "position": "", "trials": [], "session": sess,
                         "fraction": [train_fraction, 1.0]},
                "units": [[pid, sess]], "where": {"frac": {"range": [train_fraction, None]}}}
        for name in models:
            cells.append(_cell("myo-readings", "intra-session", pid, name, train,
                               {"units": [[pid, sess]], "where": {"frac": {"range": [None, train_fraction - 0.01]}}},
                               [test]))
    return cells


def myo_readings_inter_session(sessions: list[tuple[int, int]], models: list[str]) -> list[Cell]:
    """Train on a participant's first session, test each later session."""
    by_pid: dict[int, list[int]] = {}
    for pid, sess in sessions:
        by_pid.setdefault(pid, []).append(sess)
    cells = []
    for pid, sess_list in sorted(by_pid.items()):
        first, *later = sorted(sess_list)
        if not later:
            continue
        tests = [{"desc": {"day": x, "position": "", "trials": [], "session": x}, "units": [[pid, x]]}
                 for x in later]
        for name in models:
            cells.append(_cell("myo-readings", "inter-session", pid, name, {"variant": "fixed", "session": first},
                               {"units": [[pid, first]]}, tests))
    return cells
