"""The recognised gesture in large type and a probability bar for every class."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyqtgraph as pg
from PyQt6 import QtWidgets

from myoxai.engine.decision import REJECTED, Decision
from myoxai.gui.views import centred_label


class GesturePanel(QtWidgets.QWidget):
    """Big label (post-processed decision) above horizontal probability bars (raw model output)."""

    def __init__(self) -> None:
        super().__init__()
        layout = QtWidgets.QVBoxLayout(self)
        self.label = centred_label("waiting for data…", point_size=30)
        self.detail = centred_label()
        self.plot = pg.PlotWidget()
        self.plot.setMouseEnabled(x=False, y=False)
        self.plot.setMenuEnabled(False)
        self.plot.hideButtons()
        self.plot.setXRange(0, 1, padding=0.02)
        self.plot.setLabel("bottom", "probability")
        self.plot.getPlotItem().invertY(True)
        layout.addWidget(self.label)
        layout.addWidget(self.detail)
        layout.addWidget(self.plot, stretch=1)
        self.class_names: tuple[str, ...] = ()
        self.bars: pg.BarGraphItem | None = None
        self.probabilities = np.zeros(0)

    def set_classes(self, class_names: Sequence[str]) -> None:
        """Rebuild the bars for new gestures."""
        self.class_names = tuple(class_names)
        n = len(self.class_names)
        if self.bars is not None:
            self.plot.removeItem(self.bars)
        self.probabilities = np.zeros(n)
        self.bars = pg.BarGraphItem(x0=np.zeros(n), y=np.arange(n), height=0.7, width=self.probabilities,
                                    brush=pg.mkBrush(70, 130, 180))
        self.plot.addItem(self.bars)
        self.plot.getPlotItem().getAxis("left").setTicks([list(enumerate(self.class_names))])
        self.plot.setYRange(-0.5, n - 0.5, padding=0)

    def show_decisions(self, decisions: Sequence[Decision]) -> None:
        """Show the newest decision's probabilities, its class highlighted."""
        d = decisions[-1]
        self.probabilities = np.asarray(d.probabilities, dtype=np.float64)
        if self.bars is not None:
            brushes = [pg.mkBrush(220, 120, 40) if i == d.raw_label else pg.mkBrush(70, 130, 180)
                       for i in range(len(self.probabilities))]
            self.bars.setOpts(width=self.probabilities, brushes=brushes)
        if d.label == REJECTED:
            self.label.setText("— (unsure)")
        else:
            self.label.setText(self.class_names[d.label] if d.label < len(self.class_names) else str(d.label))
        truth = ""
        if d.true_label is not None and 0 <= d.true_label < len(self.class_names):
            truth = f"   recording says: {self.class_names[d.true_label]}"
        self.detail.setText(f"confidence {d.confidence:.2f} (vote){truth}")
