"""Evaluation protocols as lists of jobs: train once, then test on one or more test sets.

Each ``Job`` trains a model on a training selection and names its test selections; the runner
(``run_jobs``) trains, then for every test set and every adaptation method calls the adapter
(``"none"`` keeps the model as is) with the test windows' inputs only (labels hidden) and scores
the result. Adaptation methods (DANN, SCADANN) plug in through ``adapters`` without touching the
protocols: ``Adapter(model, train_set, unlabeled_test_set, settings) -> model``.
"""

from __future__ import annotations

import copy
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from myoxai.evaluation.data import WindowSet
from myoxai.evaluation.metrics import scores
from myoxai.models import AllConvNet, LdaBaseline, Model, TrainSettings, build_model, predict_logits, train_model

Adapter = Callable[[Model, WindowSet, WindowSet, TrainSettings], Model]
ADAPTERS: dict[str, Adapter] = {"none": lambda model, train, test, settings: model}


@dataclass
class Job:
    """One training run and the test sets it is scored on."""

    dataset: str
    protocol: str
    subject: Any
    model: str
    train: dict[str, Any]  # JSON description of the training data (incl. "variant")
    data: WindowSet  # the whole selection; masks pick windows, subsets are made only while the job runs
    train_mask: np.ndarray
    tests: list[tuple[dict[str, Any], np.ndarray]]
    fit: Callable[[WindowSet], tuple[Model, dict[str, Any]]]


def fit_fresh(name: str, data: WindowSet, settings: TrainSettings) -> tuple[Model, dict[str, Any]]:
    """Train a new model of ``name`` on ``data`` with its recipe (``myoxai.models.recipes``).

    The recipe gives the architecture arguments and augmentation; ``settings`` keeps the epochs,
    seed and threads of the command line. Validation holds out whole trials (per gesture) when the
    set knows its trials. LDA uses the set's cached features.
    """
    from dataclasses import replace

    from myoxai.models.recipes import recipe

    args, rs = recipe(name)
    model = build_model(name, len(data.class_names), seed=settings.seed, **args)
    if isinstance(model, LdaBaseline):
        model.fit(None, data.y, features=data.features(model.feature_set))
        return model, {"model": name, "n_train": len(data)}
    if args:
        settings = replace(rs, epochs=settings.epochs, seed=settings.seed, threads=settings.threads,
                           progress=settings.progress)
    groups = None
    if "trial" in data.meta and "day" in data.meta:
        groups = (np.asarray(data.y, np.int64) * 100000 + np.asarray(data.meta["day"], np.int64) * 100
                  + np.asarray(data.meta["trial"], np.int64))
    return model, train_model(model, data.inputs(model.input_kind), data.y, settings, groups=groups)


def logits_on(model: Model, data: WindowSet) -> np.ndarray:
    if isinstance(model, LdaBaseline):
        return model.decision(data.features(model.feature_set))
    return predict_logits(model, data.inputs(model.input_kind))


def run_jobs(jobs: list[Job], settings: TrainSettings, adapters: dict[str, Adapter] | None = None,
             progress: bool = True) -> list[dict[str, Any]]:
    """Train every job, adapt per test set, score; one record per (job, test set, adapter)."""
    from tqdm.auto import tqdm

    adapters = adapters or ADAPTERS
    records = []
    for job in tqdm(jobs, desc="eval", disable=not progress, unit="model"):
        train_set = job.data.subset(job.train_mask)
        model, report = job.fit(train_set)
        for test_desc, test_mask in job.tests:
            test = job.data.subset(test_mask)
            for adapt_name, adapter in adapters.items():
                adapted = adapter(model, train_set, test.unlabeled(), settings)
                pred = np.argmax(logits_on(adapted, test), axis=1)
                rec = {"dataset": job.dataset, "subject": job.subject, "protocol": job.protocol, "model": job.model,
                       "adapt": adapt_name, "train": {**job.train, "n_windows": len(train_set),
                                                      "epochs_run": report.get("epochs_run"),
                                                      "seconds": round(report.get("seconds", 0.0), 2)},
                       "test": {**test_desc, "n_windows": len(test)}}
                if "fin" in report:
                    rec["train"]["fin_r2"] = report["fin"]["r2"]
                rec.update(scores(test.y, pred, len(test.class_names)))
                records.append(rec)
    return records


