"""The status line's two forms, and the elided label that shows them without widening the window."""

from __future__ import annotations

from myoxai.engine.status import EngineStatus
from myoxai.gui.status import status_text


def test_compact_form_is_short_and_keeps_what_matters():
    st = EngineStatus(state="running", source_state="streaming", latency_p50_ms=2.4, latency_p99_ms=15.9,
                      source_rate_hz=200.0, gaps=2, behind=True)
    full = status_text(st, "replay:/a/long/folder/rotated.xdf", 31.0, 33.0)
    short = status_text(st, "replay:/a/long/folder/rotated.xdf", 31.0, 33.0, compact=True)
    assert "latency p50 2.4 / p99 15.9 ms" in full and "lost 0" in full
    assert short == "rotated.xdf [streaming] | 200 Hz | gaps 2 | p50/p99 2/16 ms | CPU 31% | 33 fps | BEHIND"
    assert len(short) < len(full) / 2


def test_elided_label_keeps_the_whole_text_in_its_tooltip(qtbot):
    from myoxai.gui.elide import ElidedLabel

    label = ElidedLabel()
    qtbot.addWidget(label)
    label.resize(120, 20)
    label.show()
    text = "quick adapt applied: rotation +1.10 electrodes, re-normalised on 1800 windows"
    label.set_full_text(text)
    assert label.text() == text and label.toolTip() == text
    assert _drawn(label).endswith("…") and len(_drawn(label)) < len(text)
    assert label.minimumSizeHint().width() <= 10  # never widens the window
    label.resize(2000, 20)
    assert _drawn(label) == text and label.toolTip() == ""


def _drawn(label) -> str:  # noqa: N802 - what Qt draws (ElidedLabel.text() is the full text)
    from PyQt6 import QtWidgets

    return QtWidgets.QLabel.text(label)
