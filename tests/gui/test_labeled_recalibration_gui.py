"""The 35-s labeled recalibration offscreen (pytest-qt): opened from the Adapt panel on the bundled replay, the
wizard's quick mode prompts the current model's gestures, ``recalibrate_35s`` fine-tunes that model in a worker
thread, its held-out accuracy is shown (below 80 % the app asks first), it is applied as one action and Undo
returns the model before. The drift prompt proposes Quick adapt first, then the 35-s recalibration."""

from __future__ import annotations

import pytest
import torch
from PyQt6 import QtCore

from myoxai.gui import recalibrate_panel
from myoxai.gui.wizard import CalibrationWizard
from myoxai.live.bundled import BUNDLED_MODEL
from myoxai.models import load_model

torch.set_num_threads(1)
pytestmark = pytest.mark.timeout(240)


@pytest.fixture
def window(replay_window):
    return replay_window()


@pytest.mark.slow
def test_labeled_recalibration_from_the_panel_is_offered_applied_and_undone(qtbot, window, tmp_path, monkeypatch):
    from myoxai.io import read_recording

    monkeypatch.setenv("MYOXAI_HOME", str(tmp_path / "home"))
    panel, before = window.recalibrate, window.engine.active.model
    classes = window.engine.class_names
    qtbot.waitUntil(lambda: len(window.engine.buffer) >= 40, timeout=30_000)  # Quick adapt's rotation estimate
    panel.refresh()
    assert panel.labeled_button.isEnabled() and panel.labeled_button.text() == "Recalibrate with labels (35 s)"
    qtbot.mouseClick(panel.labeled_button, QtCore.Qt.MouseButton.LeftButton)
    wizard = next(w for w in window.findChildren(CalibrationWizard))
    qtbot.addWidget(wizard)
    assert wizard.start_model is before and "35 s" in wizard.windowTitle()
    # the prompts are the current model's gestures, in the quick mode (one hold each + a held-out hold)
    assert wizard.quick.isChecked() and not wizard.quick.isEnabled()
    assert wizard.chosen_gestures() == [c for c in classes if c != "rest"]
    gestures = wizard.chosen_gestures()  # all of them: a gesture left out would be forgotten
    item = wizard.gesture_list.item(0)
    assert not item.flags() & QtCore.Qt.ItemFlag.ItemIsUserCheckable
    wizard.hold.setValue(2.0)  # short holds keep the test fast
    wizard.rest.setValue(0.5)
    wizard.lead_in.setValue(0.5)
    path = tmp_path / "recal.xdf"
    wizard.path_edit.setText(str(path))
    qtbot.mouseClick(wizard.start_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.session.done.is_set(), timeout=60_000)
    rec = read_recording(path)
    assert [rec.class_names[lab] for _, _, lab in rec.segments() if lab != 0] == gestures * 2
    qtbot.waitUntil(lambda: wizard.close_button.isEnabled(), timeout=120_000)
    state = wizard.training.state()
    assert state.state == "done", state
    model, data, metrics = wizard.training.result
    assert 0.0 <= metrics["test_accuracy"] <= 1.0 and metrics["n_test_windows"] > 0
    assert 0.0 <= metrics["test_accuracy_before"] <= 1.0 and "calibration model:" in wizard.train_message.text()
    assert "held-out hold" in wizard.train_message.text() and "%" in wizard.train_message.text()
    assert data is panel.source_data  # Recalibrate stays anchored to the calibration data
    # fine-tuned from the current model: same gestures, first layer frozen, later layers moved
    assert model is not before and model.class_names == classes
    assert torch.equal(model.convs[0].weight, before.convs[0].weight)
    assert not all(torch.equal(a, b) for a, b in zip(model.parameters(), before.parameters(), strict=True))
    assert model.description["labeled_recalibration"]["test_accuracy"] == metrics["test_accuracy"]
    if metrics["test_accuracy"] < 0.8:  # the replay does not follow the prompts: the app must ask first
        assert window.engine.active.model is before and wizard.load_button.isVisible()
        assert "below 80%" in wizard.train_message.text()
        qtbot.mouseClick(wizard.load_button, QtCore.Qt.MouseButton.LeftButton)
    assert window.engine.active.model is model  # applied as one action
    qtbot.waitUntil(lambda: window.last_decision is not None and window.last_decision.class_names == classes,
                    timeout=10_000)
    panel.refresh()
    assert panel.undo_button.isEnabled() and "35-s recalibration" in panel.undo_button.toolTip()
    qtbot.mouseClick(panel.undo_button, QtCore.Qt.MouseButton.LeftButton)
    assert window.engine.active.model is before
    assert panel.history.last is None  # nothing else was changed: Undo took back exactly this action


def test_drift_prompt_proposes_quick_adapt_then_the_labeled_recalibration(qtbot, window, monkeypatch):
    panel = window.recalibrate
    qtbot.waitUntil(lambda: len(window.engine.buffer) >= 200, timeout=60_000)
    panel.show_drift("armband rotated by +1.0 electrodes")
    assert "Quick adapt first" in panel.drift_prompt.text()
    assert "bold" in panel.quick_button.styleSheet() and panel.labeled_button.styleSheet() == ""
    qtbot.mouseClick(panel.quick_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: panel.job.state().quick is not None, timeout=30_000)
    panel.refresh()
    panel.show_drift("armband rotated by +1.0 electrodes")  # just after Quick adapt: the monitor re-measures
    assert "re-measuring" in panel.drift_prompt.text() and panel.labeled_button.styleSheet() == ""
    monkeypatch.setattr(recalibrate_panel, "SETTLE_S", 0.0)  # the state stayed RECALIBRATE after Quick adapt
    panel.show_drift("armband rotated by +1.0 electrodes")
    assert "Recalibrate with labels (35 s)" in panel.drift_prompt.text()
    assert "bold" in panel.labeled_button.styleSheet() and panel.quick_button.styleSheet() == ""
    panel.show_drift("")  # back to OK: no prompt
    assert not panel.drift_prompt.isVisibleTo(panel) and panel.labeled_button.styleSheet() == ""


@pytest.mark.parametrize(("after", "before", "loaded"), [(0.95, 0.9, True), (0.9, 0.95, False), (0.7, 0.6, False)])
def test_the_wizard_asks_before_a_recalibration_worse_than_the_model_it_started_from(qtbot, window, after, before,
                                                                                     loaded):
    from myoxai.live.calibration import TrainingJob

    old = window.engine.active.model
    model = load_model(BUNDLED_MODEL)
    wizard = window.open_labeled_recalibration()
    qtbot.addWidget(wizard)
    metrics = {"test_accuracy": after, "test_accuracy_before": before, "summary": "held-out hold", "n_train_windows": 1}
    wizard.training = TrainingJob("unused.xdf", trainer=lambda progress: (model, None, metrics))
    wizard.training.start()
    assert wizard.training.wait(10.0)
    wizard._offer_model("held-out hold")
    assert (window.engine.active.model is model) is loaded and wizard.load_button.isHidden() is loaded
    if not loaded:
        assert window.engine.active.model is old
        reason = "current model's 95.0 %" if after >= 0.8 else "below 80%"
        assert reason in wizard.train_message.text()
