"""Loader for the myo-readings dataset (continuous 60 s files of raw int8 EMG + per-sample labels).

Layout as downloaded: ``<root>/_readings_right_hand/<id>-<session>/<label>.txt``; each line is 8
raw int8 values and the label. The files store no timestamps, so samples are stamped at 200 Hz.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from myoxai.config import MYO
from myoxai.errors import MyoxaiError
from myoxai.io._text import is_ascii_int, kept_line_positions, read_numeric_rows
from myoxai.io.recording import Recording, concatenate, synth_timestamps

FS, N_CHANNELS = MYO.fs, MYO.n_channels  # recorded with a Myo armband (raw int8)
MAX_FILE_BYTES = 16_000_000  # a 60 s file is ~0.4 MB; 40x that is not this dataset
CLASS_NAMES = ("rest", "flexion", "extension", "radial deviation", "ulnar deviation", "pronation",
               "supination", "fist")


def load_file(path: str | Path, strict: bool = True) -> Recording:
    """One ``<label>.txt`` file as a Recording with per-sample labels.

    ``strict=False`` drops corrupt lines (one real file has two samples fused on one line) and
    records their line numbers in ``meta["dropped_lines"]``.
    """
    path = Path(path)
    if not is_ascii_int(path.stem) or int(path.stem) >= len(CLASS_NAMES):
        raise MyoxaiError(f"{path}: expected a file named 0.txt … 7.txt (the gesture label)")
    data, dropped = read_numeric_rows(path, N_CHANNELS + 1, strict=strict, max_bytes=MAX_FILE_BYTES,
                                      what="a myo-readings gesture file")
    emg, labels = data[:, :N_CHANNELS], data[:, N_CHANNELS]
    out_of_range = (emg < -128) | (emg > 127) | (emg != np.round(emg))
    if out_of_range.any():
        line = int(np.argmax(out_of_range.any(axis=1))) + 1
        raise MyoxaiError(f"{path}, line {line}: EMG values must be integers in -128…127 (raw Myo int8)")
    allowed = {0, int(path.stem)}
    bad = ~np.isin(labels, list(allowed))
    if bad.any():
        line = int(np.argmax(bad)) + 1
        raise MyoxaiError(f"{path}, line {line}: label {labels[line - 1]:g} not in {sorted(allowed)}")
    session_dir = path.parent.name
    subject, _, session = session_dir.partition("-")
    meta = {"dataset": "myo-readings", "subject": subject,
            "session": int(session) if is_ascii_int(session) else session, "gesture_file": int(path.stem),
            "source": str(path), "units": "raw int8", "dropped_lines": dropped}
    stamps = synth_timestamps(len(emg) + len(dropped), FS)[kept_line_positions(len(emg), dropped)]
    return Recording(emg.astype(np.float32), stamps, FS, labels.astype(np.int64), CLASS_NAMES, meta)


def session_dirs(root: str | Path) -> list[Path]:
    """All ``<id>-<session>`` folders under ``root`` (which may be the session folder itself)."""
    root = Path(root)
    if list(root.glob("[0-9].txt")):
        return [root]
    base = root / "_readings_right_hand" if (root / "_readings_right_hand").is_dir() else root
    dirs = sorted(p for p in base.iterdir() if p.is_dir() and "-" in p.name) if base.is_dir() else []
    if not dirs:
        raise MyoxaiError(f"no session folders (<id>-<session>/0.txt …) under {root}; point it at the unpacked "
                          "myo-readings dataset or one session folder")
    return dirs


def load_session(folder: str | Path, seconds_per_file: float | None = None, strict: bool = True) -> Recording:
    """A session's eight files (0.txt … 7.txt) joined in label order into one continuous Recording.

    ``seconds_per_file`` keeps only the start of each file (e.g. for a small excerpt).
    """
    folder = Path(folder)
    files = sorted(folder.glob("*.txt"), key=lambda p: int(p.stem) if is_ascii_int(p.stem) else 99)
    files = [f for f in files if is_ascii_int(f.stem)]
    if not files:
        raise MyoxaiError(f"{folder} holds no <label>.txt files; is it a myo-readings session folder?")
    missing = sorted(set(range(len(CLASS_NAMES))) - {int(f.stem) for f in files})
    if missing:
        raise MyoxaiError(f"{folder} lacks gesture file(s) {', '.join(f'{m}.txt' for m in missing)}; a session has "
                          "all eight (0.txt … 7.txt) — re-download it, or open one gesture file on its own")
    parts = [load_file(f, strict=strict) for f in files]
    if seconds_per_file is not None:
        n = int(round(seconds_per_file * FS))
        parts = [p.slice(0, n) for p in parts]
    rec = concatenate(parts)
    rec.meta.update({"dataset": "myo-readings", "source": str(folder)})
    return rec
