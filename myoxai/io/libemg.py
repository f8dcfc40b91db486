"""LibEMG's offline layout, read and written: one folder per session, one CSV per repetition of a class.

LibEMG's screen-guided training saves every repetition of every class as a headerless CSV of
samples × channels named ``R_<rep>_C_<class>_EMG.csv`` (older releases wrote ``C_<class>_R_<rep>.csv``;
both are read), next to an optional ``collection_details.json`` whose ``classes`` / ``class_map`` name
the class indices. A Myo session holds raw int8 values; other pipelines store floats. The files carry no
timestamps and no sampling rate (a Myo is 200 Hz).

Writing keeps LibEMG's keys in the metadata file and adds a ``myoxai`` section (rate, the recording's
file order, each file's first timestamp, its metadata), so XDF → this layout → XDF gives back the same
samples, labels, class names, metadata and timestamps (re-made at 1/fs from each file's first stamp).
Unlabelled samples have no place in the layout and are left out (the writer reports how many).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.errors import MyoxaiError
from myoxai.io._text import is_ascii_int, read_numeric_rows
from myoxai.io.outputs import atomic_output, check_output_dir, write_failed, write_text
from myoxai.io.recording import Recording, concatenate, synth_timestamps

METADATA = "collection_details.json"
FS = 200.0  # LibEMG stores no rate; its Myo streamer delivers 200 Hz EMG
N_CHANNELS = 8
_NAMES = (re.compile(r"^R_(?P<rep>\d+)_C_(?P<cls>\d+)(?:_EMG)?\.csv$"),
          re.compile(r"^C_(?P<cls>\d+)_R_(?P<rep>\d+)(?:_EMG)?\.csv$"))


@dataclass(frozen=True)
class RepFile:
    """One repetition file of a session folder."""

    path: Path
    rep: int
    cls: int


def rep_files(folder: str | Path) -> list[RepFile]:
    """The session's repetition files in LibEMG's collection order (repetition, then class)."""
    found = []
    for p in Path(folder).iterdir():
        m = next((m for rx in _NAMES if (m := rx.match(p.name))), None)
        if m and p.is_file():
            found.append(RepFile(p, int(m["rep"]), int(m["cls"])))
    return sorted(found, key=lambda f: (f.rep, f.cls))


def is_session(folder: str | Path) -> bool:
    """Whether ``folder`` holds LibEMG repetition files."""
    p = Path(folder)
    return p.is_dir() and bool(rep_files(p))


def _metadata(folder: Path) -> dict[str, Any]:
    path = folder / METADATA
    if not path.is_file():
        return {}
    try:
        meta = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise MyoxaiError(f"{path} is not readable JSON ({exc}); fix or remove it (class names then "
                          "default to class_<i>)") from None
    if not isinstance(meta, dict):
        raise MyoxaiError(f"{path} must hold a JSON object (LibEMG's collection details)")
    return meta


def _class_names(meta: dict[str, Any], used: list[int]) -> tuple[str, ...]:
    """Names for classes 0..max(used): ``classes`` list, else ``class_map`` {index: name}, else class_<i>."""
    n = max(used) + 1
    names = [f"class_{i}" for i in range(n)]
    given = meta.get("classes")
    cmap = meta.get("class_map")
    if isinstance(given, list) and all(isinstance(c, str) for c in given):
        names[:len(given)] = given[:n]
        names += given[n:]
    elif isinstance(cmap, dict):
        for k, v in cmap.items():
            if is_ascii_int(str(k)) and int(k) < n and isinstance(v, str):
                names[int(k)] = v
    return tuple(names)


def read_session(folder: str | Path, fs: float | None = None, strict: bool = True) -> Recording:
    """One Recording of a LibEMG session folder: its repetition files joined, labelled by class.

    Files are joined in the order this layout's writer recorded (``myoxai.order`` in the metadata),
    else in LibEMG's collection order. ``meta["parts"]`` gives each file's first sample with its
    ``repetition`` and ``libemg_class``, which leave-one-repetition-out needs.
    """
    folder = Path(folder)
    files = rep_files(folder) if folder.is_dir() else []
    if not files:
        raise MyoxaiError(f"{folder}: no LibEMG repetition files (R_<rep>_C_<class>_EMG.csv) in this folder")
    meta = _metadata(folder)
    ours = meta.get("myoxai") if isinstance(meta.get("myoxai"), dict) else {}
    by_name = {f.path.name: f for f in files}
    order = [by_name[n] for n in ours.get("order", []) if n in by_name]
    files = order + [f for f in files if f not in order]
    fs = float(fs or ours.get("fs") or meta.get("sampling_rate") or FS)
    names = _class_names(meta, [f.cls for f in files])
    t0s = ours.get("t0", {})
    parts, t_next = [], 0.0
    for f in files:
        values, _ = read_numeric_rows(f.path, N_CHANNELS, strict=strict, what="a LibEMG repetition file")
        if len(values) == 0:
            raise MyoxaiError(f"{f.path} holds no samples; remove it or record the repetition again")
        t0 = float(t0s.get(f.path.name, t_next))
        part_meta = {"repetition": f.rep, "libemg_class": f.cls, "file": f.path.name}
        parts.append(Recording(values, synth_timestamps(len(values), fs, t0), fs,
                               np.full(len(values), f.cls), names, part_meta))
        t_next = t0 + len(values) / fs
    rec = _join_keeping_times(parts)
    raw = all(np.array_equal(p.samples, np.round(p.samples)) and np.abs(p.samples).max() <= 128 for p in parts)
    rec.meta.update(ours.get("meta", {}))
    rec.meta.update({"source": str(folder), "format": "libemg", "units": rec.meta.get("units") or
                     ("raw int8" if raw else "a.u.")})
    return rec


def _join_keeping_times(parts: list[Recording]) -> Recording:
    """``concatenate`` (labels, ``meta['parts']``) but with every part's own timestamps kept."""
    rec = concatenate(parts)
    rec.timestamps = np.concatenate([p.timestamps for p in parts])
    return rec


