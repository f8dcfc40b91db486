"""The wizard's full mode offscreen (pytest-qt): "start from the pre-trained model" follows the module switch,
is only offered in the full mode, and when ticked the training starts from the pre-trained weights."""

from __future__ import annotations

import hashlib

import pytest
import torch
from PyQt6 import QtCore

torch.set_num_threads(1)
pytestmark = pytest.mark.timeout(120)


@pytest.fixture
def engine():
    """An engine over the bundled replay, unpaced (the session's clock is the source's: it ends in moments)."""
    from myoxai.engine import Engine
    from myoxai.live.bundled import BUNDLED_MODEL, held_out_recording
    from myoxai.models import load_model
    from myoxai.sources.replay import ReplaySource

    eng = Engine(ReplaySource(held_out_recording(), speed=0, loop=True), load_model(BUNDLED_MODEL), explain=False)
    eng.start()
    yield eng
    eng.stop()


@pytest.mark.parametrize("switch", [False, True])
def test_the_checkbox_follows_the_switch_and_the_mode(qtbot, engine, monkeypatch, switch):
    from myoxai.gui.wizard import CalibrationWizard
    from myoxai.live import calibration

    monkeypatch.setattr(calibration, "START_FROM_PRETRAINED", switch)
    wizard = CalibrationWizard(engine, lambda *a: None)
    qtbot.addWidget(wizard)
    assert wizard.from_pretrained.isChecked() is switch
    assert wizard.quick.isChecked() and not wizard.from_pretrained.isEnabled()  # the quick mode fine-tunes anyway
    wizard.quick.setChecked(False)
    assert wizard.from_pretrained.isEnabled()
    missing = CalibrationWizard(engine, lambda *a: None, pretrained="/nonexistent/pre.safetensors")
    qtbot.addWidget(missing)
    assert not missing.from_pretrained.isEnabled() and not missing.from_pretrained.isChecked()
    assert "not available" in missing.from_pretrained.toolTip() and missing.init_from() is None


@pytest.mark.slow  # about 6 s: torch's optimiser machinery loads on first use (≈ 3 s)
def test_full_mode_with_the_checkbox_trains_from_the_pretrained_weights(qtbot, engine, tmp_path):
    from myoxai.gui.wizard import CalibrationWizard
    from myoxai.live.quick_calibration import PRETRAINED_MODEL
    from myoxai.models import build_model

    got = []
    wizard = CalibrationWizard(engine, lambda *a: got.append(a), epochs=1)
    qtbot.addWidget(wizard)
    for i in range(wizard.gesture_list.count()):  # two gestures, short holds
        item = wizard.gesture_list.item(i)
        item.setCheckState(QtCore.Qt.CheckState.Checked if item.text() in ("flexion", "fist")
                           else QtCore.Qt.CheckState.Unchecked)
    wizard.quick.setChecked(False)
    wizard.from_pretrained.setChecked(True)
    wizard.repetitions.setValue(2)
    wizard.hold.setValue(1.0)
    wizard.rest.setValue(0.5)
    wizard.lead_in.setValue(0.5)
    wizard.path_edit.setText(str(tmp_path / "session.xdf"))
    qtbot.mouseClick(wizard.start_button, QtCore.Qt.MouseButton.LeftButton)
    qtbot.waitUntil(lambda: wizard.close_button.isEnabled(), timeout=60_000)
    assert wizard.training.state().state == "done", wizard.training.state()
    assert wizard.training.init_from == PRETRAINED_MODEL
    model = wizard.training.result[0]
    fresh = build_model("allconvnet", 3, seed=0, channels=(8, 16, 16, 32))
    assert not torch.equal(model.convs[0].weight, fresh.convs[0].weight)
    init = model.description["training"]["init_from"]
    assert init["path"] == str(PRETRAINED_MODEL) and init["head"] == "new"
    assert init["sha256"] == hashlib.sha256(PRETRAINED_MODEL.read_bytes()).hexdigest()
