"""Recalibrate and Quick adapt: instant rotation compensation + re-normalisation, then SCADANN with Accept / Revert.

The work happens in ``myoxai.engine.Recalibration`` (quick adapt in the app within a second, SCADANN
in a child process); this panel only starts it, shows the estimated armband rotation, polls the
state from the window's timer and forwards the user's choice. The stream and the plots keep
running throughout.
"""

from __future__ import annotations

from typing import Any

from PyQt6 import QtWidgets

from myoxai.errors import MyoxaiError
from myoxai.live.recalibration import Recalibration


def _fmt(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


class RecalibratePanel(QtWidgets.QGroupBox):
    """Controls and results of one recalibration at a time."""

    def __init__(self) -> None:
        super().__init__("Recalibration (unlabeled: quick adapt, then SCADANN)")
        self.engine: Any = None
        self.source_data: Any = None
        self.settings: Any = None  # myoxai.adapt.RecalibrationSettings (defaults when None)
        self.niceness = 10  # the worker thread's lowered priority (see Recalibration)
        self.job: Recalibration | None = None
        layout = QtWidgets.QVBoxLayout(self)
        self.buffered = QtWidgets.QLabel("buffered: 0 s")
        self.buffered.setWordWrap(True)
        self.start_button = QtWidgets.QPushButton("Recalibrate")
        self.quick_button = QtWidgets.QPushButton("Quick adapt")
        self.quick_button.setToolTip("rotation compensation and re-normalisation on the buffer: instant, no training")
        self.rotation = QtWidgets.QLabel("rotation since calibration: not estimated yet")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.message = QtWidgets.QLabel("")
        self.message.setWordWrap(True)
        self.result = QtWidgets.QLabel("")
        self.result.setWordWrap(True)
        row = QtWidgets.QHBoxLayout()
        self.accept_button = QtWidgets.QPushButton("Accept")
        self.revert_button = QtWidgets.QPushButton("Revert")
        row.addWidget(self.accept_button)
        row.addWidget(self.revert_button)
        top = QtWidgets.QHBoxLayout()
        top.addWidget(self.quick_button)
        top.addWidget(self.start_button)
        top.addWidget(self.cancel_button)
        for w in (self.buffered, self.rotation):
            layout.addWidget(w)
        layout.addLayout(top)
        self.drift_prompt = QtWidgets.QLabel("")  # the drift monitor's reason to recalibrate, beside the button
        self.drift_prompt.setWordWrap(True)
        layout.addWidget(self.drift_prompt)
        layout.addWidget(self.progress)
        layout.addWidget(self.message)
        layout.addWidget(self.result)
        layout.addLayout(row)
        self.start_button.clicked.connect(self.start)
        self.quick_button.clicked.connect(self.quick)
        self.cancel_button.clicked.connect(self.cancel)
        self.accept_button.clicked.connect(self.accept)
        self.revert_button.clicked.connect(self.revert)
        self.refresh()

    def attach(self, engine: Any, source_data: Any) -> None:
        """Use this engine and the active model's training data (None = recalibration unavailable)."""
        if self.job is not None and self.job.running:
            self.job.cancel()
        self.engine, self.source_data, self.job = engine, source_data, None
        self.result.setText("")
        self.message.setText("" if source_data is not None else
                             "needs the model's training data: use the bundled model or the calibration wizard")
        self.refresh()

    def _job(self) -> Recalibration:
        """One job per attached engine, so repeated presses adapt the calibration model, not an adapted one."""
        if self.job is None:
            self.job = Recalibration(self.engine, self.source_data, settings=self.settings, niceness=self.niceness)
        return self.job

    def quick(self) -> None:
        """Quick adapt (rotation + re-normalisation) now; an error is shown in the panel."""
        if self.engine is None:
            return
        try:
            self._job().quick_adapt()
        except MyoxaiError as exc:
            self.message.setText(str(exc))
        self.refresh()

    def start(self) -> None:
        """Start a recalibration in the background; an error is shown in the panel."""
        if self.engine is None:
            return
        try:
            self._job().start()
        except MyoxaiError as exc:
            self.message.setText(str(exc))
        self.result.setText("")
        self.refresh()

    def cancel(self) -> None:
        """Stop the running recalibration (the current model stays)."""
        if self.job is not None:
            self.job.cancel()

    def accept(self) -> None:
        """Keep the recalibrated model; an error is shown in the panel."""
        if self.job is not None:
            try:
                self.job.accept()
            except MyoxaiError as exc:
                self.message.setText(str(exc))
        self.refresh()

    def revert(self) -> None:
        """Go back to the model active before the recalibration (or the engine's last swap)."""
        if self.job is not None:
            self.job.revert()
        elif self.engine is not None and self.engine.status().can_revert:
            self.engine.revert()
        self.refresh()

    def show_drift(self, cause: str) -> None:
        """Prompt next to the button when the drift monitor says "recalibrate" ('' hides it)."""
        self.drift_prompt.setText(f"<b style='color:#c0392b'>Recalibration advised:</b> {cause}" if cause else "")

    def refresh(self) -> None:
        """Poll the engine and the job (called by the window's timer)."""
        st = self.engine.status() if self.engine is not None else None
        if st is not None:
            self.buffered.setText(f"buffered: {st.buffered_seconds:.0f} s of unlabeled windows "
                                  f"({st.buffered_windows}); model v{st.model_version} ({st.model_origin})")
        job = self.job.state() if self.job is not None else None
        running = job is not None and job.state == "running"
        self.start_button.setEnabled(self.engine is not None and not running and self.source_data is not None)
        self.quick_button.setEnabled(self.engine is not None and not running)
        quick = job.quick if job is not None else None
        if quick is not None:
            shift = "not estimated (no calibration profile)" if quick.rotation_shift is None else \
                f"{quick.rotation_shift:+.2f} electrodes"
            coverage = quick.prototype_coverage
            proto = "" if coverage is None else f"; prototypes from {coverage[0]}/{coverage[1]} gestures"
            self.rotation.setText(f"rotation since calibration: {shift}; re-normalised{proto} in {quick.seconds:.2f} s")
        self.cancel_button.setEnabled(running)
        if job is None:
            self.progress.setValue(0)
            self.accept_button.setEnabled(False)
            self.revert_button.setEnabled(bool(st and st.can_revert))
            return
        self.progress.setValue(int(job.progress * 1000))
        self.message.setText(job.message)
        if job.state == "done" and job.report is not None:
            r = job.report
            self.result.setText(
                f"{r.method}: {job.verdict}" + (f" — {r.reason}" if r.reason else "")
                + f"\nsource-validation accuracy {_fmt(r.source_val_accuracy_before)} → "
                f"{_fmt(r.source_val_accuracy_after)}"
                f"\npseudo-label coverage {_fmt(r.coverage)}, agreement {_fmt(r.agreement)}, "
                f"{r.n_target} target windows, {_fmt(r.seconds)} s")
        can_choose = job.state == "done" and job.verdict == "accepted"
        self.accept_button.setEnabled(can_choose and not job.committed)
        self.revert_button.setEnabled(bool(st and st.can_revert) or (can_choose and job.swapped))
