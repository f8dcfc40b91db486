"""Labeled windows of a dataset selection, computed once and then sliced by protocols.

A ``WindowSet`` holds, for every window, the raw spectrogram, the filtered window, the label
and per-window metadata (subject, day/session, trial, position, time) as arrays, so a protocol
selects its train and test windows with boolean masks instead of recomputing anything.
Time-domain features for the LDA are computed lazily once per set and sliced along.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from myoxai.config import SignalConfig
from myoxai.dsp import process_signal, td_features
from myoxai.dsp.features import FeatureSet
from myoxai.errors import MyoxaiError
from myoxai.io.recording import Recording
from myoxai.io.sessions import Session, find_sessions, repetitions


@dataclass
class WindowSet:
    """Windows with labels and per-window metadata (all arrays share the first axis)."""

    spec: np.ndarray  # (n, frames, ch, freqs) float32 raw spectrogram
    win: np.ndarray  # (n, samples, ch) float32 high-passed window
    y: np.ndarray  # (n,) int64 label, -1 when hidden from an adapter
    meta: dict[str, np.ndarray]
    class_names: tuple[str, ...]
    _features: dict[str, np.ndarray] = field(default_factory=dict, repr=False)

    def __len__(self) -> int:
        return int(self.y.shape[0])

    def inputs(self, kind: str) -> np.ndarray:
        """The array a model of ``input_kind`` consumes."""
        return self.spec if kind == "spectrogram" else self.win

    def features(self, feature_set: FeatureSet) -> np.ndarray:
        """``td_features`` of all windows, computed once per feature set."""
        key = json.dumps(feature_set.to_dict(), sort_keys=True)
        if key not in self._features:
            self._features[key] = td_features(self.win, feature_set)
        return self._features[key]

    def subset(self, mask: np.ndarray) -> WindowSet:
        """The windows selected by a boolean mask or index array (cached features kept)."""
        idx = np.flatnonzero(mask) if mask.dtype == bool else mask
        return WindowSet(self.spec[idx], self.win[idx], self.y[idx], {k: v[idx] for k, v in self.meta.items()},
                         self.class_names, {k: v[idx] for k, v in self._features.items()})

    def unlabeled(self) -> WindowSet:
        """The same windows with labels hidden (-1): what an adaptation method may see of a test day."""
        out = self.subset(np.arange(len(self)))
        out.y = np.full_like(self.y, -1)
        return out


def concat(sets: list[WindowSet]) -> WindowSet:
    """The windows of ``sets`` in order as one set (features cached in every set kept)."""
    keys = set.intersection(*(set(s._features) for s in sets)) if sets else set()
    return WindowSet(np.concatenate([s.spec for s in sets]), np.concatenate([s.win for s in sets]),
                     np.concatenate([s.y for s in sets]),
                     {k: np.concatenate([s.meta[k] for s in sets]) for k in sets[0].meta},
                     sets[0].class_names, {k: np.concatenate([s._features[k] for s in sets]) for k in keys})


def windows_of_recording(rec: Recording, config: SignalConfig, exclude_transitions: bool = True) -> tuple[
        np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(spec, win, label, start) of one continuous labeled recording.

    The label of a window is the label of its last sample (what a live decision at that moment
    should say). High-pass is skipped when the recording says it is already filtered with the
    config's filter. ``exclude_transitions`` drops windows whose samples carry more than one
    label (they straddle a rest↔gesture change) and windows with unlabeled samples.
    """
    if rec.labels is None:
        raise MyoxaiError(f"{rec.meta.get('source', 'recording')} has no labels; training and evaluation need "
                          "labeled data (per-sample labels or markers)")
    prefiltered = (rec.meta.get("highpass_hz") == config.highpass_hz
                   and rec.meta.get("highpass_order") == config.highpass_order)
    batch = process_signal(rec.samples, config, highpass=not prefiltered)
    last = batch.end - 1
    y = rec.labels[last]
    keep = y >= 0
    if exclude_transitions and len(batch):
        lab = rec.labels
        change = np.concatenate([[0], np.cumsum(np.diff(lab) != 0)])  # segment id per sample
        keep &= change[batch.start] == change[last]
    return (batch.spectrograms[keep].astype(np.float32), batch.windows[keep].astype(np.float32), y[keep],
            batch.start[keep])


def recording_windows(rec: Recording, config: SignalConfig) -> WindowSet:
    """All clean labeled windows of one recording (e.g. an XDF calibration file)."""
    spec, win, y, start = windows_of_recording(rec, config)
    if len(y) == 0:
        raise MyoxaiError(f"{rec.meta.get('source', 'recording')}: no labeled windows "
                          f"(need labeled stretches of at least {config.window} samples)")
    return WindowSet(spec, win, y, {"start": start}, rec.class_names)


