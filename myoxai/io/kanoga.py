"""Loader for the long-term inter-day Myo dataset (Kanoga et al., 2020).

Layout as downloaded: ``<root>/[data/]subN/dayD/DdMmTt.csv``, each file one 1.5 s trial of
300 × 8 floats, already high-pass filtered by the authors (15 Hz, order 5 Butterworth).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import numpy as np

from myoxai.config import MYO
from myoxai.errors import MyoxaiError
from myoxai.io._text import is_ascii_int, kept_line_positions, read_numeric_rows
from myoxai.io.recording import Recording, synth_timestamps

FS, N_CHANNELS = MYO.fs, MYO.n_channels  # recorded with a Myo armband
TRIAL_SAMPLES = 300
N_MOTIONS = 22
N_TRIALS = 4
N_DAYS = 30
MOTION_NAMES = ("rest", "wrist flexion", "wrist extension", "radial deviation", "ulnar deviation",
                "pronation", "supination", "hand close") + tuple(f"M{m} (combined)" for m in range(9, 23))
# Armband position per day (N neutral, I 8 mm inward, O 8 mm outward), the same for every subject.
POSITIONS = "NIONIIOONN" "ONNOOIIINO" "OIOIINNINO"
_NAME = re.compile(r"^D([0-9]+)M([0-9]+)T([0-9]+)\.csv$")
MAX_ABS = 10.0  # the data lies within ±1.5; anything far beyond is not this dataset


def position_of_day(day: int) -> str:
    """'N', 'I' or 'O' for days 1-30."""
    if not 1 <= day <= N_DAYS:
        raise MyoxaiError(f"day {day} is outside 1-{N_DAYS}")
    return POSITIONS[day - 1]


def _subject_dir(root: Path, subject: int) -> Path:
    for cand in (root / f"sub{subject}", root / "data" / f"sub{subject}"):
        if cand.is_dir():
            return cand
    raise MyoxaiError(f"no folder sub{subject} under {root} (or {root}/data); point --root at the unpacked "
                      "long-term dataset (the folder holding subN/dayD/DdMmTt.csv)")


def day_dir(root: str | Path, subject: int, day: int) -> Path:
    """The folder of one subject-day (``<root>/[data/]subN/dayD``; it may not exist)."""
    return _subject_dir(Path(root), subject) / f"day{day}"


def available_subjects(root: str | Path) -> list[int]:
    """Subjects present under ``root``."""
    root = Path(root)
    base = root / "data" if (root / "data").is_dir() else root
    return sorted(int(p.name[3:]) for p in base.glob("sub*") if is_ascii_int(p.name[3:]))


def load_trial(path: str | Path, subject: int | None = None, strict: bool = True) -> Recording:
    """One trial file as a labeled ``Recording`` (label = motion - 1).

    ``strict=False`` drops corrupt lines (listed in ``meta["dropped_lines"]``); the kept samples
    keep their timestamps, so the hole stays visible.
    """
    path = Path(path)
    m = _NAME.match(path.name)
    if not m:
        raise MyoxaiError(f"{path}: file name does not follow DdMmTt.csv (e.g. D1M2T3.csv)")
    day, motion, trial = (int(g) for g in m.groups())
    if not (1 <= motion <= N_MOTIONS and 1 <= trial <= N_TRIALS and 1 <= day <= N_DAYS):
        raise MyoxaiError(f"{path}: day/motion/trial out of range (1-{N_DAYS}/1-{N_MOTIONS}/1-{N_TRIALS})")
    data, dropped = read_numeric_rows(path, N_CHANNELS, expected_rows=TRIAL_SAMPLES, strict=strict,
                                      max_bytes=1_000_000, what="a long-term dataset trial (300 lines)")
    worst = np.abs(data).max(axis=1)
    if (worst > MAX_ABS).any():
        line = int(np.argmax(worst > MAX_ABS)) + 1
        raise MyoxaiError(f"{path}, line {line}: value {worst[line - 1]:.3g} is far outside the dataset's "
                          "±1.5 range; the file is corrupt or from another dataset")
    meta = {"dataset": "kanoga", "subject": subject, "day": day, "position": position_of_day(day),
            "motion": motion, "trial": trial, "source": str(path), "units": "a.u.",
            "highpass_hz": 15.0, "highpass_order": 5, "dropped_lines": dropped}
    stamps = synth_timestamps(TRIAL_SAMPLES, FS)[kept_line_positions(len(data), dropped)]
    return Recording(data.astype(np.float32), stamps, FS, np.full(len(data), motion - 1), MOTION_NAMES, meta)


def load_kanoga(root: str | Path, subjects: Iterable[int], days: Iterable[int],
                motions: Iterable[int] = range(1, N_MOTIONS + 1),
                trials: Iterable[int] = range(1, N_TRIALS + 1)) -> list[Recording]:
    """Trials for the selection, ordered by subject, day, motion, trial (recording order).

    Missing files raise ``MyoxaiError`` naming the file: the dataset is complete, so a missing
    trial means a broken download rather than something to skip.
    """
    root = Path(root)
    motions, trials = list(motions), list(trials)
    out = []
    for s in subjects:
        sdir = _subject_dir(root, s)
        for d in days:
            ddir = sdir / f"day{d}"
            if not ddir.is_dir():
                raise MyoxaiError(f"missing folder {ddir}; the download is incomplete")
            for m in motions:
                for t in trials:
                    out.append(load_trial(ddir / f"D{d}M{m}T{t}.csv", subject=s))
    return out
