"""The Adapt panel in the real window (pytest-qt), on the held-out recording rotated by one electrode.

The drift panel says RECALIBRATE (rotation); Quick adapt is applied and the drift panel returns to OK
because the adapted model's reference expects the compensated rotation; Undo restores exactly the
model before; Recalibrate walks preparing → running → offered → reverted, then offered → accepted,
with the buttons following the state at every step while decisions keep flowing.
"""

from __future__ import annotations

import multiprocessing
import time

import numpy as np
import pytest
import torch
from PyQt6 import QtCore

from myoxai.adapt import RecalibrationSettings
from myoxai.live.bundled import held_out_recording

torch.set_num_threads(1)
pytestmark = pytest.mark.timeout(600)
LEFT = QtCore.Qt.MouseButton.LeftButton


@pytest.fixture
def window(replay_window):
    rec = held_out_recording()
    rec.samples = np.roll(rec.samples, 1, axis=1)
    return replay_window(rec, speed=6, title="rotated replay")


def buttons(panel) -> dict[str, bool]:
    panel.refresh()
    return {name: getattr(panel, f"{name}_button").isEnabled()
            for name in ("quick", "start", "cancel", "accept", "revert", "undo")}


@pytest.mark.slow
def test_drift_quick_adapt_undo(qtbot, window):
    panel, engine = window.recalibrate, window.engine
    qtbot.waitUntil(lambda: engine.status().buffered_windows >= 1900, timeout=120_000)
    qtbot.waitUntil(lambda: window.drift.state == "recalibrate", timeout=60_000)
    assert window.drift.cause == "rotation" and "Recalibration advised" in panel.drift_prompt.text()
    assert buttons(panel) == {"quick": True, "start": True, "cancel": False, "accept": False, "revert": False,
                              "undo": False}
    before = engine.active.model
    qtbot.mouseClick(panel.quick_button, LEFT)
    assert panel.job.state().state == "adapting" and not buttons(panel)["quick"]  # the window does not wait
    qtbot.waitUntil(lambda: panel.job.state().state == "idle", timeout=30_000)
    assert panel.job.state().quick.accepted, panel.job.state().quick.check.summary()
    panel.refresh()
    assert "applied" in panel.message.text() and "+1.0" in panel.rotation.text()
    assert buttons(panel)["undo"] and not buttons(panel)["accept"]
    # the monitor now compares with what the adapted model expects: the residual rotation is near zero
    qtbot.waitUntil(lambda: window.drift.state == "ok" and bool(window.drift.components_now), timeout=60_000)
    assert abs(window.drift.components_now["rotation"]) < 0.3
    qtbot.mouseClick(panel.undo_button, LEFT)
    assert engine.active.model is before and "undone: quick adapt" in panel.message.text()
    assert not buttons(panel)["undo"]
    qtbot.waitUntil(lambda: window.drift.state == "recalibrate", timeout=60_000)  # the rotation shows again


@pytest.mark.slow
def test_recalibrate_state_machine(qtbot, window):
    panel, engine = window.recalibrate, window.engine
    panel.settings = RecalibrationSettings(max_epochs=2, patience=1)
    panel.niceness = 0
    qtbot.waitUntil(lambda: engine.status().buffered_windows >= 1900, timeout=120_000)
    before = engine.active.model
    for choice in ("revert", "accept"):
        t0 = time.monotonic()
        qtbot.mouseClick(panel.start_button, LEFT)
        assert time.monotonic() - t0 < 1.0  # the click returns at once; the work is in a thread
        assert panel.progress.value() > 0 and panel.message.text().startswith("preparing")
        assert buttons(panel) == {"quick": False, "start": False, "cancel": True, "accept": False,
                                  "revert": False, "undo": False}
        shown = window.decisions_shown
        qtbot.waitUntil(lambda: panel.job.state().state == "running", timeout=120_000)
        assert buttons(panel)["cancel"] and not buttons(panel)["accept"]
        qtbot.waitUntil(lambda: panel.job.state().state != "running", timeout=300_000)
        assert panel.job.state().state == "offered", panel.job.state()
        # Accept is enabled the moment the result is offered, and only Accept / Revert are
        assert buttons(panel) == {"quick": False, "start": False, "cancel": False, "accept": True,
                                  "revert": True, "undo": False}
        assert panel.progress.value() == 1000 and "→" in panel.result.text()
        assert window.decisions_shown > shown and not multiprocessing.active_children()
        offered = engine.active.model
        qtbot.mouseClick(getattr(panel, f"{choice}_button"), LEFT)
        assert panel.job.state().state == ("reverted" if choice == "revert" else "accepted")
        assert engine.active.model is (before if choice == "revert" else offered)
        assert buttons(panel) == {"quick": True, "start": True, "cancel": False, "accept": False,
                                  "revert": False, "undo": choice == "accept"}
    qtbot.mouseClick(panel.undo_button, LEFT)  # one Undo takes the whole Recalibrate back
    assert engine.active.model is before
    qtbot.waitUntil(lambda: window.last_decision is not None
                    and window.last_decision.model_version == engine.active.version, timeout=10_000)
