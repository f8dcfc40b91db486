"""A lab's own sessions as a dataset: one folder per person, one recording per session, in recording order.

Two layouts: ``recordings`` — ``<root>/<person>/<session>.xdf`` as ``myoxai record`` and the calibration
wizard write them — and ``libemg`` — ``<root>/<person>/<session>/`` LibEMG session folders. A person's
sessions are numbered 1, 2, … by the time they were recorded (the XDF file header's ``datetime``, which
LabRecorder and myoxai write; LibEMG's ``collection_details.json`` ``time``); a session that records no
time sorts after the dated ones, by name. Repetitions (leave-one-repetition-out) are LibEMG's files, or
in an XDF the k-th run of each gesture.
"""

from __future__ import annotations

import json
import re
import struct
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import numpy as np

from myoxai.errors import MyoxaiError
from myoxai.io import libemg
from myoxai.io.recording import Recording

LAYOUTS = ("recordings", "libemg")
_DATETIME = re.compile(rb"<datetime>([^<]{1,64})</datetime>")


@dataclass(frozen=True)
class Session:
    """One recorded session of one person."""

    person: str
    index: int  # 1-based, in recording order
    path: Path
    recorded_at: str | None  # ISO 8601 as stored in the file, or None

    def load(self) -> Recording:
        """The session as one Recording (an XDF file or a LibEMG folder)."""
        from myoxai.io.open import open_recording

        rec = open_recording(self.path)
        rec.meta.update({"person": self.person, "session": self.index})
        return rec


def xdf_datetime(path: str | Path) -> str | None:
    """The ``<datetime>`` of an XDF file header (LabRecorder's and myoxai's), read from the first chunk only."""
    with open(path, "rb") as f:
        head = f.read(4096)
    if head[:4] != b"XDF:" or len(head) < 6 or head[4] not in (1, 4, 8):
        return None
    n = head[4]
    length = int.from_bytes(head[5:5 + n], "little")
    if struct.unpack("<H", head[5 + n:7 + n])[0] != 1:  # tag 1: FileHeader
        return None
    m = _DATETIME.search(head[7 + n:5 + n + length])
    return m.group(1).decode("ascii", "replace").strip() if m else None


def _libemg_time(folder: Path) -> str | None:
    try:
        value = json.loads((folder / libemg.METADATA).read_text()).get("time")
    except (OSError, ValueError, AttributeError):
        return None
    return value if isinstance(value, str) else None


def _sort_key(item: tuple[Path, str | None]) -> tuple:
    path, when = item
    try:
        stamp = datetime.fromisoformat(when).timestamp() if when else None
    except ValueError:
        stamp = None
    return (stamp is None, stamp or 0.0, path.name)


def find_sessions(root: str | Path, layout: str) -> dict[str, list[Session]]:
    """``{person: [session 1, session 2, …]}`` under ``root`` in ``layout`` (``recordings`` or ``libemg``)."""
    root = Path(root).expanduser()
    if layout not in LAYOUTS:
        raise MyoxaiError(f"unknown session layout {layout!r}; choose from {', '.join(LAYOUTS)}")
    if not root.is_dir():
        raise MyoxaiError(f"{root} is not a folder; give the folder that holds one folder per person")
    out: dict[str, list[Session]] = {}
    for person in sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".")):
        if layout == "recordings":
            found = [(p, xdf_datetime(p)) for p in person.glob("*.xdf") if p.is_file()]
        else:
            found = [(p, _libemg_time(p)) for p in person.iterdir() if libemg.is_session(p)]
        if found:
            out[person.name] = [Session(person.name, i, p, when)
                                for i, (p, when) in enumerate(sorted(found, key=_sort_key), start=1)]
    if not out:
        what = "<person>/<session>.xdf files" if layout == "recordings" else "<person>/<session>/ LibEMG folders"
        raise MyoxaiError(f"no {what} under {root}; --root is the folder holding one folder per person")
    return out


def repetitions(rec: Recording) -> np.ndarray:
    """Each sample's repetition number (-1 where unlabelled).

    A LibEMG session keeps its files' repetition numbers (``meta['parts']``); otherwise the k-th
    run of a gesture is its repetition k (0-based), rest runs counted like any gesture.
    """
    if rec.labels is None:
        raise MyoxaiError(f"{rec.meta.get('source', 'the recording')} has no gesture labels")
    reps = np.full(len(rec), -1, dtype=np.int64)
    parts = rec.meta.get("parts") or []
    if parts and all("repetition" in m for _, m in parts):
        bounds = [start for start, _ in parts] + [len(rec)]
        for (start, m), stop in zip(parts, bounds[1:], strict=True):
            reps[start:stop] = int(m["repetition"])
    else:
        seen: dict[int, int] = {}
        for start, stop, label in rec.segments():
            if label >= 0:
                reps[start:stop] = seen[label] = seen.get(label, -1) + 1
    reps[rec.labels < 0] = -1
    return reps
