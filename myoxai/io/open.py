"""Open whatever a user points at as Recordings.

That is an XDF file, a myo-readings session or file, a long-term trial, or a Myo Armband round or
hold.
"""

from __future__ import annotations

from pathlib import Path

from myoxai.errors import MyoxaiError
from myoxai.io import kanoga, myo_armband, myo_readings
from myoxai.io.recording import Recording, concatenate
from myoxai.io.xdf import read_recording

# The real excerpt shipped in the repository (recordings/README.md); the default for demos and benchmarks.
BUNDLED_RECORDING = Path(__file__).resolve().parents[2] / "recordings" / "myo_readings_12548-1.xdf"


def open_recording(path: str | Path, strict: bool = True) -> Recording:
    """One continuous Recording from a file or folder.

    - ``*.xdf``: the EMG stream and its markers;
    - a myo-readings session folder (``<id>-<session>/``) or one ``<label>.txt`` file;
    - a long-term dataset day folder (``dayD/``: its trials joined in motion/trial order) or one ``DdMmTt.csv``;
    - a Myo Armband dataset round folder (``training0/``, ``Test0/``, ``Test1/``: its 28 holds in file order)
      or one ``classe_<i>.dat``.
    """
    p = Path(path)
    try:
        return _open(p, strict)
    except OSError as exc:  # a name too long, no permission, an I/O error: one line naming the file
        raise MyoxaiError(f"cannot read {p}: {exc.strerror or exc}") from None


def _open(p: Path, strict: bool) -> Recording:
    if not p.exists():
        raise MyoxaiError(f"{p} does not exist" + (" (a broken link)" if p.is_symlink() else ""))
    if not (p.is_file() or p.is_dir()):
        raise MyoxaiError(f"{p} is not a regular file or folder (a device or pipe?); give a recording")
    if p.is_file():
        if p.suffix.lower() in (".xdf", ".xdfz"):
            return read_recording(p)
        if p.suffix == ".txt":
            return myo_readings.load_file(p, strict=strict)
        if p.suffix == ".csv":
            return kanoga.load_trial(p, strict=strict)
        if p.suffix == ".dat":
            return myo_armband.load_file(p)
        raise MyoxaiError(f"{p}: unknown file type; expected .xdf, a myo-readings <label>.txt, a DdMmTt.csv trial "
                          "or a Myo Armband classe_<i>.dat")
    if list(p.glob("[0-9].txt")):
        return myo_readings.load_session(p, strict=strict)
    trials = sorted(p.glob("D*M*T*.csv"), key=_trial_order)
    if trials:
        return concatenate([kanoga.load_trial(t, strict=strict) for t in trials])
    if list(p.glob("classe_*.dat")):
        return myo_armband.open_round(p)
    raise MyoxaiError(f"{p}: folder holds neither a myo-readings session (0.txt …), long-term trials (DdMmTt.csv) "
                      "nor a Myo Armband round (classe_<i>.dat)")


def _trial_order(path: Path) -> tuple[int, ...]:
    m = kanoga._NAME.match(path.name)
    return tuple(int(g) for g in m.groups()) if m else (10**6,)