def _fmt(samples: np.ndarray) -> str:
    """``%d`` for raw Myo values (whole numbers in int8's range), else enough digits to give float32 back."""
    raw = samples.size and np.array_equal(samples, np.round(samples)) and np.abs(samples).max() <= 128
    return "%d" if raw else "%.9g"


def write_session(rec: Recording, folder: str | Path, overwrite: bool = False) -> dict[str, int]:
    """Write ``rec`` as a LibEMG session folder: one ``R_<rep>_C_<class>_EMG.csv`` per labelled run.

    A run's repetition number counts that class's earlier runs (LibEMG numbers repetitions per
    class from 0). Returns ``{"files": …, "samples": …, "unlabeled_samples": …}``.
    """
    if rec.labels is None or not rec.class_names:
        raise MyoxaiError("the recording has no gesture labels; LibEMG's layout stores labelled repetitions only")
    if rec.n_channels != N_CHANNELS:
        raise MyoxaiError(f"the recording has {rec.n_channels} channels; LibEMG's Myo layout holds {N_CHANNELS}")
    out = check_output_dir(folder, overwrite=overwrite, what="the LibEMG session")
    runs = [(a, b, lab) for a, b, lab in rec.segments() if lab >= 0]
    count: dict[int, int] = {}
    order, t0 = [], {}
    fmt = _fmt(rec.samples)
    try:
        for old in rep_files(out):
            old.path.unlink()
        for a, b, lab in runs:
            rep = count[lab] = count.get(lab, -1) + 1
            name = f"R_{rep}_C_{lab}_EMG.csv"
            with atomic_output(out / name, overwrite=True) as tmp:  # inside the folder check_output_dir approved
                np.savetxt(tmp, rec.samples[a:b], fmt=fmt, delimiter=",")
            order.append(name)
            t0[name] = float(rec.timestamps[a])
        details = {"num_motions": len(rec.class_names), "num_reps": max(count.values(), default=-1) + 1,
                   "classes": list(rec.class_names), "class_map": dict(enumerate(rec.class_names)),
                   "time": datetime.now(UTC).isoformat(),
                   "myoxai": {"fs": rec.fs, "order": order, "t0": t0,
                              "meta": {k: v for k, v in rec.meta.items() if k not in ("parts", "source", "stream")}}}
        write_text(out / METADATA, json.dumps(details, indent=1, default=str), overwrite=True)
    except OSError as exc:
        raise write_failed(out, exc, "the folder may hold part of the session") from None
    labelled = sum(b - a for a, b, _ in runs)
    return {"files": len(runs), "samples": labelled, "unlabeled_samples": len(rec) - labelled}
