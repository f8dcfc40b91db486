"""A one-line label that elides what does not fit and shows the whole text as its tooltip.

Panels whose width the user controls (splitters, a 1280-px screen) use it for status lines, so text
is never clipped mid-word and never pushes the window's minimum size beyond the screen.
"""

from __future__ import annotations

from PyQt6 import QtCore, QtGui, QtWidgets


class ElidedLabel(QtWidgets.QLabel):
    """Plain text on one line, elided at the right (``…``) when narrower than the text; tooltip = full text."""

    def __init__(self, text: str = "", parent: QtWidgets.QWidget | None = None) -> None:
        super().__init__(parent)
        self.full_text = ""
        self.setTextFormat(QtCore.Qt.TextFormat.PlainText)
        self.setSizePolicy(QtWidgets.QSizePolicy.Policy.Ignored, QtWidgets.QSizePolicy.Policy.Fixed)
        self.set_full_text(text)

    def set_full_text(self, text: str, tooltip: str = "") -> None:
        """Show ``text`` (elided to the width); the tooltip is ``tooltip`` or, when elided, ``text``."""
        self.full_text = text
        self._tooltip = tooltip
        self._elide()

    def setText(self, text: str | None) -> None:  # noqa: N802 - Qt name: a drop-in QLabel
        """Same as ``set_full_text(text)``."""
        self.set_full_text(text or "")

    def text(self) -> str:
        """The full text (what is shown may be elided)."""
        return self.full_text

    def _elide(self) -> None:
        shown = self.fontMetrics().elidedText(self.full_text, QtCore.Qt.TextElideMode.ElideRight,
                                               max(self.contentsRect().width(), 10))
        super().setText(shown)
        self.setToolTip(self._tooltip or (self.full_text if shown != self.full_text else ""))

    def resizeEvent(self, event: QtGui.QResizeEvent) -> None:  # noqa: N802 - Qt override
        """Elide again for the new width."""
        super().resizeEvent(event)
        self._elide()

    def minimumSizeHint(self) -> QtCore.QSize:  # noqa: N802 - Qt override
        """One line of any width: the text never sets the window's minimum width."""
        return QtCore.QSize(10, super().minimumSizeHint().height())
