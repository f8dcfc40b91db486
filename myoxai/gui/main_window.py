"""The main window: panels over one engine, refreshed by one QTimer; controls for source, model, post-processing.

The timer drains the engine's bounded subscription (never blocking it), hands the new decisions
to every ``DecisionView`` panel and their drift assessment to the drift panel, redraws the EMG
from the source's display ring and, twice a second, the status bar and the recalibration panel.
Frame rate and CPU share are measured here so ``myoxai bench live`` can read them.
"""

from __future__ import annotations

import logging
import time
from pathlib import Path
from typing import Any

from PyQt6 import QtCore, QtGui, QtWidgets

from myoxai.errors import MyoxaiError
from myoxai.gui.drift_panel import DriftPanel, cause_sentence
from myoxai.gui.elide import ElidedLabel
from myoxai.gui.emg_view import EmgTraces, SpectrogramView
from myoxai.gui.matrix import ShapleyMatrix
from myoxai.gui.probabilities import GesturePanel
from myoxai.gui.recalibrate_panel import RecalibratePanel
from myoxai.gui.ring import ArmbandRing
from myoxai.gui.status import COMPACT_BELOW_PX, status_text
from myoxai.gui.views import DecisionView
from myoxai.live.motion.scoring import RunningAccuracy
from myoxai.live.setup import EngineOptions, build_engine

log = logging.getLogger(__name__)


