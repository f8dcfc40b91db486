"""Loader for Côté-Allard et al.'s Myo Armband dataset (19 pre-training + 17 evaluation participants).

Layout as downloaded: ``<root>/PreTrainingDataset/<Name>/training0/classe_<i>.dat`` and
``<root>/EvaluationDataset/<Name>/{training0,Test0,Test1}/classe_<i>.dat``, plus
``<Name>/experiment.csv`` (sex, age, forearm circumference, …). Each ``.dat`` file is one 5-s hold:
raw Myo EMG (int8 values) stored as little-endian int16, 8 channels interleaved sample-major, at
200 Hz, unfiltered. File ``i`` is gesture ``i mod 7`` of cycle ``i div 7`` (4 cycles per round).
The dataset is GPL-3.0: evaluate and pre-train with it, never ship weights trained on it.
"""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np

from myoxai.config import MYO
from myoxai.errors import MyoxaiError
from myoxai.io.recording import Recording, concatenate, synth_timestamps

FS, N_CHANNELS = MYO.fs, MYO.n_channels  # recorded with a Myo armband
GESTURES = ("neutral", "radial deviation", "wrist flexion", "ulnar deviation", "wrist extension",
            "hand close", "hand open")
N_CYCLES = 4
FILES_PER_ROUND = len(GESTURES) * N_CYCLES
GROUPS = {"pre-training": "PreTrainingDataset", "evaluation": "EvaluationDataset"}
ROUNDS = ("training0", "Test0", "Test1")  # round 1 (calibration) and rounds 2-3 (test) of the paper
# Holds last 3.7-5.2 s in the real files (most 4.94-5.03 s); far outside is a truncated or foreign file.
MIN_SAMPLES, MAX_SAMPLES = 500, 1500
_NAME = re.compile(r"^classe_([0-9]+)\.dat$")


def gesture_and_cycle(index: int) -> tuple[int, int]:
    """(gesture, cycle) of file ``classe_<index>.dat``."""
    return index % len(GESTURES), index // len(GESTURES)


def load_file(path: str | Path) -> Recording:
    """One ``classe_<i>.dat`` hold as a Recording labelled with its gesture (units: raw int8)."""
    path = Path(path)
    m = _NAME.match(path.name)
    if not m or int(m.group(1)) >= FILES_PER_ROUND:
        raise MyoxaiError(f"{path}: expected a file named classe_0.dat … classe_{FILES_PER_ROUND - 1}.dat")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise MyoxaiError(f"cannot read {path}: {exc.strerror}; check the path and permissions") from None
    frame = 2 * N_CHANNELS
    if len(raw) % frame:
        raise MyoxaiError(f"{path}: {len(raw)} bytes is not a whole number of samples (8 int16 channels = "
                          f"{frame} bytes each); the file is truncated or not from this dataset")
    emg = np.frombuffer(raw, dtype="<i2").reshape(-1, N_CHANNELS)
    if not MIN_SAMPLES <= len(emg) <= MAX_SAMPLES:
        raise MyoxaiError(f"{path}: {len(emg)} samples ({len(emg) / FS:.2f} s); a hold of this dataset lasts about "
                          f"5 s ({MIN_SAMPLES}-{MAX_SAMPLES} samples), so the file is truncated or foreign")
    bad = (emg < -128) | (emg > 127)
    if bad.any():
        row = int(np.argmax(bad.any(axis=1)))
        raise MyoxaiError(f"{path}, sample {row}: value {int(emg[row][bad[row]][0])} outside -128…127 (raw Myo "
                          "int8); the file is corrupt or not from this dataset")
    gesture, cycle = gesture_and_cycle(int(m.group(1)))
    round_dir, person = path.parent, path.parent.parent
    group = next((g for g, d in GROUPS.items() if person.parent.name == d), "")
    meta = {"dataset": "myo-armband", "participant": person.name, "group": group, "round": round_dir.name,
            "cycle": cycle, "gesture": gesture, "file": int(m.group(1)), "source": str(path), "units": "raw int8"}
    return Recording(emg.astype(np.float32), synth_timestamps(len(emg), FS), FS, np.full(len(emg), gesture),
                     GESTURES, meta)


def load_round(folder: str | Path) -> list[Recording]:
    """The 28 holds of one round folder in file order (cycle-major); a missing file is an error."""
    folder = Path(folder)
    if not folder.is_dir():
        raise MyoxaiError(f"{folder} is not a folder; expected a round folder (training0, Test0 or Test1)")
    missing = [i for i in range(FILES_PER_ROUND) if not (folder / f"classe_{i}.dat").is_file()]
    if missing:
        raise MyoxaiError(f"{folder}: missing classe_{missing[0]}.dat ({len(missing)} of {FILES_PER_ROUND} files "
                          "missing); the download is incomplete")
    return [load_file(folder / f"classe_{i}.dat") for i in range(FILES_PER_ROUND)]


def open_round(folder: str | Path) -> Recording:
    """A round as one continuous Recording (holds end to end), e.g. for ``myoxai convert`` or ``info``."""
    rec = concatenate(load_round(folder))
    rec.meta.update({"dataset": "myo-armband", "source": str(folder)})
    return rec


def group_dir(root: str | Path, group: str) -> Path:
    """``<root>/PreTrainingDataset`` or ``<root>/EvaluationDataset``, with an error saying what to unpack."""
    if group not in GROUPS:
        raise MyoxaiError(f"unknown group {group!r}; choose one of {', '.join(GROUPS)}")
    folder = Path(root) / GROUPS[group]
    if not folder.is_dir():
        raise MyoxaiError(f"no folder {folder}; point --root at the unpacked Myo Armband dataset (the folder "
                          "holding PreTrainingDataset/ and EvaluationDataset/)")
    return folder


def participants(root: str | Path, group: str) -> list[str]:
    """Participant folder names of a group (e.g. Female0, Male3), sorted by sex then number."""
    def order(name: str) -> tuple[str, int]:
        m = re.match(r"^([^0-9]+)([0-9]+)$", name)
        return (m.group(1), int(m.group(2))) if m else (name, -1)

    names = [p.name for p in group_dir(root, group).iterdir() if (p / ROUNDS[0]).is_dir()]
    if not names:
        raise MyoxaiError(f"{group_dir(root, group)} holds no participant folders with {ROUNDS[0]}/")
    return sorted(names, key=order)


def load_participant(root: str | Path, group: str, name: str, rounds: tuple[str, ...] = ROUNDS[:1]
                     ) -> list[Recording]:
    """Every hold of the given rounds of one participant, round by round."""
    person = group_dir(root, group) / name
    if not person.is_dir():
        raise MyoxaiError(f"no participant {name} in {group_dir(root, group)}; choose from "
                          f"{', '.join(participants(root, group))}")
    unknown = [r for r in rounds if r not in ROUNDS]
    if unknown:
        raise MyoxaiError(f"unknown round {unknown[0]!r}; rounds are {', '.join(ROUNDS)}")
    return [rec for r in rounds for rec in load_round(person / r)]


def read_experiment(path: str | Path) -> dict[str, list[str]]:
    """``experiment.csv`` as {field: its non-empty values} (the file pads rows with empty cells)."""
    path = Path(path)
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError as exc:
        raise MyoxaiError(f"cannot read {path}: {exc.strerror}") from None
    out: dict[str, list[str]] = {}
    for line in lines:
        key, *values = (c.strip() for c in line.split(","))
        if key:
            out[key] = [v for v in values if v]
    return out
