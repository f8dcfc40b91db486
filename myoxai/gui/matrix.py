"""The gestures × electrodes Shapley matrix, accumulated over the session.

Row g is the mean φ (of the predicted class's probability) over every decision that predicted g,
so it shows which electrodes the model relies on for each gesture across the whole session.
"""

from __future__ import annotations

import time
from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtWidgets

from myoxai.engine.decision import Decision
from myoxai.gui.colors import lookup_table, symmetric_limit


class ShapleyMatrix(QtWidgets.QWidget):
    """Image of mean φ per (predicted gesture, electrode) with decision counts; Reset starts over."""

    def __init__(self, n_channels: int = 8) -> None:
        super().__init__()
        self.n_channels = n_channels
        layout = QtWidgets.QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        self.plot = pg.PlotWidget(title="session φ by gesture")
        self.plot.setToolTip("mean exact Shapley value per electrode over every decision that predicted the gesture "
                             "(decisions counted in brackets)")
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.getPlotItem().invertY(True)
        self.image = pg.ImageItem(axisOrder="row-major")
        self.image.setLookupTable(lookup_table())
        self.plot.addItem(self.image)
        self.reset_button = QtWidgets.QPushButton("Reset matrix")
        self.reset_button.clicked.connect(self.reset)
        layout.addWidget(self.plot)
        layout.addWidget(self.reset_button)
        self.class_names: tuple[str, ...] = ()
        self.sums = np.zeros((0, n_channels))
        self.counts = np.zeros(0, np.int64)
        self._drawn_at = 0.0

    def set_classes(self, class_names: Sequence[str]) -> None:
        """Lay the matrix out for new gestures and clear the averages."""
        self.class_names = tuple(class_names)
        self.plot.setMinimumHeight(64 + 12 * len(self.class_names))  # one readable row label per gesture
        self.plot.getPlotItem().getAxis("left").setTicks([[(i + 0.5, c) for i, c in enumerate(self.class_names)]])
        self.plot.getPlotItem().getAxis("bottom").setTicks([[(i + 0.5, f"ch{i + 1}")
                                                             for i in range(self.n_channels)]])
        self.reset()

    def reset(self) -> None:
        """Clear the running φ averages."""
        self.sums = np.zeros((len(self.class_names), self.n_channels))
        self.counts = np.zeros(len(self.class_names), np.int64)
        self._draw()

    @property
    def mean(self) -> np.ndarray:
        """(gestures, electrodes) mean φ; NaN rows for gestures never predicted."""
        with np.errstate(invalid="ignore", divide="ignore"):
            return self.sums / self.counts[:, None]

    REDRAW_S = 0.25  # the session average changes slowly: redraw at 4 Hz, accumulate every decision

    def show_decisions(self, decisions: Sequence[Decision]) -> None:
        """Add the decisions' φ to their predicted class's average; redraw at most every ``REDRAW_S``."""
        for d in decisions:
            if d.phi is not None and d.raw_label < len(self.counts):
                self.sums[d.raw_label] += d.phi_label
                self.counts[d.raw_label] += 1
        now = time.perf_counter()
        if now - self._drawn_at >= self.REDRAW_S:
            self._draw()

    def _draw(self) -> None:
        self._drawn_at = time.perf_counter()
        m = np.nan_to_num(self.mean, nan=0.0)
        lim = symmetric_limit(m)
        self.image.setImage(m, levels=(-lim, lim), autoLevels=False)
        ticks = [(i + 0.5, f"{c} ({self.counts[i] if i < len(self.counts) else 0})")
                 for i, c in enumerate(self.class_names)]
        self.plot.getPlotItem().getAxis("left").setTicks([ticks])
        self.plot.setTitle(f"session φ by gesture (±{lim:.2f})")
