"""The interface every live panel implements (a Protocol: ABCMeta cannot be mixed into QObject), and shared widgets."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from PyQt6 import QtCore, QtGui, QtWidgets

from myoxai.engine.decision import Decision


def centred_label(text: str = "", point_size: int | None = None) -> QtWidgets.QLabel:
    """A centred label; with ``point_size``, in large bold type (the gesture, a wizard prompt)."""
    label = QtWidgets.QLabel(text)
    if point_size is not None:
        font = QtGui.QFont()
        font.setPointSize(point_size)
        font.setBold(True)
        label.setFont(font)
    label.setAlignment(QtCore.Qt.AlignmentFlag.AlignCenter)
    return label


@runtime_checkable
class DecisionView(Protocol):
    """A panel fed by the window's timer with the decisions published since its last tick."""

    def set_classes(self, class_names: Sequence[str]) -> None:
        """(Re)build for a model's gestures (called at start and after a model with new gestures)."""

    def show_decisions(self, decisions: Sequence[Decision]) -> None:
        """Draw the newest state; ``decisions`` is non-empty and oldest first."""
