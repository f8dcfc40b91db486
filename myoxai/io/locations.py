"""Where myoxai keeps a user's own files: ``~/myoxai`` (or ``$MYOXAI_HOME``), recordings per person.

Layout: ``<home>/recordings/<person>/<kind>-<YYYYmmdd-HHMMSS>.xdf``. The app never writes into the
current folder unless the user picks it: run from a source checkout, that would be the repository.
"""

from __future__ import annotations

import getpass
import os
import re
import time
from pathlib import Path

HOME_ENV = "MYOXAI_HOME"


def user_home() -> Path:
    """``$MYOXAI_HOME`` if set, else ``~/myoxai`` (not created here)."""
    return Path(os.environ.get(HOME_ENV) or Path.home() / "myoxai").expanduser()


def person_name(name: str | None = None) -> str:
    """A folder-safe person name: ``name`` (letters, digits, ``-``, ``_``, ``.`` kept), else the login name."""
    raw = (name or "").strip() or _login()
    safe = re.sub(r"[^\w.-]+", "-", raw).strip("-.")
    return safe or "me"


def recordings_dir(person: str | None = None) -> Path:
    """``<home>/recordings/<person>`` (not created here)."""
    return user_home() / "recordings" / person_name(person)


def new_recording_path(kind: str, person: str | None = None) -> Path:
    """A fresh, time-stamped ``.xdf`` path in the person's recordings folder, e.g. for a calibration."""
    return recordings_dir(person) / time.strftime(f"{kind}-%Y%m%d-%H%M%S.xdf")


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no user name in the environment or the password database
        return "me"
