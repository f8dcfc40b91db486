"""Is there a screen Qt can open? Asked before the window is built, because Qt aborts when there is not.

Qt reports an unreachable display by calling ``abort()`` (exit 134, no Python exception), so the
only safe way to ask is to let a short-lived child process try. The child costs well under a
second and only runs when a display is configured; with none configured the answer is immediate.
"""

from __future__ import annotations

import os
import subprocess
import sys

from myoxai.errors import MyoxaiError

_PROBE = "from PyQt6.QtGui import QGuiApplication; QGuiApplication([]); print('ok')"


def check_display(timeout: float = 20.0) -> None:
    """Raise ``MyoxaiError`` (saying what to do) when Qt cannot open a window here."""
    platform = os.environ.get("QT_QPA_PLATFORM", "")
    if platform.startswith(("offscreen", "minimal", "vnc")):
        return  # needs no screen
    if not (os.environ.get("DISPLAY") or os.environ.get("WAYLAND_DISPLAY") or platform):
        raise MyoxaiError("no display found (DISPLAY is not set): run `myoxai live --headless` for a line per "
                          "decision in this terminal, or start it under a display (e.g. xvfb-run myoxai live)")
    try:
        proc = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        proc = None
    if proc is None or proc.returncode != 0 or "ok" not in proc.stdout:
        where = os.environ.get("WAYLAND_DISPLAY") or os.environ.get("DISPLAY") or platform
        raise MyoxaiError(f"cannot open a window on display {where!r} (Qt could not connect to it): check that "
                          "the X/Wayland server runs and DISPLAY is right, or run `myoxai live --headless` "
                          "(or xvfb-run myoxai live)")
