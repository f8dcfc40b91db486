"""Quick adapt, Recalibrate (Accept / Revert) and Undo: the buttons over ``myoxai.live.recalibration``.

The work happens in ``Recalibration`` (the checked Quick adapt within a second, SCADANN in a child
process); this panel starts it, polls its state from the window's timer and forwards the user's
choice. Which buttons are enabled follows the state alone (``RecalibrationState``): Start while
nothing is under way or offered, Cancel while under way, Accept and Revert only while a result is
offered. Undo takes back the last model change of any kind (``ModelHistory``).

The second step, "Recalibrate with labels (35 s)", opens the calibration wizard's quick mode on the
calibration model (``open_labeled``, set by the window); its result is put in service by
``use_model`` like any calibration, so Undo takes it back. When the drift monitor says RECALIBRATE
the panel proposes Quick adapt first, and the 35-s recalibration once a Quick adapt has had
``SETTLE_S`` seconds to bring the state back to OK and has not.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PyQt6 import QtCore, QtWidgets

from myoxai.errors import MyoxaiError
from myoxai.live.history import ModelHistory
from myoxai.live.recalibration import Recalibration

SETTLE_S = 15.0  # seconds the drift monitor gets to re-measure after a Quick adapt before the next step is proposed
LABELED = "Recalibrate with labels (35 s)"


def _fmt(v: Any) -> str:
    return "n/a" if v is None else f"{v:.3f}" if isinstance(v, float) else str(v)


def _show(label: QtWidgets.QLabel, text: str, tooltip: str = "") -> None:
    """Set a message's text (wrapped to the panel's width, never cut); an empty one takes no room."""
    label.setText(text)
    label.setToolTip(tooltip)
    label.setVisible(bool(text))


def _label(text: str = "") -> QtWidgets.QLabel:
    """A plain-text message that wraps: the reason a Quick adapt was declined must be readable whole."""
    label = QtWidgets.QLabel(text)
    label.setTextFormat(QtCore.Qt.TextFormat.PlainText)
    label.setWordWrap(True)
    return label


class RecalibratePanel(QtWidgets.QGroupBox):
    """Controls and results of Quick adapt, one Recalibrate at a time, and Undo."""

    def __init__(self) -> None:
        super().__init__("Adapt to today (unlabeled)")
        self.engine: Any = None
        self.source_data: Any = None
        self.settings: Any = None  # myoxai.adapt.RecalibrationSettings (defaults when None)
        self.niceness = 10  # the training process's lowered priority (see Recalibration)
        self.job: Recalibration | None = None
        self.history: ModelHistory | None = None
        self.open_labeled: Callable[[], Any] | None = None  # opens the 35-s recalibration (the window sets it)
        self._quick_seen: Any = None  # the last Quick adapt result seen, and when (drift prompt's second step)
        self._quick_t = 0.0
        layout = QtWidgets.QVBoxLayout(self)
        self.quick_button = QtWidgets.QPushButton("Quick adapt")
        self.quick_button.setToolTip("rotation compensation, re-normalisation and prototype head on the buffer: "
                                     "instant, no training; applied only if a check on held-back windows "
                                     "shows no harm")
        self.start_button = QtWidgets.QPushButton("Recalibrate")
        self.start_button.setToolTip("Quick adapt, then SCADANN in the background; you Accept or Revert its result")
        self.labeled_button = QtWidgets.QPushButton(LABELED)
        self.labeled_button.setToolTip("hold each gesture once (about 35 s) plus a short held-out hold: Quick adapt, "
                                       "then the current model is fine-tuned on the holds in about a second; you "
                                       "see its held-out accuracy before it is used")
        self.cancel_button = QtWidgets.QPushButton("Cancel")
        self.undo_button = QtWidgets.QPushButton("Undo")
        self.rotation = _label()
        self.progress = QtWidgets.QProgressBar()
        self.progress.setRange(0, 1000)
        self.message = _label()
        self.result = _label()
        self.accept_button = QtWidgets.QPushButton("Accept")
        self.revert_button = QtWidgets.QPushButton("Revert")
        self.revert_button.setToolTip("return to the model that served before this Recalibrate")
        self.drift_prompt = _label()  # the drift monitor's reason to recalibrate, beside the button
        self.drift_prompt.setStyleSheet("color: #c0392b; font-weight: bold")
        top = QtWidgets.QHBoxLayout()
        for b in (self.quick_button, self.start_button, self.cancel_button, self.undo_button):
            top.addWidget(b)
        row = QtWidgets.QHBoxLayout()
        row.addWidget(self.accept_button)
        row.addWidget(self.revert_button)
        for w in (top, self.labeled_button, self.drift_prompt, self.rotation, self.progress, self.message, self.result,
                  row):
            (layout.addLayout if isinstance(w, QtWidgets.QLayout) else layout.addWidget)(w)
        layout.addStretch(1)
        layout.setSpacing(4)
        self.start_button.clicked.connect(self.start)
        self.quick_button.clicked.connect(self.quick)
        self.cancel_button.clicked.connect(self.cancel)
        self.accept_button.clicked.connect(self.accept)
        self.revert_button.clicked.connect(self.revert)
        self.undo_button.clicked.connect(self.undo)
        self.labeled_button.clicked.connect(self.labeled)
        self.refresh()

    def attach(self, engine: Any, source_data: Any) -> None:
        """Use this engine and the active model's training data (None = Recalibrate unavailable)."""
        if self.job is not None and self.job.running:
            self.job.cancel()
        if engine is not self.engine or self.history is None:
            self.history = ModelHistory(engine)
        self.engine, self.source_data, self.job = engine, source_data, None
        self._quick_seen = None  # a new model: the drift prompt starts again from Quick adapt
        _show(self.result, "")
        _show(self.message, "" if source_data is not None else
              "Recalibrate needs the model's training data: use the bundled model or the calibration wizard")
        self.refresh()

    def use_model(self, model: Any, source_data: Any, origin: str) -> None:
        """Put a loaded or calibrated model in service as one undoable action."""
        assert self.history is not None
        self.history.swap(model, origin, new_classes=True, data=self.source_data)
        self.attach(self.engine, source_data)

    def _job(self) -> Recalibration:
        """One job per attached model, so repeated presses adapt the calibration model, not an adapted one."""
        if self.job is None:
            self.job = Recalibration(self.engine, self.source_data, self.history, settings=self.settings,
                                     niceness=self.niceness)
        return self.job

    def _try(self, action: Any) -> None:
        if self.engine is None:
            return
        try:
            action()
        except MyoxaiError as exc:
            self.refresh()
            _show(self.message, str(exc))
            return
        self.refresh()

    def quick(self) -> None:
        """Quick adapt now (applied only if the no-harm check passes); the outcome is shown in the panel."""
        self._try(lambda: self._job().start_quick())

    def start(self) -> None:
        """Start a Recalibrate in the background."""
        self._try(lambda: self._job().start())

    def calibration_model(self) -> Any:
        """The model Quick adapt and the 35-s recalibration start from (the attached one, not an adapted copy)."""
        return self.job.base if self.job is not None else self.engine.active.model

    def labeled(self) -> Any:
        """Open the 35-s labeled recalibration (the wizard's quick mode on the calibration model); returns it."""
        if self.engine is None or self.open_labeled is None:
            return None
        return self.open_labeled()

    def cancel(self) -> None:
        """Stop the running recalibration (the current model stays)."""
        if self.job is not None:
            self.job.cancel()

    def accept(self) -> None:
        """Keep the offered model."""
        self._try(lambda: self._job().accept())

    def revert(self) -> None:
        """Return to the model before this Recalibrate."""
        self._try(lambda: self._job().revert())

    def undo(self) -> None:
        """Put back the model that served before the last change (Quick adapt, Recalibrate, calibration, load)."""
        def go() -> None:
            assert self.history is not None
            if self.job is not None and (self.job.state().busy or self.job.state().can_choose):
                raise MyoxaiError("finish the recalibration first (Cancel, Accept or Revert)")
            action = self.history.undo()
            data = action.data if action.restores_data else self.source_data
            self.attach(self.engine, data)
            _show(self.message, f"undone: {action.label} (the model before it serves again)")

        self._try(go)

    def show_drift(self, cause: str) -> None:
        """Prompt next to the buttons when the drift monitor says "recalibrate" ('' hides it).

        The first step proposed is Quick adapt; once one ran and ``SETTLE_S`` later the state is still
        RECALIBRATE, the 35-s recalibration (its button is then highlighted).
        """
        quick_done = self._quick_seen is not None
        second = bool(cause) and quick_done and time.monotonic() - self._quick_t >= SETTLE_S
        if not cause:
            text = ""
        elif second:
            text = f"Quick adapt did not fix it: try {LABELED} — {cause}"
        elif quick_done:
            text = f"Quick adapt ran; the drift monitor is re-measuring… — {cause}"
        else:
            text = f"Recalibration advised: try Quick adapt first — {cause}"
        _show(self.drift_prompt, text)  # the advice first, then the cause
        self.labeled_button.setStyleSheet("font-weight: bold; color: #c0392b" if second else "")
        self.quick_button.setStyleSheet("font-weight: bold; color: #c0392b" if cause and not quick_done else "")

    def refresh(self) -> None:
        """Poll the engine and the job (called by the window's timer); the buttons follow the state."""
        st = self.engine.status() if self.engine is not None else None
        if st is not None:  # the title carries the buffer and the model: one line less in a tight column
            self.setTitle(f"Adapt to today — {st.buffered_seconds:.0f} s buffered, model v{st.model_version}")
            self.setToolTip(f"model v{st.model_version}: {st.model_origin}; {st.buffered_windows} unlabeled windows "
                            "buffered")
        job = self.job.state() if self.job is not None else None
        busy, offered = job is not None and job.busy, job is not None and job.can_choose
        self.start_button.setEnabled(self.engine is not None and self.source_data is not None
                                     and not busy and not offered)
        self.quick_button.setEnabled(self.engine is not None and not busy and not offered)
        self.labeled_button.setEnabled(self.engine is not None and self.open_labeled is not None
                                       and not busy and not offered)
        self.cancel_button.setEnabled(job is not None and job.state in ("preparing", "running"))
        self.accept_button.setEnabled(offered)
        self.revert_button.setEnabled(offered)
        last = self.history.last if self.history is not None else None
        self.undo_button.setEnabled(last is not None and not busy and not offered)
        self.undo_button.setToolTip(f"undo {last.label}" if last else "nothing to undo")
        self.progress.setVisible(job is not None and job.state not in ("idle", "adapting"))
        if job is None:
            _show(self.rotation, "")
            _show(self.result, "")
            self.progress.setValue(0)
            return
        if job.quick is not None:
            if job.quick is not self._quick_seen:
                self._quick_seen, self._quick_t = job.quick, time.monotonic()
            q = job.quick.report
            shift = "not estimated" if q.rotation_shift is None else f"{q.rotation_shift:+.2f} electrodes"
            verdict = "applied" if job.quick.accepted else "not applied (no-harm check)"
            _show(self.rotation, f"rotation since calibration {shift}; Quick adapt {verdict}",
                  f"no-harm check on held-back windows: {job.quick.check.summary()}")
        self.progress.setValue(int(job.progress * 1000))
        _show(self.message, job.message)
        if job.report is not None and job.state in ("offered", "accepted", "reverted", "declined"):
            r = job.report
            _show(self.result, f"{r.method} {r.status}: source-validation accuracy "
                  f"{_fmt(r.source_val_accuracy_before)} → {_fmt(r.source_val_accuracy_after)}"
                  + (f" — {r.reason}" if r.reason else ""),
                  f"pseudo-label coverage {_fmt(r.coverage)}, agreement {_fmt(r.agreement)}; {r.n_target} windows, "
                  f"{_fmt(r.seconds)} s")
        else:
            _show(self.result, "")
