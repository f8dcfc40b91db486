"""A configured but unreachable display is a one-line error, not Qt's abort (exit 134)."""

from __future__ import annotations

import shutil
import subprocess
import sys

import pytest

from myoxai.errors import MyoxaiError
from myoxai.gui.display import check_display


def test_unreachable_display_is_a_myoxai_error(monkeypatch):
    monkeypatch.delenv("QT_QPA_PLATFORM", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    monkeypatch.setenv("DISPLAY", ":97")  # nothing listens there
    with pytest.raises(MyoxaiError, match="cannot open a window on display ':97'"):
        check_display()


def test_no_display_at_all_says_headless(monkeypatch):
    for var in ("QT_QPA_PLATFORM", "WAYLAND_DISPLAY", "DISPLAY"):
        monkeypatch.delenv(var, raising=False)
    with pytest.raises(MyoxaiError, match="--headless"):
        check_display()


@pytest.mark.skipif(shutil.which("xvfb-run") is None, reason="needs xvfb-run")
def test_a_real_display_passes():
    code = "import os; os.environ.pop('QT_QPA_PLATFORM', None); from myoxai.gui.display import check_display; " \
           "check_display(); print('passed')"
    proc = subprocess.run(["xvfb-run", "-a", sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120)
    assert "passed" in proc.stdout, proc.stderr