def kanoga_windows(root: str | Path, subjects: list[int], days: list[int], config: SignalConfig) -> WindowSet:
    """Every window of the selected long-term-dataset trials (26 per trial with the default config)."""
    from myoxai.io.kanoga import load_kanoga

    parts = []
    for s in subjects:
        recs = load_kanoga(root, [s], days)
        batches = [process_signal(r.samples, config, highpass=False) for r in recs]
        n = np.array([len(b) for b in batches])
        spec = np.concatenate([b.spectrograms for b in batches]).astype(np.float32)
        win = np.concatenate([b.windows for b in batches]).astype(np.float32)
        meta = {key: np.repeat([r.meta[key] for r in recs], n) for key in ("subject", "day", "motion", "trial")}
        meta["position"] = np.repeat([r.meta["position"] for r in recs], n)
        parts.append(WindowSet(spec, win, meta["motion"].astype(np.int64) - 1, meta, recs[0].class_names))
    return concat(parts)


def myo_readings_windows(root: str | Path, subjects: list[str] | None, sessions: list[int] | None,
                         config: SignalConfig) -> WindowSet:
    """Clean windows of myo-readings sessions, each gesture file processed on its own.

    Files are filtered and windowed separately (no window spans two files); windows that straddle
    a rest↔gesture label change are excluded. Metadata ``t`` is the window start in seconds within
    its file, ``file`` the gesture file, ``session`` and ``subject`` (the participant id).
    """
    from myoxai.io.myo_readings import load_file, session_dirs

    parts = []
    for folder in session_dirs(root):
        subj, _, sess = folder.name.partition("-")
        if (subjects and subj not in subjects) or (sessions and int(sess) not in sessions):
            continue
        for path in sorted(folder.glob("[0-9].txt")):
            rec = load_file(path, strict=False)
            spec, win, y, start = windows_of_recording(rec, config)
            n = len(y)
            meta = {"subject": np.full(n, int(subj)), "session": np.full(n, int(sess)),
                    "file": np.full(n, int(path.stem)), "t": start / config.fs,
                    "frac": start / max(len(rec) - config.window, 1)}
            parts.append(WindowSet(spec, win, y, meta, rec.class_names))
    if not parts:
        raise MyoxaiError(f"no myo-readings sessions match subjects {subjects} and sessions {sessions} under {root}")
    return concat(parts)


# ---------------------------------------------------------------- a lab's own sessions (myoxai.evaluation.own_sessions)
# A unit is [person, session]: <root>/<person>/<session>.xdf (recordings) or <root>/<person>/<session>/ (libemg).
OWN_DATASETS = {"recordings": "recordings", "libemg": "libemg"}  # dataset name -> myoxai.io.sessions layout


def own_session(dataset: str, root: str | Path, unit: list) -> Session:
    """The session of a unit ``[person, session number]``."""
    person, index = str(unit[0]), int(unit[1])
    for s in find_sessions(root, OWN_DATASETS[dataset]).get(person, []):
        if s.index == index:
            return s
    raise MyoxaiError(f"{dataset}: person {person} has no session {index} under {root}")


def own_files(dataset: str, root: str | Path, unit: list) -> list[Path]:
    """The files of one own session (an XDF file, or a LibEMG folder's CSV and metadata files)."""
    path = own_session(dataset, root, unit).path
    return [path] if path.is_file() else sorted(p for p in path.iterdir() if p.suffix in (".csv", ".json"))


@functools.lru_cache(maxsize=8)
def own_class_names(dataset: str, root: str) -> tuple[str, ...]:
    """The dataset's gestures: every session's names, in order of first appearance (people, then sessions).

    Labels are matched by name, so sessions that list their gestures in another order still agree.
    """
    names: dict[str, None] = {}
    for ss in find_sessions(root, OWN_DATASETS[dataset]).values():
        for s in ss:
            names.update(dict.fromkeys(s.load().class_names))
    return tuple(names)


def own_windows(dataset: str, root: str | Path, unit: list, config: SignalConfig) -> WindowSet:
    """Clean windows of one session with ``subject``, ``session`` and ``rep`` (repetition) per window."""
    rec = own_session(dataset, root, unit).load()
    names = own_class_names(dataset, str(root))
    reps = repetitions(rec)
    spec, win, y, start = windows_of_recording(rec, config)
    last = start + config.window - 1
    keep = reps[start] == reps[last]  # a window over two joined LibEMG files of one gesture is dropped
    n = int(keep.sum())
    to_dataset = np.array([names.index(c) for c in rec.class_names], dtype=np.int64)
    meta = {"subject": np.full(n, str(unit[0])), "session": np.full(n, int(unit[1])), "rep": reps[start][keep]}
    return WindowSet(spec[keep], win[keep], to_dataset[y[keep]], meta, names)