def _days(data: WindowSet) -> list[int]:
    return sorted(int(d) for d in np.unique(data.meta["day"]))


def _test_desc(data: WindowSet, mask: np.ndarray) -> dict[str, Any]:
    day = int(data.meta["day"][mask][0])
    return {"day": day, "position": str(data.meta["position"][mask][0]),
            "trials": sorted(int(t) for t in np.unique(data.meta["trial"][mask]))}


def _fresh_job(dataset: str, protocol: str, subject: Any, name: str, train: dict[str, Any], data: WindowSet,
               train_mask: np.ndarray, tests: list[tuple[dict[str, Any], np.ndarray]],
               settings: TrainSettings) -> Job:
    return Job(dataset, protocol, subject, name, train, data, train_mask, tests,
               lambda train_set: fit_fresh(name, train_set, settings))


def kanoga_intra_day(data: WindowSet, models: list[str], settings: TrainSettings) -> list[Job]:
    """Leave-one-trial-out within each day: train on 3 trials, test the 4th (4 folds)."""
    jobs = []
    for s in np.unique(data.meta["subject"]):
        for d in _days(data):
            day = (data.meta["subject"] == s) & (data.meta["day"] == d)
            for t in np.unique(data.meta["trial"][day]):
                tr, te = day & (data.meta["trial"] != t), day & (data.meta["trial"] == t)
                train = {"variant": "leave-one-trial-out", "days": [d],
                         "trials": sorted(int(x) for x in np.unique(data.meta["trial"][tr]))}
                for name in models:
                    jobs.append(_fresh_job("kanoga", "intra-day", int(s), name, train, data, tr,
                                           [(_test_desc(data, te), te)], settings))
    return jobs


def kanoga_inter_day(data: WindowSet, models: list[str], settings: TrainSettings, incremental_every: int = 1,
                     incremental_models: list[str] | None = None) -> list[Job]:
    """"fixed": train on the first day, test every later day; "incremental": retrain on all earlier days.

    ``incremental_every`` > 1 evaluates the incremental upper bound only on every k-th test day
    (and the last), because retraining on up to 29 days per test day is the expensive part.
    """
    days = _days(data)
    if len(days) < 2:
        from myoxai.errors import MyoxaiError

        raise MyoxaiError("inter-day needs at least two days (e.g. --days 1-30)")
    inc_models = models if incremental_models is None else [m for m in models if m in incremental_models]
    jobs = []
    for s in np.unique(data.meta["subject"]):
        subj = data.meta["subject"] == s
        first = subj & (data.meta["day"] == days[0])
        tests = [(_test_desc(data, m), m) for m in (subj & (data.meta["day"] == d) for d in days[1:])]
        for name in models:
            jobs.append(_fresh_job("kanoga", "inter-day", int(s), name, {"variant": "fixed", "days": [days[0]]},
                                   data, first, tests, settings))
        inc_days = days[1:][::max(1, incremental_every)]
        if days[-1] not in inc_days:
            inc_days.append(days[-1])
        for d in inc_days:
            before = subj & (data.meta["day"] < d)
            test = subj & (data.meta["day"] == d)
            train = {"variant": "incremental", "days": [x for x in days if x < d]}
            for name in inc_models:
                jobs.append(_fresh_job("kanoga", "inter-day", int(s), name, train, data, before,
                                       [(_test_desc(data, test), test)], settings))
    return jobs


