"""myo-readings inter-session adaptation: session 1 → each later session of every participant.

Train on session 1 (labeled); for sessions 2 and 3, adapt on the first half of each 60 s gesture
file, joined in file order into one continuous stream (rest ↔ gesture every 5 s, transitions
included), and score the pure windows of the second halves. The methods and records are those of
``myoxai.evaluation.adaptation``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.config import DEFAULT_CONFIG
from myoxai.dsp import process_signal
from myoxai.errors import MyoxaiError
from myoxai.evaluation.adaptation import (
    AdaptEvalSettings,
    _as_records,
    _calibration,
    _split_methods,
    run_methods,
    train_calibration_model,
)
from myoxai.evaluation.cells import Cell, GridContext

MYO_READINGS_RUNNER = "myoxai.evaluation.adaptation_myo:run_myo_readings_cell"


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
