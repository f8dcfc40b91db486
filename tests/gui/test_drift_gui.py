"""Drift monitor on the bundled replay, through the engine and the GUI panel (pytest-qt, offscreen).

The rotated replay circularly shifts the bundled recording's electrodes by one; it must reach
"recalibrate" within 30 s of signal, naming rotation. The unrotated replay stays OK throughout.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch
from PyQt6 import QtCore

from myoxai.engine import Engine
from myoxai.live.bundled import BUNDLED_MODEL, held_out_recording
from myoxai.models import load_model
from myoxai.sources.replay import ReplaySource

torch.set_num_threads(1)
pytestmark = pytest.mark.timeout(300)


def rotated(rec, electrodes: int):
    rec = rec.slice(0, len(rec))
    rec.samples = np.roll(rec.samples, electrodes, axis=1)
    return rec


def _run(qtbot, rec):
    """The whole window on an unpaced replay; returns it (stopped) and the trend its drift panel received."""
    from myoxai.gui.main_window import MainWindow

    engine = Engine(ReplaySource(rec, speed=0), load_model(BUNDLED_MODEL), drift=True)
    win = MainWindow(engine, "replay", None)
    qtbot.addWidget(win)
    win.show()
    win.start()
    qtbot.waitUntil(lambda: not engine.running, timeout=240_000)
    win._slow_t = 0.0
    win.tick()  # a last frame: panels, prompt and status bar from the final state
    win.timer.stop()
    return win, [(t, a.score, a.state, a.cause) for t, a in win.drift.trend]


def test_rotated_replay_reaches_recalibrate_naming_rotation(qtbot):
    win, trend = _run(qtbot, rotated(held_out_recording(), 1))
    t0 = trend[0][0] - 1.0  # the first assessment comes one second of signal after the first decision
    first = next((t - t0, cause) for t, _, state, cause in trend if state == "recalibrate")
    assert first[0] <= 30.0 and first[1] == "rotation"
    assert all(cause == "rotation" for _, _, state, cause in trend if state == "recalibrate")
    assert win.drift.state == "recalibrate"
    shown = re.search(r"rotated by ([+-][0-9.]+) electrode", win.drift.state_label.text())
    assert shown and float(shown.group(1)) == pytest.approx(1.0, abs=0.3)  # the signed estimate, as displayed
    assert "rotated" in win.recalibrate.drift_prompt.text()  # the prompt beside the Recalibrate button
    assert win.drift.latest is win.engine.drift_stage.latest and win.drift.latest.components["rotation"] > 0.5
    assert "real-time accuracy" in win.status_label.text()  # a labelled replay
    win.close()


def test_unrotated_replay_stays_ok(qtbot):
    win, trend = _run(qtbot, held_out_recording())
    assert len(trend) > 60 and {state for _, _, state, _ in trend} == {"ok"}
    assert win.drift.state == "ok" and "OK" in win.drift.state_label.text()
    assert win.recalibrate.drift_prompt.text() == ""
    acc = win.accuracy.accuracy
    assert acc is not None and f"{100 * acc:.1f} %" in win.status_label.text()
    win.close()


def test_motion_test_dialog_live_prompts_and_labels(qtbot, tmp_path):
    """The dialog walks a short live schedule on a running replay, then scores the replay's labels."""
    from myoxai.gui.motion_test_dialog import MotionTestDialog
    from myoxai.io import read_recording

    rec = held_out_recording()
    engine = Engine(ReplaySource(rec.slice(2400, len(rec)), speed=1, loop=True), load_model(BUNDLED_MODEL),
                    explain=False)
    from myoxai.gui import motion_test_dialog

    motion_test_dialog.REMEMBERED.clear()
    dlg = MotionTestDialog(engine)
    qtbot.addWidget(dlg)
    engine.start()
    try:
        assert dlg.mode.currentData() == "labels"  # a labelled replay: its labels by default
        y0, y1 = dlg.results.bars.getViewBox().viewRange()[1]
        assert (y0, y1) == (0, dlg.hold.value())  # the empty plot's axis is the hold limit, not ±400 × 0.001
        dlg.mode.setCurrentIndex(0)
        dlg.repetitions.setValue(1)
        dlg.hold.setValue(0.6)
        dlg.rest.setValue(0.2)
        dlg.k.setValue(2)
        dlg.record.setText(str(tmp_path / "mt.xdf"))
        dlg.start()
        qtbot.waitUntil(lambda: dlg.session is None, timeout=60_000)  # 7 gestures × 0.8 s
        doc = dlg.results.doc
        assert doc is not None and doc["trials"] == 7 and len(doc["gestures"]) == 7
        assert dlg.results.table.rowCount() == 8 and dlg.save_button.isEnabled()
        assert dlg.results.table.item(0, 0).text() == "1 " + list(doc["gestures"])[0]  # full names, numbered
        onsets = [t["onset_s"] for t in doc["per_trial"]]
        assert 0 <= onsets[0] < 2 and onsets == sorted(onsets) and onsets[-1] < 10  # seconds from the start
        assert read_recording(tmp_path / "mt.xdf").labels is not None  # prompts are the file's gesture markers
        dlg.save(tmp_path / "mt.json")
        assert (tmp_path / "mt.png").exists()
        dlg.mode.setCurrentIndex(1)  # the replay's own labels
        dlg.duration.setValue(12.0)
        dlg.record.setText("")
        dlg.start()
        qtbot.waitUntil(lambda: dlg.session is None, timeout=60_000)
        doc = dlg.results.doc
        assert doc["trials"] >= 1 and doc["realtime_accuracy"] is not None
        assert 0 <= doc["per_trial"][0]["onset_s"] < 12
        again = MotionTestDialog(engine)  # the mode chosen last is remembered
        qtbot.addWidget(again)
        assert again.mode.currentData() == "labels"
        again.mode.setCurrentIndex(0)
        assert MotionTestDialog(engine).mode.currentData() == "live"
        again.show()
        qtbot.keyClick(again, QtCore.Qt.Key.Key_Escape)
        assert not again.isVisible()
        dlg.show()
        qtbot.mouseClick(dlg.close_button, QtCore.Qt.MouseButton.LeftButton)
        assert not dlg.isVisible()
    finally:
        engine.stop()
