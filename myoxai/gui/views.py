"""The interface every live panel implements (a Protocol: ABCMeta cannot be mixed into QObject)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from myoxai.engine.decision import Decision


@runtime_checkable
class DecisionView(Protocol):
    """A panel fed by the window's timer with the decisions published since its last tick."""

    def set_classes(self, class_names: Sequence[str]) -> None:
        """(Re)build for a model's gestures (called at start and after a model with new gestures)."""

    def show_decisions(self, decisions: Sequence[Decision]) -> None:
        """Draw the newest state; ``decisions`` is non-empty and oldest first."""