class MainWindow(QtWidgets.QMainWindow):
    """The live app window.

    Parameters
    ----------
    engine:
        A built (not necessarily started) ``Engine``.
    source_desc:
        Shown in the status bar.
    source_data:
        The active model's labelled training data (``myoxai.adapt.SourceData``) for recalibration.
    options:
        The options ``engine`` was built from; the source switch rebuilds the engine from them (with the
        new source, the active model and the current vote and threshold). ``None``: a window without
        a source switch (an engine built by hand).
    frame_ms:
        Refresh period of the plots.
    """

    def __init__(self, engine: Any, source_desc: str, source_data: Any = None,
                 options: EngineOptions | None = None, frame_ms: int = 30) -> None:
        super().__init__()
        import psutil

        self.setWindowTitle("myoxai live")
        self.options = options
        self._process = psutil.Process()
        self._process.cpu_percent(None)
        self.cpu_percent = 0.0
        self.fps = 0.0
        self.frames = 0
        self.decisions_shown = 0
        self.wizard_epochs = 30
        self.wizard_pretrained: str | Path | None = None  # the quick calibration's source (None: bundled)
        self._fps_frames, self._fps_t = 0, time.perf_counter()
        self._slow_t = 0.0
        self.class_names: tuple[str, ...] = ()
        self.last_decision: Any = None

        self.emg = EmgTraces(engine.config.n_channels, engine.config.fs)
        self.spectrogram = SpectrogramView()
        self.gesture = GesturePanel()
        self.ring = ArmbandRing(engine.config.n_channels)
        self.matrix = ShapleyMatrix(engine.config.n_channels)
        self.recalibrate = RecalibratePanel()
        self.recalibrate.open_labeled = self.open_labeled_recalibration
        self.drift = DriftPanel()
        self.accuracy = RunningAccuracy()  # real-time accuracy of a labelled replay, in the status bar
        self.views: list[DecisionView] = [self.gesture, self.ring, self.matrix, self.spectrogram]
        self._build_layout()
        self._build_toolbar()
        self.status_label = ElidedLabel()  # compact below COMPACT_BELOW_PX wide, the full line as tooltip
        self.statusBar().addWidget(self.status_label, 1)

        self.engine: Any = None
        self.sub: Any = None
        self.set_engine(engine, source_desc, source_data)
        self.timer = QtCore.QTimer(self)
        self.timer.setInterval(frame_ms)
        self.timer.timeout.connect(self.tick)

    # layout -----------------------------------------------------------------------------------
    def _build_layout(self) -> None:
        left = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        left.addWidget(self.emg)
        left.addWidget(self.spectrogram)
        left.setSizes([500, 200])
        right = QtWidgets.QSplitter(QtCore.Qt.Orientation.Vertical)
        right.addWidget(self.ring)
        right.addWidget(self.matrix)
        right.addWidget(self.recalibrate)
        right.addWidget(self.drift)
        right.setSizes([260, 260, 200, 220])
        main = QtWidgets.QSplitter(QtCore.Qt.Orientation.Horizontal)
        main.addWidget(left)
        main.addWidget(self.gesture)
        main.addWidget(right)
        main.setSizes([600, 420, 480])
        for w in (self.ring, self.matrix, self.recalibrate, self.drift, self.gesture, self.emg, self.spectrogram):
            w.setMinimumWidth(200)
        self.setCentralWidget(main)
        screen = QtGui.QGuiApplication.primaryScreen()
        room = screen.availableGeometry() if screen is not None else QtCore.QRect(0, 0, 1560, 940)
        self.resize(min(1560, room.width()), min(940, room.height()))  # never larger than the screen

    def _build_toolbar(self) -> None:
        bar = self.addToolBar("main")
        self.source_action = bar.addAction("Source…", self.choose_source)
        self.load_action = bar.addAction("Load model…", self.load_model_dialog)
        self.save_action = bar.addAction("Save model…", self.save_model_dialog)
        self.calibrate_action = bar.addAction("Calibration session…", self.open_wizard)
        self.motion_test_action = bar.addAction("Motion Test…", self.open_motion_test)
        bar.addSeparator()
        bar.addWidget(QtWidgets.QLabel(" vote over "))
        self.vote = QtWidgets.QSpinBox()
        self.vote.setRange(1, 50)
        bar.addWidget(self.vote)
        bar.addWidget(QtWidgets.QLabel(" decisions, reject below "))
        self.threshold = QtWidgets.QDoubleSpinBox()
        self.threshold.setRange(0.0, 1.0)
        self.threshold.setSingleStep(0.05)
        bar.addWidget(self.threshold)
        self.vote.valueChanged.connect(lambda v: self.engine.set_postprocessing(vote=int(v)))
        self.threshold.valueChanged.connect(lambda v: self.engine.set_postprocessing(threshold=float(v)))

    # engine -----------------------------------------------------------------------------------
    def set_engine(self, engine: Any, source_desc: str, source_data: Any = None) -> None:
        """Show ``engine`` (stopping the previous one); panels rebuild for its gestures."""
        if self.engine is not None and self.engine is not engine:
            self.engine.unsubscribe(self.sub)
            self.engine.stop()
        self.engine, self.source_desc, self.source_data = engine, source_desc, source_data
        self.sub = engine.subscribe(maxlen=2000)
        self.vote.setValue(int(engine.post.vote))
        self.threshold.setValue(float(engine.post.threshold))
        self.recalibrate.attach(engine, source_data)
        self.drift.reset(None if engine.drift_stage is None else engine.drift_stage.thresholds)
        self.accuracy = RunningAccuracy()
        self._set_classes(engine.class_names)

    def _set_classes(self, class_names: tuple[str, ...]) -> None:
        self.class_names = tuple(class_names)
        for v in self.views:
            v.set_classes(self.class_names)

    def start(self) -> None:
        """Start the engine and the redraw timer."""
        self.engine.start()
        self.timer.start()

    def closeEvent(self, event: Any) -> None:  # noqa: N802 - Qt override
        """Stop the timer, a running recalibration, open dialogs and the engine before closing."""
        self.timer.stop()
        job = self.recalibrate.job
        if job is not None and job.running:  # torch must not be mid-step when the interpreter exits
            job.cancel()
            if not job.wait(30.0):
                log.error("recalibration did not stop within 30 s of cancelling")
        for wizard in self.findChildren(QtWidgets.QDialog):
            wizard.close()
        self.engine.stop()
        super().closeEvent(event)

    # the frame --------------------------------------------------------------------------------
    def tick(self) -> None:
        """One frame: new decisions to the panels, EMG redraw, and twice a second status."""
        batch = self.sub.drain()
        if batch:
            self.drift.show_batch(batch)
            if batch[-1].class_names != self.class_names:
                self._set_classes(batch[-1].class_names)  # a model with other gestures took over
        decisions = [d for d in batch if d.class_names == self.class_names]
        if decisions:
            for v in self.views:
                v.show_decisions(decisions)
            self.decisions_shown += len(decisions)
            self.last_decision = decisions[-1]
            self.accuracy.update(decisions)
        samples, _ = self.engine.peek_emg(int(5 * self.engine.config.fs))
        self.emg.show_samples(samples)
        self.frames += 1
        self._fps_frames += 1
        now = time.perf_counter()
        if now - self._fps_t >= 1.0:
            self.fps = self._fps_frames / (now - self._fps_t)
            self._fps_frames, self._fps_t = 0, now
            self.cpu_percent = self._process.cpu_percent(None)
        if now - self._slow_t >= 0.5:
            self._slow_t = now
            st, acc = self.engine.status(), (f"  |  {self.accuracy.text()}" if self.accuracy.n else "")
            full = status_text(st, self.source_desc, self.cpu_percent, self.fps) + acc
            short = status_text(st, self.source_desc, self.cpu_percent, self.fps, compact=True) + acc
            self.status_label.set_full_text(full if self.width() >= COMPACT_BELOW_PX else short, full)
            self.recalibrate.refresh()
            self.drift.refresh()
            advice = self.drift.state == "recalibrate"
            self.recalibrate.show_drift(cause_sentence("recalibrate", self.drift.cause, self.drift.components_now)
                                        if advice else "")

    # actions ----------------------------------------------------------------------------------
    def _error(self, exc: Exception) -> None:
        QtWidgets.QMessageBox.warning(self, "myoxai", str(exc))

    def switch_source(self, spec: str) -> None:
        """Restart on another source with the active model."""
        if self.options is None:
            raise MyoxaiError("this window was built without a way to open sources")
        options = self.options.replace(source=spec, vote=int(self.engine.post.vote),
                                       threshold=float(self.engine.post.threshold))
        engine, desc = build_engine(options, model=self.engine.active.model)
        self.options = options
        self.set_engine(engine, desc, self.recalibrate.source_data)  # after an Undo, the restored model's data
        engine.start()

    def choose_source(self) -> None:
        """Ask for a source and switch to it; a bad one is shown, the current one kept."""
        from myoxai.gui.dialogs import SourceDialog

        dlg = SourceDialog(self)
        if dlg.exec() == QtWidgets.QDialog.DialogCode.Accepted:
            try:
                self.switch_source(dlg.spec())
            except MyoxaiError as exc:
                self._error(exc)

    def use_model(self, model: Any, source_data: Any = None, origin: str = "loaded") -> None:
        """Run ``model`` from the next decision on (a model with other gestures replaces the panels)."""
        self.recalibrate.use_model(model, source_data, origin)  # one action the panel's Undo takes back
        self.source_data = source_data

    def load_model_dialog(self) -> None:
        """Ask for a model file and make it active; a bad file is shown, the current model kept."""
        from myoxai.models import load_model

        path, _ = QtWidgets.QFileDialog.getOpenFileName(self, "Load model", "", "Models (*.safetensors)")
        if path:
            try:
                self.use_model(load_model(path, expect_config=None), None, origin=Path(path).name)
            except MyoxaiError as exc:
                self._error(exc)

    def save_model_dialog(self) -> None:
        """Ask for a path and save the active model there."""
        from myoxai.models import save_model

        path, _ = QtWidgets.QFileDialog.getSaveFileName(self, "Save model", "model.safetensors",
                                                        "Models (*.safetensors)")
        if path:
            active = self.engine.active
            try:
                save_model(active.model, path, active.class_names, self.engine.config,
                           training={"origin": active.origin, "saved_from": "myoxai live"})
            except (MyoxaiError, OSError, ValueError) as exc:
                self._error(exc)

    def open_motion_test(self) -> Any:
        """Open the Motion Test dialog on this engine (returned for tests)."""
        from myoxai.gui.motion_test_dialog import MotionTestDialog

        dialog = MotionTestDialog(self.engine, parent=self)
        dialog.show()
        return dialog

    def open_wizard(self) -> Any:
        """Open the calibration wizard on this engine (returned for tests)."""
        from myoxai.gui.wizard import CalibrationWizard

        wizard = CalibrationWizard(self.engine, self._wizard_model, epochs=self.wizard_epochs, parent=self,
                                   pretrained=self.wizard_pretrained)
        wizard.show()
        return wizard

    def open_labeled_recalibration(self) -> Any:
        """Open the 35-s labeled recalibration: the wizard's quick mode on the panel's calibration model."""
        from myoxai.gui.wizard import CalibrationWizard

        engine = self.engine
        wizard = CalibrationWizard(engine, self._labeled_model, parent=self, pretrained=self.wizard_pretrained,
                                   start_model=self.recalibrate.calibration_model(),
                                   buffer=lambda: engine.buffer.snapshot().inputs,
                                   source_data=self.recalibrate.source_data)
        wizard.show()
        return wizard

    def _labeled_model(self, model: Any, source_data: Any, path: Path) -> None:
        self.use_model(model, source_data, origin=f"35-s recalibration {path.name}")

    def _wizard_model(self, model: Any, source_data: Any, path: Path) -> None:
        self.use_model(model, source_data, origin=f"calibration {path.name}")
