"""A lab's own sessions as ``myoxai eval`` datasets: ``recordings`` (XDF per session) and ``libemg`` (LibEMG folders).

``--root`` holds one folder per person (``myoxai.io.sessions``); a data unit is ``[person, session]``
with sessions numbered 1, 2, … in recording order (its windows: ``data.own_windows``). The protocols
use the same cells, runners, cache and records as the public datasets:

- intra-day (intra-session): leave-one-repetition-out within each session, over the repetitions every
  gesture has (extra runs of a gesture, usually rest, always train);
- inter-day (inter-session): session 1 trains, every later session tests; with ``--adapt`` each method
  adapts on the first half of a later session's repetitions (labels hidden) and is scored on the rest;
- inter-subject: trained on every session of the other people, tested on each session of the person.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from myoxai.errors import MyoxaiError
from myoxai.evaluation.cells import Cell, GridContext
from myoxai.evaluation.data import OWN_DATASETS as DATASETS
from myoxai.evaluation.data import own_session as _session
from myoxai.evaluation.data import own_windows as unit_windows
from myoxai.io.sessions import Session, find_sessions, repetitions

ADAPT_RUNNER = "myoxai.evaluation.own_sessions:run_adapt_cell"


def sessions(dataset: str, root: str | Path, people: list[str] | None = None) -> dict[str, list[Session]]:
    """The selected people's sessions (all people when ``people`` is None)."""
    found = find_sessions(root, DATASETS[dataset])
    if people:
        missing = sorted(set(people) - set(found))
        if missing:
            raise MyoxaiError(f"--subjects: no sessions of {missing} under {root}; people there: {sorted(found)}")
        found = {p: found[p] for p in people}
    return found


def shared_repetitions(rec: Any) -> int:
    """How many repetitions every gesture of a session has (the leave-one-repetition-out folds)."""
    reps, labels = repetitions(rec), rec.labels
    counts = [int(reps[labels == g].max()) + 1 for g in np.unique(labels[labels >= 0])]
    return min(counts) if counts else 0


def _cell(dataset: str, protocol: str, person: str, model: str, train: dict, train_select: dict,
          tests: list[dict]) -> Cell:
    from myoxai.evaluation import protocols

    return protocols._cell(dataset, protocol, person, model, train, train_select, tests)


def _test(person: str, index: int, reps: list[int] | None = None) -> dict[str, Any]:
    desc = {"day": index, "session": index, "position": "", "trials": reps or []}
    return {"desc": desc, "units": [[person, index]], **({"where": {"rep": reps}} if reps is not None else {})}


def intra_session(dataset: str, found: dict[str, list[Session]], models: list[str]) -> list[Cell]:
    """Leave-one-repetition-out within each session."""
    cells = []
    for person, ss in found.items():
        for s in ss:
            rec = s.load()
            n = shared_repetitions(rec)
            if n < 2:
                raise MyoxaiError(f"{s.path}: leave-one-repetition-out needs every gesture at least twice; "
                                  f"found {n} repetition(s)")
            every = sorted({int(r) for r in repetitions(rec) if r >= 0})
            for r in range(n):
                rest = [x for x in every if x != r]
                train = {"variant": "leave-one-repetition-out", "session": s.index, "trials": rest}
                for name in models:
                    cells.append(_cell(dataset, "intra-session", person, name, train,
                                       {"units": [[person, s.index]], "where": {"rep": rest}},
                                       [_test(person, s.index, [r])]))
    return cells


def inter_session(dataset: str, found: dict[str, list[Session]], models: list[str]) -> list[Cell]:
    """Session 1 trains; every later session of the same person tests."""
    cells = []
    for person, ss in found.items():
        if len(ss) < 2:
            continue
        tests = [_test(person, s.index) for s in ss[1:]]
        for name in models:
            cells.append(_cell(dataset, "inter-session", person, name, {"variant": "fixed", "session": 1},
                               {"units": [[person, 1]]}, tests))
    if not cells:
        raise MyoxaiError("inter-session needs a person with at least two sessions")
    return cells


def inter_subject(dataset: str, found: dict[str, list[Session]], models: list[str]) -> list[Cell]:
    """Leave-one-person-out: trained on every session of the others, tested on each of the person's sessions."""
    if len(found) < 2:
        raise MyoxaiError("inter-subject needs at least two people (one folder each under --root)")
    cells = []
    for person, ss in found.items():
        others = [[p, s.index] for p, oss in found.items() if p != person for s in oss]
        train = {"variant": "leave-one-subject-out", "source_subjects": sorted(p for p in found if p != person)}
        for name in models:
            cells.append(_cell(dataset, "inter-subject", person, name, train, {"units": others},
                               [_test(person, s.index) for s in ss]))
    return cells


PROTOCOLS = {"intra-day": intra_session, "inter-day": inter_session, "inter-subject": inter_subject}


def adapt_cells(dataset: str, found: dict[str, list[Session]], methods: list[str]) -> list[Cell]:
    """Session 1 → each later session, one cell per person and later session."""
    cells = [Cell(ADAPT_RUNNER, {"dataset": dataset, "protocol": "inter-session", "subject": person,
                                 "sessions": [s.index], "methods": methods},
                  [[person, 1], [person, s.index]], f"adapt {dataset} {person}-{s.index}",
                  seed_key={"dataset": dataset, "subject": person, "sessions": [s.index]})
             for person, ss in found.items() for s in ss[1:]]
    if not cells:
        raise MyoxaiError("--adapt needs a person with at least two sessions (session 1 calibrates)")
    return cells


def run_adapt_cell(params: dict[str, Any], context: GridContext, seed: int) -> dict[str, Any]:
    """Calibrate on session 1; adapt on the first half of a later session's repetitions, test on the rest."""
    from myoxai.config import DEFAULT_CONFIG
    from myoxai.evaluation import adaptation

    dataset, person, s = params["dataset"], params["subject"], context.settings
    first = unit_windows(dataset, context.root, [person, 1], DEFAULT_CONFIG)

    def make(settings: Any) -> tuple:
        return adaptation.train_calibration_model(first.spec, first.y, first.meta["rep"], len(first.class_names),
                                                  settings, {"dataset": dataset, "participant": person, "session": 1})

    model, source = adaptation._calibration({"dataset": dataset, "subject": person, "calibration_session": 1},
                                            context, make)
    records: list[dict[str, Any]] = []
    timings: list[dict[str, Any]] = []
    for index in params["sessions"]:
        later = unit_windows(dataset, context.root, [person, index], DEFAULT_CONFIG)
        n = shared_repetitions(_session(dataset, context.root, [person, index]).load())
        if n < 2:
            raise MyoxaiError(f"{person} session {index}: adaptation needs every gesture at least twice")
        cut = n // 2
        a, t = later.meta["rep"] < cut, later.meta["rep"] >= cut
        base = {"dataset": dataset, "protocol": "inter-session", "subject": person, "model": s.model,
                "train": {"variant": "fixed", "session": 1},
                "test": {"day": index, "session": index, "position": "", "trials": [],
                         "split": f"adapt on repetitions 0-{cut - 1} / test on the rest"}}
        for method in params["methods"]:
            rs = adaptation.run_methods(model, source, later.spec[a], later.y[a], later.spec[t], later.y[t],
                                        [method], s, base)
            records += adaptation._as_records(rs, timings)
    return {"records": records, "details": {"timings": timings}}