# ---------------------------------------------------------------- data units of evaluation cells
# A unit is what a cell reads: [subject, day] (kanoga), [participant, session] (myo-readings) or
# [group, participant] (myo-armband: every round of that person).
def unit_files(dataset: str, root: str | Path, unit: list) -> list[Path]:
    """The files one data unit is read from, in a fixed order (their content goes into cache keys).

    Only files named as the dataset names its data (``DdMmTt.csv``, ``0.txt`` … ``7.txt``,
    ``classe_<i>.dat``) count, and each must be a regular file inside ``root``: a ``notes.csv``
    linked to ``/dev/zero``, a FIFO named like a trial or a link out of the dataset is refused.
    """
    if dataset == "kanoga":
        from myoxai.io.kanoga import _NAME, day_dir

        folder = day_dir(root, int(unit[0]), int(unit[1]))
        files = sorted(p for p in folder.glob("*.csv") if _NAME.match(p.name)) if folder.is_dir() else []
    elif dataset == "myo-readings":
        from myoxai.io._text import is_ascii_int
        from myoxai.io.myo_readings import session_dirs

        name = f"{unit[0]}-{unit[1]}"
        folder = next((p for p in session_dirs(root) if p.name == name), Path(root) / name)
        files = sorted(p for p in folder.glob("*.txt") if is_ascii_int(p.stem)) if folder.is_dir() else []
    elif dataset == "myo-armband":
        from myoxai.io.myo_armband import _NAME, group_dir

        folder = group_dir(root, str(unit[0])) / str(unit[1])
        files = sorted(p for p in folder.glob("*/classe_*.dat") if _NAME.match(p.name)) if folder.is_dir() else []
    elif dataset in OWN_DATASETS:
        return own_files(dataset, root, unit)
    else:
        raise MyoxaiError(f"no data units defined for dataset {dataset!r}")
    if not files:
        raise MyoxaiError(f"{dataset}: no data files for {unit} in {folder}; check --root and --subjects/--days")
    return [_inside(root, f) for f in files]


def _inside(root: str | Path, path: Path) -> Path:
    """``path`` if it is a regular file whose real location is inside ``root``, else a ``MyoxaiError``."""
    import stat

    try:
        real, base = path.resolve(), Path(root).resolve()
        mode = os.stat(real).st_mode
    except OSError as exc:
        raise MyoxaiError(f"cannot read {path}: {exc.strerror or exc}") from None
    if not real.is_relative_to(base):
        raise MyoxaiError(f"{path} links to {real}, outside the dataset folder {base}; remove the link")
    if not stat.S_ISREG(mode):
        raise MyoxaiError(f"{path} is not a regular file (a device, pipe or folder?); remove it from the dataset")
    return path


def unit_hash(dataset: str, root: str | Path, unit: list) -> str:
    """SHA-256 over the unit's file names and contents: the same data at another path hashes the same."""
    import hashlib

    h = hashlib.sha256()
    for path in unit_files(dataset, root, unit):
        name = f"{path.parent.name}/{path.name}" if dataset == "myo-armband" else path.name
        try:
            with open(path, "rb") as f:
                digest = hashlib.file_digest(f, "sha256").digest()  # streamed: memory stays small
        except OSError as exc:
            raise MyoxaiError(f"cannot read {path}: {exc.strerror or exc}") from None
        h.update(name.encode() + b"\0" + digest)
    return h.hexdigest()


def unit_windows(dataset: str, root: str | Path, unit: list, config: SignalConfig,
                 feature_sets: tuple[FeatureSet, ...] = ()) -> WindowSet:
    """The windows of one unit (memoised per process), with the requested feature sets computed."""
    from myoxai.evaluation.cells import memo

    def load() -> WindowSet:
        if dataset == "kanoga":
            return kanoga_windows(root, [int(unit[0])], [int(unit[1])], config)
        if dataset == "myo-readings":
            return myo_readings_windows(root, [str(unit[0])], [int(unit[1])], config)
        if dataset in OWN_DATASETS:
            return own_windows(dataset, root, unit, config)
        raise MyoxaiError(f"no data units defined for dataset {dataset!r}")

    data = memo(("windows", dataset, str(root), unit, config.to_dict()), load)
    for fs in feature_sets:
        data.features(fs)  # computed once into the memoised set, then sliced along by subset/concat
    return data


def select(data: WindowSet, where: dict[str, list]) -> np.ndarray:
    """Boolean mask of the windows whose metadata match ``where``.

    ``{"trial": [1, 2]}`` keeps listed values; ``{"frac": {"range": [lo, hi]}}`` keeps lo ≤ v < hi
    (``None``: no bound).
    """
    mask = np.ones(len(data), dtype=bool)
    for key, rule in where.items():
        values = data.meta[key]
        if isinstance(rule, dict):
            lo, hi = rule["range"]
            if lo is not None:
                mask &= values >= lo
            if hi is not None:
                mask &= values < hi
        else:
            mask &= np.isin(values, rule)
    return mask
