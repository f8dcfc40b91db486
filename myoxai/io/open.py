"""Open whatever a user points at as Recordings, and find the files bundled with the package.

That is an XDF file, a myo-readings session or file, a long-term trial, a Myo Armband round or
hold, or a LibEMG session folder.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

from myoxai.errors import MyoxaiError
from myoxai.io import kanoga, libemg, myo_armband, myo_readings
from myoxai.io.recording import Recording, concatenate
from myoxai.io.xdf import read_recording


def bundled_file(name: str) -> Path:
    """A file shipped as package data in ``myoxai.assets``: the repository's ``recordings/`` folder.

    ``myoxai/assets`` is a link to ``recordings/`` in a clone; a wheel carries the files themselves
    (``[tool.setuptools.package-data]``), so an install without the clone finds them too.
    """
    return Path(str(resources.files("myoxai.assets") / name)).resolve()


# The real excerpt shipped with myoxai (recordings/README.md); the default for demos and benchmarks.
BUNDLED_RECORDING = bundled_file("myo_readings_12548-1.xdf")


def open_recording(path: str | Path, strict: bool = True) -> Recording:
    """One continuous Recording from a file or folder.

    - ``*.xdf``: the EMG stream and its markers;
    - a myo-readings session folder (``<id>-<session>/``) or one ``<label>.txt`` file;
    - a long-term dataset day folder (``dayD/``: its trials joined in motion/trial order) or one ``DdMmTt.csv``;
    - a Myo Armband dataset round folder (``training0/``, ``Test0/``, ``Test1/``: its 28 holds in file order)
      or one ``classe_<i>.dat``;
    - a LibEMG session folder (``R_<rep>_C_<class>_EMG.csv`` files, see ``myoxai.io.libemg``).
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
    if libemg.is_session(p):
        return libemg.read_session(p, strict=strict)
    raise MyoxaiError(f"{p}: folder holds neither a myo-readings session (0.txt …), long-term trials (DdMmTt.csv), "
                      "a Myo Armband round (classe_<i>.dat) nor a LibEMG session (R_<rep>_C_<class>_EMG.csv)")


def _trial_order(path: Path) -> tuple[int, ...]:
    m = kanoga._NAME.match(path.name)
    return tuple(int(g) for g in m.groups()) if m else (10**6,)
