"""The armband ring: one sector per electrode, as the pods sit around the forearm, coloured by φ.

Drawn with QPainter (pyqtgraph has no annulus item). Electrode 1 is at the top and the numbering
runs clockwise, the Myo's pod order seen from the hand looking towards the elbow; each sector's
colour is the exact Shapley value of the predicted class's probability for that electrode on the
diverging map (red pushes towards the gesture, blue away), scaled symmetrically. Hovering a
sector shows its number.

With interactions on (the ring's context menu, or ``interactions_action`` placed in a window's menu),
the strongest pairwise Shapley interactions of the same probability are drawn as chords across the
ring: red where two electrodes add more together than apart, blue where they are redundant, the
width by strength. They come with each decision (no extra computation here); models without them
show none.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from PyQt6 import QtCore, QtGui, QtWidgets

from myoxai.engine.decision import Decision
from myoxai.gui.colors import signed_colors, symmetric_limit

CHORDS = 3  # strongest pairs drawn
CHORD_SHARE = 0.1  # pairs weaker than this share of the strongest are not drawn


class ArmbandRing(QtWidgets.QWidget):
    """Eight annulus sectors coloured by the current φ of the predicted class."""

    def __init__(self, n_channels: int = 8) -> None:
        super().__init__()
        self.n = n_channels
        self.phi = np.zeros(n_channels)
        self.total = 0.0
        self.limit = 0.05
        self.gesture = ""
        self.class_names: tuple[str, ...] = ()
        self.chords: list[tuple[int, int, float]] = []  # (electrode i, electrode j, I_ij) strongest first
        self.setMouseTracking(True)
        self.setMinimumSize(180, 180)  # fits the right column of a 1280×800 screen
        self.setToolTip("exact Shapley value per electrode (hover a sector; right-click: interactions)")
        self.interactions_action = QtGui.QAction("Show electrode interactions (chords)", self, checkable=True)
        self.interactions_action.toggled.connect(self.set_show_interactions)
        self.setContextMenuPolicy(QtCore.Qt.ContextMenuPolicy.ActionsContextMenu)
        self.addAction(self.interactions_action)

    @property
    def show_interactions(self) -> bool:
        """Whether the strongest pairwise interactions are drawn as chords."""
        return self.interactions_action.isChecked()

    def set_show_interactions(self, on: bool) -> None:
        """Draw (or stop drawing) the interaction chords from the next repaint."""
        if self.interactions_action.isChecked() != bool(on):
            self.interactions_action.setChecked(bool(on))  # comes back here through ``toggled``
            return
        if not on:
            self.chords = []
        self.update()

    def set_classes(self, class_names: Sequence[str]) -> None:
        """Use these gesture names in the tooltip."""
        self.class_names = tuple(class_names)

    def show_decisions(self, decisions: Sequence[Decision]) -> None:
        """Show the newest decision's φ of its predicted class."""
        d = decisions[-1]
        if d.phi is None:
            return
        self.phi = np.asarray(d.phi_label, dtype=np.float64)
        self.total = float(d.total[d.raw_label])
        self.limit = symmetric_limit(self.phi)
        self.gesture = self.class_names[d.raw_label] if d.raw_label < len(self.class_names) else str(d.raw_label)
        self.chords = []
        if self.show_interactions and d.interactions is not None:
            from myoxai.explain.interactions import strongest_pairs

            pairs = strongest_pairs(d.interactions[d.raw_label], CHORDS, self.n)
            top = abs(pairs[0][2]) if pairs else 0.0
            self.chords = [p for p in pairs if top > 0 and abs(p[2]) >= CHORD_SHARE * top]
        self.update()

    # geometry ---------------------------------------------------------------------------------
    def _geometry(self) -> tuple[QtCore.QPointF, float, float]:
        side = min(self.width(), self.height()) - 20
        center = QtCore.QPointF(self.width() / 2, self.height() / 2)
        return center, side / 2, side / 2 * 0.55

    def sector_angles(self, i: int) -> tuple[float, float]:
        """(start, span) in Qt degrees (0 = 3 o'clock, counter-clockwise) of electrode ``i`` (0-based)."""
        span = 360.0 / self.n
        centre = 90.0 - i * span  # electrode 1 at 12 o'clock, then clockwise
        return centre - span / 2, span

    def sector_at(self, pos: QtCore.QPointF) -> int | None:
        """0-based electrode under ``pos``, or None off the ring."""
        center, r_out, r_in = self._geometry()
        dx, dy = pos.x() - center.x(), center.y() - pos.y()
        r = math.hypot(dx, dy)
        if not r_in <= r <= r_out:
            return None
        angle = math.degrees(math.atan2(dy, dx))  # counter-clockwise from 3 o'clock
        span = 360.0 / self.n
        return int(round((90.0 - angle) / span)) % self.n

    # painting -------------------------------------------------------------------------------
    def paintEvent(self, event: QtGui.QPaintEvent) -> None:  # noqa: N802 - Qt override
        """Draw the eight electrode sectors coloured by signed φ, and the gesture in the centre."""
        p = QtGui.QPainter(self)
        p.setRenderHint(QtGui.QPainter.RenderHint.Antialiasing)
        center, r_out, r_in = self._geometry()
        outer = QtCore.QRectF(center.x() - r_out, center.y() - r_out, 2 * r_out, 2 * r_out)
        inner = QtCore.QRectF(center.x() - r_in, center.y() - r_in, 2 * r_in, 2 * r_in)
        colors = signed_colors(self.phi, self.limit)
        p.setPen(QtGui.QPen(QtGui.QColor(90, 90, 90), 1.5))
        for i in range(self.n):
            start, span = self.sector_angles(i)
            path = QtGui.QPainterPath()
            path.arcMoveTo(outer, start)
            path.arcTo(outer, start, span)
            path.arcTo(inner, start + span, -span)
            path.closeSubpath()
            p.setBrush(QtGui.QBrush(colors[i]))
            p.setPen(QtGui.QPen(QtGui.QColor(90, 90, 90), 1.5))
            p.drawPath(path)
            strong = abs(self.phi[i]) > 0.6 * self.limit  # dark fill: write in white
            p.setPen(QtGui.QColor(255, 255, 255) if strong else QtGui.QColor(20, 20, 20))
            mid = math.radians(start + span / 2)
            r_mid = (r_out + r_in) / 2
            pt = QtCore.QPointF(center.x() + r_mid * math.cos(mid), center.y() - r_mid * math.sin(mid))
            p.drawText(QtCore.QRectF(pt.x() - 30, pt.y() - 16, 60, 32), QtCore.Qt.AlignmentFlag.AlignCenter,
                       f"ch{i + 1}\n{self.phi[i]:+.2f}")
        self._draw_chords(p, center, r_in)
        p.setPen(QtGui.QColor(20, 20, 20))
        p.drawText(inner, QtCore.Qt.AlignmentFlag.AlignCenter,
                   f"φ of\n{self.gesture or '…'}\nC = {self.total:+.2f}\nscale ±{self.limit:.2f}")
        p.end()

    def _draw_chords(self, p: QtGui.QPainter, center: QtCore.QPointF, r_in: float) -> None:
        """The strongest interactions as curves between the sectors' inner edges (red +, blue −)."""
        if not self.chords:
            return
        top = max(abs(v) for _, _, v in self.chords)
        p.setBrush(QtCore.Qt.BrushStyle.NoBrush)
        for i, j, v in self.chords:
            a, b = (self._inner_point(k, center, r_in) for k in (i, j))
            path = QtGui.QPainterPath(a)
            path.quadTo(center, b)  # bowed towards the centre, so neighbours' chords stay visible
            color = QtGui.QColor(200, 30, 30, 200) if v > 0 else QtGui.QColor(30, 80, 200, 200)
            p.setPen(QtGui.QPen(color, 1.5 + 5.0 * abs(v) / top, cap=QtCore.Qt.PenCapStyle.RoundCap))
            p.drawPath(path)

    def _inner_point(self, i: int, center: QtCore.QPointF, r_in: float) -> QtCore.QPointF:
        start, span = self.sector_angles(i)
        mid = math.radians(start + span / 2)
        return QtCore.QPointF(center.x() + r_in * math.cos(mid), center.y() - r_in * math.sin(mid))

    def mouseMoveEvent(self, event: QtGui.QMouseEvent) -> None:  # noqa: N802 - Qt override
        """Tooltip with the φ of the electrode under the pointer."""
        i = self.sector_at(event.position())
        if i is None:
            QtWidgets.QToolTip.hideText()
            return
        text = f"electrode {i + 1}: φ = {self.phi[i]:+.4f} (of p({self.gesture or '?'}))\nΣφ = C = {self.total:+.4f}"
        text += "".join(f"\nI(e{a + 1}, e{b + 1}) = {v:+.4f}" for a, b, v in self.chords if i in (a, b))
        QtWidgets.QToolTip.showText(event.globalPosition().toPoint(), text, self)
