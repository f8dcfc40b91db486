"""A started main window over a replay of the bundled recording (the GUI tests' common fixture)."""

from __future__ import annotations

import pytest

from myoxai.engine import Engine
from myoxai.gui.main_window import MainWindow
from myoxai.live.bundled import BUNDLED_MODEL, bundled_source_data, held_out_recording
from myoxai.models import load_model
from myoxai.sources.replay import ReplaySource


@pytest.fixture
def replay_window(qtbot):
    """``make(recording=None, speed=4, title=...)``: a shown, started window; closed after the test."""
    windows = []

    def make(recording=None, speed: float = 4, title: str = "test replay") -> MainWindow:
        rec = recording if recording is not None else held_out_recording()
        engine = Engine(ReplaySource(rec, speed=speed, loop=True), load_model(BUNDLED_MODEL), drift=True)
        win = MainWindow(engine, title, bundled_source_data())
        qtbot.addWidget(win)
        win.show()
        win.start()
        windows.append(win)
        return win

    yield make
    for win in windows:
        win.close()
