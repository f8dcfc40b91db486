"""Compact drift panel: one state (OK / watch / recalibrate) with its cause, the components, and a score trend.

It never touches the engine's drift stage: the window's timer hands it every drained
``DecisionBatch`` (``show_batch``: the latest assessment and the trend points made since) and calls
``refresh`` twice a second. The trend shows the score (1 = a component at its recalibrate
threshold) over the last minutes, with the watch and recalibrate levels drawn in.
"""

from __future__ import annotations

import collections
from typing import Any

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtWidgets

from myoxai.adapt.drift import DriftAssessment, DriftThresholds
from myoxai.engine.decision import DecisionBatch
from myoxai.engine.drift import cause_sentence

__all__ = ["DriftPanel", "cause_sentence"]

STATE_STYLE = {"ok": ("OK", "#1b7f3b"), "watch": ("WATCH", "#b7791f"), "recalibrate": ("RECALIBRATE", "#c0392b")}
TREND_S = 300.0


def _fmt(v: Any, spec: str) -> str:
    return "–" if v is None else format(v, spec)


class DriftPanel(QtWidgets.QGroupBox):
    """State, cause, components and trend of the drift assessments an engine publishes."""

    def __init__(self) -> None:
        super().__init__("Drift since calibration")
        self.latest: DriftAssessment | None = None  # None: drift monitoring unavailable
        self.trend: collections.deque[tuple[float, DriftAssessment]] = collections.deque(maxlen=600)
        self.state, self.cause = "ok", ""
        self.components_now: dict[str, Any] = {}
        layout = QtWidgets.QVBoxLayout(self)
        self.state_label = QtWidgets.QLabel("")
        self.state_label.setWordWrap(True)
        self.components = QtWidgets.QLabel("")
        self.components.setWordWrap(True)
        self.plot = pg.PlotWidget()
        self.plot.setMinimumHeight(70)
        self.plot.setMaximumHeight(140)
        self.plot.setLabel("left", "score")
        self.plot.setLabel("bottom", "seconds ago")
        self.plot.setXRange(-TREND_S, 0)
        self.plot.setYRange(0, 2.5)
        self.curve = self.plot.plot([], [], pen=pg.mkPen("k", width=2))
        self.plot.addItem(pg.InfiniteLine(1.0, angle=0, pen=pg.mkPen(STATE_STYLE["recalibrate"][1], style=pg.QtCore
                                                                            .Qt.PenStyle.DashLine)))
        self.watch_line = pg.InfiniteLine(0.6, angle=0, pen=pg.mkPen(STATE_STYLE["watch"][1],
                                                                     style=pg.QtCore.Qt.PenStyle.DotLine))
        self.plot.addItem(self.watch_line)
        layout.addWidget(self.state_label)
        layout.addWidget(self.components)
        layout.addWidget(self.plot)
        self.refresh()

    def reset(self, thresholds: DriftThresholds | None) -> None:
        """A new engine: the thresholds of its drift stage (None: it has none) place the watch line."""
        self.latest = None if thresholds is None else DriftAssessment()
        self.trend.clear()
        if (th := thresholds) is not None:  # the watch line where the tightest component turns to "watch"
            self.watch_line.setValue(min(w / r for w, r in (th.rotation, th.gain, th.shapley, th.confidence)))
        self.refresh()

    def show_batch(self, batch: DecisionBatch) -> None:
        """Take the drift of a drained ``DecisionBatch`` (drawn at the next ``refresh``)."""
        self.latest = batch.drift
        self.trend.extend(batch.drift_trend)

    def refresh(self) -> None:
        """Redraw from the latest assessment (called by the window's timer)."""
        if self.latest is None:
            self.state, self.cause, self.components_now = "ok", "", {}
            self.state_label.setText("drift monitor off: the model has no calibration reference "
                                     "(train it with myoxai train or the calibration wizard)")
            self.components.setText("")
            self.curve.setData([], [])
            return
        a, trend = self.latest, self.trend
        self.state, self.cause, self.components_now = a.state, a.cause, dict(a.components)
        word, colour = STATE_STYLE[a.state]
        why = cause_sentence(a.state, a.cause, a.components)
        waiting = "" if a.components else f" (collecting gestures: {a.n_windows} windows)"
        self.state_label.setText(f"<b style='color:{colour}; font-size:14pt'>{word}</b>"
                                 + (f" — {why}" if why else "") + waiting)
        c = a.components
        self.components.setText(
            f"rotation {_fmt(c.get('rotation'), '+.2f')} el. · gain ×{_fmt(c.get('gain'), '.2f')} · "
            f"confidence {_fmt(c.get('confidence'), '+.3f')} · entropy {_fmt(c.get('entropy'), '+.2f')} · "
            f"Shapley distance {_fmt(c.get('shapley'), '.3f')} · score {a.score:.2f}")
        if trend:
            t = np.array([p[0] for p in trend])
            keep = t >= t[-1] - TREND_S
            self.curve.setData(t[keep] - t[-1], np.array([p[1].score for p in trend])[keep], skipFiniteCheck=True)
