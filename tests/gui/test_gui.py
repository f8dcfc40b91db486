"""The real window, offscreen (pytest-qt): a replay of the bundled recording drives the label, the bars,
the ring and the matrix; the wizard records a short session to a valid XDF and loads the trained model."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PyQt6 import QtCore

from myoxai.engine import REJECTED, Engine
from myoxai.gui.main_window import MainWindow
from myoxai.live.bundled import BUNDLED_MODEL, bundled_source_data, held_out_recording
from myoxai.models import load_model
from myoxai.sources.replay import ReplaySource

torch.set_num_threads(1)
pytestmark = pytest.mark.timeout(240)


@pytest.fixture(scope="module")
def held_out():
    return held_out_recording()


@pytest.fixture(scope="module")
def source_data():
    return bundled_source_data()


@pytest.fixture
def window(qtbot, held_out, source_data):
    # from the second gesture file on, so the buffer soon holds more than rest
    engine = Engine(ReplaySource(held_out.slice(2400, len(held_out)), speed=2, loop=True), load_model(BUNDLED_MODEL))
    win = MainWindow(engine, "test replay", source_data)
    qtbot.addWidget(win)
    win.show()
    win.start()
    yield win
    win.close()


def test_decisions_reach_label_bars_ring_and_matrix(qtbot, window):
    qtbot.waitUntil(lambda: window.decisions_shown > 40, timeout=30_000)
    window.timer.stop()
    qtbot.waitUntil(lambda: window.engine.status().decisions > window.decisions_shown, timeout=10_000)
    window.engine.stop()  # freeze the stream so the frame below can be compared exactly
    window.tick()  # one frame with fresh decisions, then compare what is drawn with what was published
    d = window.last_decision
    names = window.engine.class_names
    assert window.gesture.label.text() == (names[d.label] if d.label != REJECTED else "— (unsure)")
    np.testing.assert_allclose(window.gesture.bars.opts["width"], d.probabilities)
    np.testing.assert_allclose(window.ring.phi, d.phi[d.raw_label])
    assert window.ring.total == pytest.approx(float(d.total[d.raw_label]))
    assert window.matrix.counts.sum() == window.decisions_shown
    row = window.matrix.mean[d.raw_label]
    assert np.all(np.isfinite(row))
    # the ring's geometry: electrode 1 at the top, electrode 3 at 3 o'clock (clockwise)
    c = QtCore.QPointF(window.ring.width() / 2, window.ring.height() / 2)
    r = min(window.ring.width(), window.ring.height()) / 2 * 0.75
    assert window.ring.sector_at(QtCore.QPointF(c.x(), c.y() - r)) == 0
    assert window.ring.sector_at(QtCore.QPointF(c.x() + r, c.y())) == 2
    assert window.ring.sector_at(c) is None
    samples, _ = window.engine.peek_emg(1000)
    xs, ys = window.emg.curves[0].getData()
    assert len(xs) == len(samples) and ys[-1] == pytest.approx(samples[-1, 0]) and xs[-1] == 0
    assert "latency p50" in window.status_label.toolTip() and "p99" in window.status_label.text()  # compact when narrow


def test_post_processing_controls_change_the_engine(qtbot, window):
    window.vote.setValue(9)
    window.threshold.setValue(0.99)
    assert window.engine.post.vote == 9 and window.engine.post.threshold == pytest.approx(0.99)


@pytest.mark.slow
def test_wizard_records_a_valid_xdf_and_loads_the_trained_model(qtbot, window, tmp_path):
    from myoxai.io import read_recording

    window.wizard_epochs = 2
    wizard = window.open_wizard()
    qtbot.addWidget(wizard)
    for i in range(wizard.gesture_list.count()):  # two gestures, short holds
        item = wizard.gesture_list.item(i)
        item.setCheckState(QtCore.Qt.CheckState.Checked if item.text() in ("flexion", "fist")
                           else QtCore.Qt.CheckState.Unchecked)
    wizard.quick.setChecked(False)  # the full mode (the quick one is tested in test_quick_calibration_gui.py)
    wizard.repetitions.setValue(2)
    wizard.hold.setValue(1.0)
    wizard.rest.setValue(0.5)
    wizard.lead_in.setValue(0.5)
    path = tmp_path / "session.xdf"
    wizard.path_edit.setText(str(path))
    qtbot.mouseClick(wizard.start_button, QtCore.Qt.MouseButton.LeftButton)
    assert wizard.stack.currentIndex() == 1
    qtbot.waitUntil(lambda: wizard.prompt.text() in ("FLEXION", "FIST"), timeout=10_000)
    qtbot.waitUntil(lambda: wizard.session.done.is_set(), timeout=20_000)
    rec = read_recording(path)
    assert rec.class_names == ("rest", "flexion", "fist")
    ts = rec.timestamps  # the schedule runs on the source clock (this replay runs at 2x)
    assert ts[-1] - ts[0] == pytest.approx(wizard.session.total_s, abs=0.05)
    hold = [(rec.class_names[lab], ts[b] - ts[a] if b < len(ts) else ts[-1] - ts[a])
            for a, b, lab in rec.segments()]
    assert [h for h, _ in hold] == ["rest", "flexion", "rest", "fist", "rest", "flexion", "rest", "fist", "rest"]
    assert all(s == pytest.approx(1.0, abs=0.01) for g, s in hold if g != "rest"), hold
    qtbot.waitUntil(lambda: wizard.close_button.isEnabled(), timeout=120_000)
    assert wizard.training.state().state == "done", wizard.training.state()
    if wizard.held_out_accuracy() < 0.8:  # asked first (tested in test_quick_calibration_gui.py)
        qtbot.mouseClick(wizard.load_button, QtCore.Qt.MouseButton.LeftButton)
    assert window.engine.class_names == ("rest", "flexion", "fist")
    assert window.recalibrate.source_data is not None
    qtbot.waitUntil(lambda: window.last_decision is not None and len(window.last_decision.probabilities) == 3,
                    timeout=10_000)
    assert window.gesture.bars.opts["width"].shape == (3,) and window.matrix.counts.shape == (3,)


def test_source_picker_switches_to_another_replay(qtbot, window, bundled_path):
    from myoxai.gui.dialogs import SourceDialog, spec_for
    from myoxai.live.setup import EngineOptions

    window.options = EngineOptions(speed=2)
    dialog = SourceDialog(window)
    dialog.kind.setCurrentIndex(1)
    dialog.argument.setText(str(bundled_path))
    assert dialog.spec() == spec_for("replay", str(bundled_path)) == f"replay:{bundled_path}"
    old = window.engine
    window.switch_source(dialog.spec())
    assert window.engine is not old and not old.running
    assert window.source_desc == f"replay:{bundled_path}"
    shown = window.decisions_shown
    qtbot.waitUntil(lambda: window.decisions_shown > shown + 10, timeout=20_000)


def test_production_source_switch_keeps_sinks_and_settings(qtbot, tmp_path, bundled_path):
    """The window ``myoxai live`` builds: after a source switch the decision log still fills and vote,
    threshold and Shapley setting are the command line's (or the user's latest), not defaults."""
    import json

    from myoxai.gui.app import make_window
    from myoxai.live.setup import EngineOptions

    log = tmp_path / "decisions.jsonl"
    win = make_window(EngineOptions(speed=2, explain=False, vote=3, threshold=0.2, log=log))
    qtbot.addWidget(win)
    win.start()
    try:
        qtbot.waitUntil(lambda: win.engine.status().decisions > 5, timeout=20_000)
        win.threshold.setValue(0.25)  # changed live by the user before the switch
        old = win.engine
        win.switch_source(f"replay:{bundled_path}")
        assert not old.running and win.engine is not old
        qtbot.waitUntil(lambda: win.engine.status().decisions > 20, timeout=20_000)
        engine = win.engine
        assert engine.post.vote == 3 and engine.post.threshold == pytest.approx(0.25)
        assert engine.active.explainer is None  # --no-shapley survives too
    finally:
        win.close()
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    headers = [i for i, r in enumerate(rows) if "classes" in r]
    assert len(headers) == 2, "the new engine did not get the decision log"
    after = rows[headers[1] + 1:]
    assert len(after) >= 20 and all("phi" not in r for r in after)
