"""Calibration wizard: pick gestures, repetitions, hold and rest times; follow the prompts; train; load.

The view over ``myoxai.live.calibration``: the session (schedule on the source clock, EMG +
markers to XDF) and the training job run outside the GUI thread; this dialog polls them.
The quick mode (``myoxai.live.quick_calibration``, the default when a pre-trained model is
available) records one hold per gesture, fine-tunes the pre-trained model on it in seconds and
shows the accuracy on a short second hold it did not train on. Opened with ``start_model`` (the Adapt
panel's "Recalibrate with labels (35 s)"), the quick mode prompts that model's gestures and runs
the 35-s labeled recalibration (``myoxai.live.labeled_recalibration``) on it instead. The full
mode can start its training from the pre-trained model's weights ("start from the pre-trained
model", ticked by default when ``calibration.START_FROM_PRETRAINED`` says so and the model fits).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PyQt6 import QtCore, QtGui, QtWidgets

from myoxai.errors import MyoxaiError
from myoxai.gui.views import centred_label
from myoxai.io.locations import new_recording_path, person_name
from myoxai.live import calibration, quick_calibration
from myoxai.live.calibration import REST, CalibrationSession, TrainingJob

LOAD_WITHOUT_ASKING = 0.8  # held-out accuracy from which a calibrated model is loaded without asking
DEFAULT_GESTURES = ("flexion", "extension", "radial deviation", "ulnar deviation", "pronation", "supination", "fist")


class CalibrationWizard(QtWidgets.QDialog):
    """Settings → prompts with countdown (recording) → training → the model is handed to ``on_model``.

    Parameters
    ----------
    engine:
        The running engine (its chunks are recorded).
    on_model:
        Called in the GUI thread with ``(model, source_data, path)`` when training finished.
    gestures:
        Gestures offered (rest is always recorded between holds).
    epochs:
        Training epochs cap (full mode).
    pretrained:
        The quick mode's pre-trained model file (default: the bundled one); the full mode can start from it.
    start_model, buffer, source_data:
        The 35-s recalibration: the calibration model to fine-tune (its gestures are the prompts), a
        callable returning the engine buffer's inputs, and the model's calibration data.
    """

    def __init__(self, engine: Any, on_model: Callable[[Any, Any, Path], None],
                 gestures: Sequence[str] = DEFAULT_GESTURES, epochs: int = 30,
                 parent: QtWidgets.QWidget | None = None, pretrained: str | Path | None = None,
                 start_model: Any = None, buffer: Callable[[], Any] | None = None, source_data: Any = None) -> None:
        super().__init__(parent)
        self.start_model, self.buffer, self.source_data = start_model, buffer, source_data
        if start_model is not None:
            gestures = [g for g in getattr(start_model, "class_names", ()) if g != REST]
        self.setWindowTitle("Calibration session" if start_model is None else "Recalibrate with labels (35 s)")
        self.engine, self.on_model, self.epochs = engine, on_model, epochs
        self.pretrained = Path(pretrained) if pretrained else quick_calibration.PRETRAINED_MODEL
        self.quick_split_s: float | None = None  # session time where the quick mode's test round starts
        self.session: CalibrationSession | None = None
        self.training: TrainingJob | None = None
        self.stack = QtWidgets.QStackedWidget()
        QtWidgets.QVBoxLayout(self).addWidget(self.stack)
        self.stack.addWidget(self._settings_page(gestures))
        self.stack.addWidget(self._session_page())
        self.stack.addWidget(self._training_page())
        if start_model is not None:  # one hold per gesture of the current model, then the held-out hold
            self.quick.setText("35-s recalibration: one hold per gesture fine-tunes the current model,\n"
                               "then a short second hold measures accuracy")
            self.quick.setChecked(True)
            self.quick.setEnabled(False)
            for i in range(self.gesture_list.count()):  # every gesture: one left out would be forgotten
                item = self.gesture_list.item(i)
                item.setFlags(item.flags() & ~QtCore.Qt.ItemFlag.ItemIsUserCheckable)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(100)
        self.timer.timeout.connect(self._tick)

    # pages ------------------------------------------------------------------------------------
    def _settings_page(self, gestures: Sequence[str]) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget()
        form = QtWidgets.QFormLayout(page)
        self.gesture_list = QtWidgets.QListWidget()
        for g in gestures:
            item = QtWidgets.QListWidgetItem(g)
            item.setFlags(item.flags() | QtCore.Qt.ItemFlag.ItemIsUserCheckable)
            item.setCheckState(QtCore.Qt.CheckState.Checked)
            self.gesture_list.addItem(item)
        self.quick = QtWidgets.QCheckBox("quick: one hold per gesture fine-tunes the pre-trained model,\n"
                                         "then a short second hold measures accuracy")
        self.quick.toggled.connect(self._quick_toggled)
        self.init_problem = calibration.init_problem(self.pretrained)  # None: it can start the full mode's model
        self.from_pretrained = QtWidgets.QCheckBox("start from the pre-trained model")
        self.from_pretrained.setToolTip(
            f"full mode: train from the weights of {self.pretrained.name} (pre-trained on other people) instead "
            "of random ones" if self.init_problem is None else f"not available: {self.init_problem}")
        self.from_pretrained.setChecked(calibration.START_FROM_PRETRAINED and self.init_problem is None)
        self.duration = QtWidgets.QLabel("")
        self.duration.setWordWrap(True)
        self.repetitions = QtWidgets.QSpinBox()
        self.repetitions.setRange(1, 20)
        self.repetitions.setValue(3)
        self.hold = QtWidgets.QDoubleSpinBox()
        self.hold.setRange(0.1, 30.0)
        self.hold.setValue(5.0)
        self.hold.setSuffix(" s")
        self.rest = QtWidgets.QDoubleSpinBox()
        self.rest.setRange(0.1, 30.0)
        self.rest.setValue(3.0)
        self.rest.setSuffix(" s")
        self.lead_in = QtWidgets.QDoubleSpinBox()
        self.lead_in.setRange(0.1, 30.0)
        self.lead_in.setValue(2.0)
        self.lead_in.setSuffix(" s")
        self.person = QtWidgets.QLineEdit(person_name())
        self.person.setToolTip("recordings are saved under ~/myoxai/recordings/<person>/ (or $MYOXAI_HOME)")
        self.path_edit = QtWidgets.QLineEdit(str(new_recording_path("calibration", self.person.text())))
        self.person.textChanged.connect(
            lambda name: self.path_edit.setText(str(new_recording_path("calibration", name))))
        self.start_button = QtWidgets.QPushButton("Start recording")
        self.start_button.clicked.connect(self.start_session)
        self.settings_cancel = QtWidgets.QPushButton("Cancel")
        self.settings_cancel.clicked.connect(self.reject)
        buttons = QtWidgets.QHBoxLayout()
        buttons.addWidget(self.start_button)
        buttons.addWidget(self.settings_cancel)
        self.settings_error = QtWidgets.QLabel("")
        self.settings_error.setWordWrap(True)
        form.addRow("gestures (rest is recorded between holds)", self.gesture_list)
        form.addRow("mode", self.quick)
        form.addRow("", self.from_pretrained)
        form.addRow("duration", self.duration)
        form.addRow("repetitions", self.repetitions)
        form.addRow("hold", self.hold)
        form.addRow("rest", self.rest)
        form.addRow("rest before the first prompt", self.lead_in)
        form.addRow("person", self.person)
        form.addRow("save to", self.path_edit)
        form.addRow(buttons)
        form.addRow(self.settings_error)
        self.quick.setEnabled(self.pretrained.exists())
        self.quick.setChecked(self.pretrained.exists())
        self._quick_toggled(self.quick.isChecked())
        for signal in (self.gesture_list.itemChanged, self.quick.toggled, self.repetitions.valueChanged,
                       self.hold.valueChanged, self.rest.valueChanged, self.lead_in.valueChanged):
            signal.connect(self._show_duration)
        self._show_duration()
        return page

    def session_seconds(self) -> float:
        """Seconds of prompts the chosen settings take (what the duration line says)."""
        n, hold, rest, lead = len(self.chosen_gestures()), self.hold.value(), self.rest.value(), self.lead_in.value()
        if self.quick.isChecked():
            return quick_calibration.schedule_seconds(n, hold, min(quick_calibration.TEST_HOLD_S, hold), rest, lead)
        return lead + self.repetitions.value() * n * (hold + rest)

    def _show_duration(self, *_: Any) -> None:
        s = self.session_seconds()
        then = "then a few seconds of fine-tuning" if self.quick.isChecked() else "then up to a minute of training"
        self.duration.setText(f"{s:.0f} s of prompts (about {max(1, round(s / 60))} min), {then}")

    def _quick_toggled(self, quick: bool) -> None:
        """Quick mode: one hold per gesture (the repetitions are fixed) and a 2 s rest between holds."""
        self.repetitions.setEnabled(not quick)
        self.from_pretrained.setEnabled(not quick and self.init_problem is None)
        if quick:
            self.rest.setValue(quick_calibration.REST_S)

    def _session_page(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(page)
        self.prompt = centred_label(point_size=36)
        self.countdown = centred_label()
        self.next_label = QtWidgets.QLabel("")
        self.next_label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
        self.session_progress = QtWidgets.QProgressBar()
        self.session_progress.setRange(0, 1000)
        self.cancel_button = QtWidgets.QPushButton("Stop (keep what was recorded)")
        self.cancel_button.clicked.connect(self.cancel_session)
        for w in (self.prompt, self.countdown, self.next_label, self.session_progress, self.cancel_button):
            layout.addWidget(w)
        return page

    def _training_page(self) -> QtWidgets.QWidget:
        page = QtWidgets.QWidget()
        layout = QtWidgets.QVBoxLayout(page)
        self.train_message = QtWidgets.QLabel("")
        self.train_message.setWordWrap(True)
        self.train_progress = QtWidgets.QProgressBar()
        self.load_button = QtWidgets.QPushButton("Load this model anyway")
        self.load_button.clicked.connect(self.load_model)
        self.load_button.setVisible(False)
        self.close_button = QtWidgets.QPushButton("Close")
        self.close_button.clicked.connect(self.accept)
        self.close_button.setEnabled(False)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.load_button)
        row.addWidget(self.close_button)
        layout.addWidget(self.train_message)
        layout.addWidget(self.train_progress)
        layout.addLayout(row)
        return page

    # flow -------------------------------------------------------------------------------------
    def chosen_gestures(self) -> list[str]:
        """The ticked gestures, without rest (the session adds it)."""
        return [self.gesture_list.item(i).text() for i in range(self.gesture_list.count())
                if self.gesture_list.item(i).checkState() == QtCore.Qt.CheckState.Checked
                and self.gesture_list.item(i).text() != REST]

    def start_session(self) -> None:
        """Start recording with the chosen settings and show the prompts; a bad setting is shown instead."""
        try:
            Path(self.path_edit.text()).expanduser().parent.mkdir(parents=True, exist_ok=True)
            schedule = None
            if self.quick.isChecked():
                schedule, self.quick_split_s = quick_calibration.quick_schedule(
                    self.chosen_gestures(), self.hold.value(), min(quick_calibration.TEST_HOLD_S, self.hold.value()),
                    self.rest.value(), self.lead_in.value())
                threading.Thread(target=quick_calibration.warm_up, daemon=True, name="myoxai-warm-up").start()
            self.session = CalibrationSession(self.engine, self.path_edit.text(), self.chosen_gestures(),
                                              1 if schedule else self.repetitions.value(), self.hold.value(),
                                              self.rest.value(), self.lead_in.value(), schedule=schedule)
        except (MyoxaiError, OSError) as exc:
            self.settings_error.setText(str(exc))
            return
        self.session.start()
        self.stack.setCurrentIndex(1)
        self.timer.start()

    def cancel_session(self) -> None:
        """Stop the recording session (no model is trained)."""
        if self.session is not None:
            self.session.cancel()

    def _tick(self) -> None:
        if self.training is not None:
            st = self.training.state()
            self.train_message.setText(st.message)
            if st.state == "running" and self.quick_split_s is not None:  # fine-tuning reports its epochs
                self.train_progress.setRange(0, 1000)
                self.train_progress.setValue(int(st.progress * 1000))
            elif st.state == "running":  # the trainer reports stages, not epochs: show a busy bar while fitting
                self.train_progress.setRange(0, 0 if st.progress > 0.05 else 1000)
            else:
                self.train_progress.setRange(0, 1000)
                self.train_progress.setValue(int(st.progress * 1000))
                self.timer.stop()
                self.close_button.setEnabled(True)
                if st.state == "done" and self.training.result is not None:
                    self._offer_model(st.message)
            return
        if self.session is None:
            return
        view = self.session.current()
        if view.prompt is not None:
            self.prompt.setText("REST" if view.prompt.label == REST else view.prompt.label.upper())
            self.countdown.setText(f"{view.remaining_s:4.1f} s")
        self.next_label.setText(f"next: {view.next_prompt.label}" if view.next_prompt else "last one")
        self.session_progress.setValue(int(1000 * view.elapsed_s / max(view.total_s, 1e-9)))
        if view.done and self.session.error:  # the file is incomplete: training on it would mislead
            self.stack.setCurrentIndex(2)
            self.train_message.setText(f"recording failed: {self.session.error}")
            self.session = None
            return
        if view.done:
            self.stack.setCurrentIndex(2)
            self.train_message.setText(f"recorded {self.session.samples} samples to {self.session.path}; training…")
            trainer = None
            if self.quick_split_s is not None and self.start_model is not None:
                from myoxai.live.labeled_recalibration import recalibrate_from_file

                path, split, start, buffer, data = (self.session.path, self.quick_split_s, self.start_model,
                                                    self.buffer or (lambda: None), self.source_data)

                def trainer(progress: Callable[[float, str], None]) -> Any:
                    return recalibrate_from_file(path, split, start, buffer, data, progress=progress)
            elif self.quick_split_s is not None:
                path, split, pretrained = self.session.path, self.quick_split_s, self.pretrained

                def trainer(progress: Callable[[float, str], None]) -> Any:
                    return quick_calibration.quick_from_file(path, split, pretrained, progress=progress)
            self.training = TrainingJob(self.session.path, epochs=self.epochs, trainer=trainer,
                                        init_from=self.init_from())
            self.training.start()

    def init_from(self) -> Path | None:
        """The model file the full mode's training starts from (``None``: random weights, or the quick mode)."""
        use = self.quick_split_s is None and self.from_pretrained.isEnabled() and self.from_pretrained.isChecked()
        return self.pretrained if use else None

    def held_out_accuracy(self) -> float | None:
        """The trained model's accuracy on data it did not train on (the quick mode's second hold)."""
        if self.training is None or self.training.result is None:
            return None
        metrics = self.training.result[2]
        acc = metrics.get("test_accuracy", metrics.get("val_accuracy"))
        return None if acc is None else float(acc)

    def _offer_model(self, summary: str) -> None:
        """Load the trained model, or ask first when its held-out accuracy is below ``LOAD_WITHOUT_ASKING``.

        A 35-s recalibration also asks when it scores below the model it started from on the same hold.
        """
        acc = self.held_out_accuracy()
        before = self.training.result[2].get("test_accuracy_before") if self.training and self.training.result else None
        worse = acc is not None and before is not None and acc < before
        if acc is not None and acc >= LOAD_WITHOUT_ASKING and not worse:
            self.load_model()
            self.train_message.setText(f"{summary}\nloaded: the new model serves now (Undo in the Adapt panel "
                                       "returns to the previous one)")
            return
        shown = "unknown" if acc is None or acc != acc else f"{100 * acc:.1f} %"
        why = (f"is below the current model's {100 * before:.1f} %" if worse and acc >= LOAD_WITHOUT_ASKING
               else f"is below {LOAD_WITHOUT_ASKING:.0%}")
        self.train_message.setText(
            f"{summary}<br><b>Held-out accuracy {shown} {why}.</b> The current model "
            "keeps serving. Load the new one anyway, or close and calibrate again (hold each gesture as prompted).")
        self.load_button.setVisible(True)

    def load_model(self) -> None:
        """Hand the trained model to the app (``on_model``)."""
        if self.training is None or self.training.result is None:
            return
        model, source_data, _ = self.training.result
        self.on_model(model, source_data, self.training.path)
        self.load_button.setVisible(False)

    def done(self, result: int) -> None:  # noqa: D102 - Qt override: never leave a recording open
        if self.session is not None and not self.session.done.is_set():
            self.session.cancel()
        if self.training is not None and not self.training.wait(0):
            self.train_message.setText("finishing the training before closing…")
            self.training.wait(120.0)  # the trainer has no cancel; torch must not be torn down mid-step
        self.timer.stop()
        super().done(result)

    def closeEvent(self, event: QtGui.QCloseEvent) -> None:  # noqa: N802 - Qt override
        """Close through ``done`` so no recording is left open."""
        self.done(0)
        super().closeEvent(event)