def kanoga_inter_subject(data: WindowSet, models: list[str], settings: TrainSettings,
                         trials_per_gesture: tuple[int, ...] = (1, 2, 4)) -> list[Job]:
    """Leave-one-subject-out: calibrate on k trials per gesture of the target's first day.

    For each k the All-ConvNet is fine-tuned from a model pre-trained on the other subjects (all
    selected days; first three convs frozen, "transfer") and every requested model is trained from
    scratch on the same trials ("scratch"). Test: the target's later selected days (all trials),
    or, with one day selected, the target's remaining trials of that day.
    """
    subjects = [int(s) for s in np.unique(data.meta["subject"])]
    days = _days(data)
    if len(subjects) < 2:
        from myoxai.errors import MyoxaiError

        raise MyoxaiError("inter-subject needs at least two subjects (e.g. --subjects 1-4)")
    jobs = []
    for s in subjects:
        subj = data.meta["subject"] == s
        pretrained: dict[str, Any] = {}

        def pretrain(source: np.ndarray = ~subj, cache: dict = pretrained) -> tuple[AllConvNet, dict[str, Any]]:
            if "model" not in cache:  # pre-trained once per target subject, shared by every k
                cache["model"], cache["report"] = fit_fresh("allconvnet", data.subset(source), settings)
            return cache["model"], cache["report"]

        for k in trials_per_gesture:
            cal = subj & (data.meta["day"] == days[0]) & (data.meta["trial"] <= k)
            if len(days) > 1:
                test_masks = [subj & (data.meta["day"] == d) for d in days[1:]]
            elif k < 4:
                test_masks = [subj & (data.meta["day"] == days[0]) & (data.meta["trial"] > k)]
            else:
                continue
            tests = [(_test_desc(data, m), m) for m in test_masks]
            base = {"day": days[0], "trials_per_gesture": k, "trials": list(range(1, k + 1))}
            for name in models:
                jobs.append(_fresh_job("kanoga", "inter-subject", s, name, {"variant": f"scratch-k{k}", **base},
                                       data, cal, tests, settings))
            if "allconvnet" in models:
                def transfer(cal_set: WindowSet, pretrain: Callable = pretrain) -> tuple[Model, dict]:
                    source_model, _ = pretrain()
                    model = copy.deepcopy(source_model)
                    model.freeze_early_layers(3)
                    report = train_model(model, cal_set.spec, cal_set.y, settings)
                    return model, report

                train = {"variant": f"transfer-k{k}", **base, "source_subjects": [x for x in subjects if x != s],
                         "source_days": days, "frozen_convs": 3}
                jobs.append(Job("kanoga", "inter-subject", s, "allconvnet", train, data, cal, tests, transfer))
    return jobs


def myo_readings_intra_session(data: WindowSet, models: list[str], settings: TrainSettings,
                               train_fraction: float = 0.75) -> list[Job]:
    """Within each session: the first 75 % of every gesture file trains, the windows after it test.

    Windows overlapping the split point are dropped so no sample is in both sets.
    """
    jobs = []
    for s in np.unique(data.meta["subject"]):
        for sess in np.unique(data.meta["session"][data.meta["subject"] == s]):
            here = (data.meta["subject"] == s) & (data.meta["session"] == sess)
            frac = data.meta["frac"]
            # a window starting at frac f covers [f, f + window]; a one-window guard band keeps sets disjoint
            tr = here & (frac < train_fraction - 0.01)
            te = here & (frac >= train_fraction)
            train = {"variant": "time-split", "session": int(sess), "fraction": train_fraction}
            test = {"day": int(sess), "position": "", "trials": [], "session": int(sess),
                    "fraction": [train_fraction, 1.0]}
            for name in models:
                jobs.append(_fresh_job("myo-readings", "intra-session", int(s), name, train, data, tr,
                                       [(test, te)], settings))
    return jobs


def myo_readings_inter_session(data: WindowSet, models: list[str], settings: TrainSettings) -> list[Job]:
    """Train on a participant's first session, test each later session."""
    jobs = []
    for s in np.unique(data.meta["subject"]):
        subj = data.meta["subject"] == s
        sessions = sorted(int(x) for x in np.unique(data.meta["session"][subj]))
        if len(sessions) < 2:
            continue
        first = subj & (data.meta["session"] == sessions[0])
        tests = [({"day": x, "position": "", "trials": [], "session": x}, subj & (data.meta["session"] == x))
                 for x in sessions[1:]]
        for name in models:
            jobs.append(_fresh_job("myo-readings", "inter-session", int(s), name,
                                   {"variant": "fixed", "session": sessions[0]}, data, first, tests, settings))
    return jobs
