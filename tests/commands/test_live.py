"""``myoxai live``: the headless line per decision, and the real window started under Xvfb with a screenshot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from myoxai.cli import main

REPO = Path(__file__).resolve().parents[2]


def test_headless_prints_one_line_per_decision(capsys):
    assert main(["live", "--headless", "--seconds", "2", "--speed", "2"]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].startswith("myoxai live: bundled recording (held-out part, looped)")
    lines = [line for line in out if line.startswith("t=")]
    assert len(lines) == 40  # 2 s of signal at one decision per 50 ms
    assert all("phi ch" in line and " ms" in line and "true=" in line for line in lines)
    assert out[-1].startswith("done: 40 decisions") and "accuracy" in out[-1]


def test_headless_replay_of_a_file_without_shapley(capsys, bundled_path):
    assert main(["live", "--headless", "--source", f"replay:{bundled_path}", "--speed", "max", "--seconds", "1",
                 "--no-shapley", "--vote", "1"]) == 0
    out = capsys.readouterr().out.splitlines()
    lines = [line for line in out if line.startswith("t=")]
    assert len(lines) == 20 and not any("phi" in line for line in lines)


def test_bad_options_are_user_errors(capsys):
    with pytest.raises(SystemExit) as exc:  # argparse rejects it: one usage line, exit code 2
        main(["live", "--headless", "--speed", "fast"])
    assert exc.value.code == 2
    assert "--speed: speed must be a number or 'max'" in capsys.readouterr().err
    assert main(["live", "--headless", "--source", "nonsense"]) == 2
    assert "unknown source" in capsys.readouterr().err


@pytest.mark.timeout(120)
@pytest.mark.slow
def test_app_under_xvfb_saves_a_screenshot(tmp_path):
    xvfb_run = shutil.which("xvfb-run")
    if xvfb_run is None:
        pytest.skip("Xvfb is not installed (apt-get install xvfb xauth libxcb-cursor0 libxcb-icccm4 libxcb-keysyms1 "
                    "libxcb-xinerama0 libxcb-image0 libxcb-render-util0 libxcb-randr0 libxcb-shape0 libxcb-xkb1 "
                    "libxkbcommon-x11-0): the app cannot be started on a virtual display")
    shot = tmp_path / "live.png"
    env = {k: v for k, v in os.environ.items() if k != "QT_QPA_PLATFORM"}  # a real X display, not offscreen
    proc = subprocess.run([xvfb_run, "-a", "-s", "-screen 0 1600x1000x24", sys.executable, "-m", "myoxai", "live",
                           "--quit-after", "6", "--screenshot", str(shot)],
                          capture_output=True, text=True, timeout=110, env=env, cwd=REPO)
    assert proc.returncode == 0, proc.stderr[-2000:]
    from PyQt6 import QtGui

    img = QtGui.QImage(str(shot))
    assert img.width() >= 1200 and img.height() >= 700
    colours = {img.pixel(x, y) for x in range(0, img.width(), 7) for y in range(0, img.height(), 7)}
    assert len(colours) > 50  # traces, bars, ring and matrix drew something, not a blank window
