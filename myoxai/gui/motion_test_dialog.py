"""The Motion Test dialog: settings, the prompts one by one, then a results panel (per-gesture bars, confusion).

Live, a timer walks the prompt schedule (``myoxai.live.motion.scoring.prompt_schedule``) and tells the
``MotionSession`` when each prompt appears and ends, stamped on the source clock; on a labelled
replay it can instead score the recording's own label onsets for a chosen number of seconds. The
engine keeps running throughout; the dialog only reads the session's collected decisions.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtCore, QtWidgets

from myoxai.errors import MyoxaiError
from myoxai.gui.views import centred_label
from myoxai.live.motion.scoring import prompt_schedule, schedule_seconds
from myoxai.live.motion.session import MotionSession

REMEMBERED: dict[str, str] = {}  # the mode chosen last in this app session ("live" or "labels")


def numbered(names: list[str]) -> list[str]:
    """``["1 flexion", "2 fist", …]``: the plots label gestures by number, the table says which is which."""
    return [f"{i} {n}" for i, n in enumerate(names, 1)]


class MotionResultsPanel(QtWidgets.QWidget):
    """Per-gesture times and rates as bars, a table, and the confusion of decisions during prompts."""

    def __init__(self) -> None:
        super().__init__()
        layout = QtWidgets.QVBoxLayout(self)
        self.summary = QtWidgets.QLabel("")
        self.summary.setWordWrap(True)
        self.table = QtWidgets.QTableWidget(0, 5)
        self.table.setHorizontalHeaderLabels(["gesture", "selection (s)", "completion (s)", "completed",
                                              "accuracy"])
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(0, QtWidgets.QHeaderView.ResizeMode.Stretch)
        for j in range(1, 5):
            header.setSectionResizeMode(j, QtWidgets.QHeaderView.ResizeMode.ResizeToContents)
        self.table.verticalHeader().setVisible(False)
        self.bars = pg.PlotWidget()
        self.bars.setTitle("seconds from prompt: selection (blue), completion (orange)")
        self.bars.setLabel("left", "s")
        self.bars.getAxis("left").enableAutoSIPrefix(False)
        self.bars.setMinimumHeight(160)
        self.confusion = pg.PlotWidget(title="decisions during prompts")
        self.confusion.setMinimumHeight(160)
        self.confusion_image = pg.ImageItem()
        self.confusion_image.setColorMap(pg.colormap.get("CET-L12"))
        self.confusion.addItem(self.confusion_image)
        self.confusion.invertY(True)
        self.confusion.setLabel("left", "prompted")
        self.confusion.setLabel("bottom", "decided (✗ rejected)")
        for plot in (self.bars, self.confusion):
            for side in ("left", "bottom"):
                plot.getAxis(side).enableAutoSIPrefix(False)
            plot.setMouseEnabled(x=False, y=False)
        self.prepare([], 5.0)
        self.table.setMinimumHeight(150)
        layout.addWidget(self.summary)
        layout.addWidget(self.table)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.bars, 3)
        row.addWidget(self.confusion, 2)
        layout.addLayout(row)
        self.doc: dict[str, Any] | None = None

    def prepare(self, gestures: list[str], hold_limit_s: float) -> None:
        """Empty plots with sane axes: one slot per gesture, 0 to the hold limit (before any result)."""
        n = max(len(gestures), 1)
        self.bars.setRange(xRange=(-0.5, n - 0.5), yRange=(0, hold_limit_s), padding=0)
        self.bars.getAxis("bottom").setTicks([[(i, str(i + 1)) for i in range(len(gestures))]])
        self.confusion.setRange(xRange=(0, n + 1), yRange=(0, n), padding=0)
        self.confusion.getAxis("left").setTicks([[(i + 0.5, str(i + 1)) for i in range(len(gestures))]])
        self.confusion.getAxis("bottom").setTicks([[(j + 0.5, str(j + 1)) for j in range(len(gestures))]])

    def show_result(self, doc: dict[str, Any]) -> None:
        """Show a Motion Test result document (the summary line and the per-gesture table)."""
        self.doc = doc
        pct = (lambda v: "–" if v is None else f"{100 * v:.0f} %")
        sec = (lambda v: "–" if v is None else f"{v:.2f}")
        self.summary.setText(f"<b>completion rate {pct(doc['completion_rate'])}</b> within {doc['hold_limit_s']:g} s "
                             f"(K = {doc['k_correct']}), real-time accuracy {pct(doc['realtime_accuracy'])}, "
                             f"{doc['trials']} trials")
        names = list(doc["gestures"])
        rows = [*zip(numbered(names), doc["gestures"].values(), strict=True), ("overall", doc)]
        self.table.setRowCount(len(rows))
        for i, (name, g) in enumerate(rows):
            for j, text in enumerate((name, sec(g["selection_time_s"]), sec(g["completion_time_s"]),
                                      pct(g["completion_rate"]), pct(g["realtime_accuracy"]))):
                self.table.setItem(i, j, QtWidgets.QTableWidgetItem(text))
        self.bars.clear()
        x = np.arange(len(names))
        for offset, key, colour in ((-0.2, "selection_time_s", "#4c72b0"), (0.2, "completion_time_s", "#dd8452")):
            h = [doc["gestures"][n][key] or 0.0 for n in names]
            self.bars.addItem(pg.BarGraphItem(x=x + offset, height=h, width=0.4, brush=colour))
        tallest = max([h for n in names for h in (doc["gestures"][n]["completion_time_s"] or 0.0,
                                                   doc["gestures"][n]["selection_time_s"] or 0.0)] + [0.0])
        self.bars.setRange(xRange=(-0.5, max(len(names), 1) - 0.5), yRange=(0, max(tallest * 1.1, 1.0)), padding=0)
        self.bars.getAxis("bottom").setTicks([[(i, str(i + 1)) for i in range(len(names))]])
        columns = doc["confusion"]["columns"]
        rows = [i for i, c in enumerate(columns[:-1]) if c in names]
        counts = np.asarray(doc["confusion"]["counts"], float)[rows]
        share = counts / np.maximum(counts.sum(axis=1, keepdims=True), 1)
        self.confusion_image.setImage(share.T, levels=(0, 1))
        number = {n: str(i + 1) for i, n in enumerate(names)}  # gestures never prompted (rest) go by name
        self.confusion.getAxis("left").setTicks([[(i + 0.5, number[columns[r]]) for i, r in enumerate(rows)]])
        self.confusion.getAxis("bottom").setTicks([[(j + 0.5, "✗" if j == len(columns) - 1 else
                                                    number.get(c, c)) for j, c in enumerate(columns)]])
        self.confusion.setRange(xRange=(0, len(columns)), yRange=(0, len(rows)), padding=0.02)


class MotionTestDialog(QtWidgets.QDialog):
    """Set up, run and show one Motion Test on the window's running engine."""

    def __init__(self, engine: Any, parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.setWindowTitle("Motion Test")
        self.engine = engine
        self.session: MotionSession | None = None
        self.schedule: list[Any] = []
        self.t0 = 0.0
        self.index = -1
        self.phase = ""
        layout = QtWidgets.QVBoxLayout(self)
        form = QtWidgets.QFormLayout()
        self.mode = QtWidgets.QComboBox()
        self.mode.addItem("Prompts (live test)", "live")
        self.mode.addItem("The replay's own labels (each onset is a prompt)", "labels")
        labelled = getattr(getattr(engine.source, "recording", None), "labels", None) is not None
        self.mode.model().item(1).setEnabled(labelled)
        self.mode.setCurrentIndex(self.mode.findData(REMEMBERED.get("mode", "labels" if labelled else "live")
                                                     if labelled else "live"))
        self.mode.currentIndexChanged.connect(lambda _: REMEMBERED.update(mode=self.mode.currentData()))
        self.repetitions = self._spin(1, 20, 3)
        self.hold = self._dspin(0.5, 30.0, 5.0)
        self.rest = self._dspin(0.0, 30.0, 3.0)
        self.k = self._spin(1, 100, 10)
        self.duration = self._dspin(5.0, 3600.0, 60.0)
        self.record = QtWidgets.QLineEdit()
        self.record.setPlaceholderText("optional: record EMG, prompts and decisions to this .xdf")
        for label, w in (("mode", self.mode), ("repetitions per gesture", self.repetitions),
                         ("hold limit (s)", self.hold), ("rest before each trial (s)", self.rest),
                         ("correct decisions to complete (K)", self.k), ("labels mode: seconds", self.duration),
                         ("record to", self.record)):
            form.addRow(label, w)
        layout.addLayout(form)
        self.prompt = centred_label("", point_size=28)
        self.progress = QtWidgets.QLabel("")
        self.start_button = QtWidgets.QPushButton("Start")
        self.stop_button = QtWidgets.QPushButton("Stop")
        self.save_button = QtWidgets.QPushButton("Save results…")
        self.close_button = QtWidgets.QPushButton("Close")
        self.close_button.clicked.connect(self.reject)
        self.results = MotionResultsPanel()
        self.results.prepare([n for n in engine.class_names if n.lower() != "rest"], self.hold.value())
        buttons = QtWidgets.QHBoxLayout()
        for b in (self.start_button, self.stop_button, self.save_button, self.close_button):
            buttons.addWidget(b)
        layout.addWidget(self.prompt)
        layout.addWidget(self.progress)
        layout.addLayout(buttons)
        layout.addWidget(self.results)
        self.start_button.clicked.connect(self.start)
        self.stop_button.clicked.connect(self.finish)
        self.save_button.clicked.connect(self.save_dialog)
        self.stop_button.setEnabled(False)
        self.save_button.setEnabled(False)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(50)
        self.timer.timeout.connect(self.step)
        self.resize(900, 860)

    @staticmethod
    def _spin(lo: int, hi: int, value: int) -> QtWidgets.QSpinBox:
        w = QtWidgets.QSpinBox()
        w.setRange(lo, hi)
        w.setValue(value)
        return w

    @staticmethod
    def _dspin(lo: float, hi: float, value: float) -> QtWidgets.QDoubleSpinBox:
        w = QtWidgets.QDoubleSpinBox()
        w.setRange(lo, hi)
        w.setValue(value)
        return w

    def _now(self) -> float:
        from myoxai.sources import local_clock

        return local_clock()

    def start(self) -> None:
        """Begin the test (the engine must be running)."""
        from myoxai.live.motion.session import rest_index

        labels = self.mode.currentData() == "labels"
        path = self.record.text().strip() or None
        try:
            self.session = MotionSession(self.engine, from_labels=labels, xdf_path=path)
        except MyoxaiError as exc:
            self.progress.setText(str(exc))
            return
        names = self.engine.class_names
        rest = rest_index(names)
        if labels:
            self.schedule = []
        else:
            gestures = [i for i in range(len(names)) if i != rest]
            self.schedule = prompt_schedule(gestures, self.repetitions.value(), self.hold.value(), self.rest.value(),
                                            seed=int(self._now() * 1000) % 2**31)
        self.t0, self.index, self.phase = self._now(), -1, "rest"
        self.start_button.setEnabled(False)
        self.stop_button.setEnabled(True)
        self.save_button.setEnabled(False)
        self.timer.start()
        self.step()

    def step(self) -> None:
        """Advance the schedule (timer tick): show prompts and rests at their times."""
        if self.session is None:
            return
        elapsed = self._now() - self.t0
        if not self.schedule:  # labels mode: score the replay for the chosen time
            acc, n = self.session.running_accuracy()
            self.prompt.setText("scoring the replay's labels")
            self.progress.setText(f"{elapsed:.0f} / {self.duration.value():.0f} s, {n} labelled decisions")
            if elapsed >= self.duration.value():
                self.finish()
            return
        total = schedule_seconds(self.schedule)
        i = next((j for j, p in enumerate(self.schedule) if elapsed < p.onset_s + p.hold_limit_s), None)
        if i is None:
            self.finish()
            return
        p = self.schedule[i]
        in_prompt = elapsed >= p.onset_s
        if in_prompt and (i != self.index or self.phase != "prompt"):
            if self.phase == "prompt":
                self.session.end_prompt(self._now())
            self.session.prompt(p.gesture, self._now())
            self.index, self.phase = i, "prompt"
        elif not in_prompt and self.phase == "prompt":
            self.session.end_prompt(self._now())
            self.phase = "rest"
        name = self.engine.class_names[p.gesture]
        self.prompt.setText(name.upper() if in_prompt else f"rest — next: {name}")
        self.progress.setText(f"trial {i + 1} / {len(self.schedule)}   {elapsed:.0f} / {total:.0f} s")

    def finish(self) -> dict[str, Any] | None:
        """End the test, score it and show the results."""
        self.timer.stop()
        if self.session is None:
            return None
        if self.phase == "prompt":
            self.session.end_prompt(self._now())
        session, self.session = self.session, None
        session.close()
        self.start_button.setEnabled(True)
        self.stop_button.setEnabled(False)
        self.prompt.setText("done")
        result = session.result(self.k.value(), self.hold.value())
        if not result.trials:
            self.progress.setText("no prompt was scored (no labelled gesture, or stopped before the first prompt)")
            return None
        doc = result.to_dict()
        if session.xdf_path is not None:
            doc["xdf"] = str(session.xdf_path)
        self.results.show_result(doc)
        self.save_button.setEnabled(True)
        self.progress.setText("" if session.xdf_path is None else f"recorded to {session.xdf_path}")
        return doc

    def done(self, result: int) -> None:  # noqa: D102 - Qt override: Close, Escape and the title bar end here
        if self.session is not None:
            self.finish()
        super().done(result)

    def save_dialog(self) -> None:
        """Ask for a path and save the results there as JSON."""
        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save Motion Test results", "motion-test.json",
                                                        "JSON (*.json)")
        if path:
            self.save(Path(path))

    def save(self, path: Path) -> None:
        """Write the JSON results and, beside them, the PNG summary (the file dialog confirmed any overwrite)."""
        from myoxai.io.outputs import write_text
        from myoxai.live.motion.figure import write_motion_figure

        if self.results.doc is None:
            return
        write_text(path, json.dumps(self.results.doc, indent=1), overwrite=True)
        write_motion_figure(self.results.doc, path.with_suffix(".png"), overwrite=True)
