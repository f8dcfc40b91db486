"""Undo for every model swap a user causes: Quick adapt, Recalibrate, a quick calibration.

Each action that puts a new model in service records the model that served before it; ``undo``
puts exactly that model object back (the engine never changes a model in place, so it is the same
weights, standardiser, input rotation and drift reference) and forgets the action. A few actions
are kept; older ones fall off.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
from dataclasses import dataclass
from typing import Any

from myoxai.errors import MyoxaiError


@dataclass(frozen=True)
class Action:
    """One swap: what it was called and the model serving before it."""

    label: str
    before: Any
    version: int  # the engine's model version the action put in service
    data: Any = None  # with ``restores_data``: the calibration data that went with ``before``
    restores_data: bool = False  # the action also changed the labelled data (a quick calibration)


class ModelHistory:
    """The swaps of one engine, newest last, and the one way to take the last one back.

    Parameters
    ----------
    engine:
        The running ``Engine``.
    depth:
        Actions kept for undo.
    """

    def __init__(self, engine: Any, depth: int = 5) -> None:
        self.engine = engine
        self._actions: collections.deque[Action] = collections.deque(maxlen=depth)
        self._lock = threading.Lock()

    def swap(self, model: Any, label: str, new_classes: bool = False, **data: Any) -> Any:
        """Put ``model`` in service as the action ``label``; returns the engine's new ``ActiveModel``.

        ``data=...`` records the calibration data that went with the model before (restored on undo).
        """
        before = self.engine.active.model
        active = self.engine.swap_model(model, origin=label, new_classes=new_classes)
        self.record(label, before, active.version, **data)
        return active

    def record(self, label: str, before: Any, version: int, **data: Any) -> None:
        """Note an action whose swap the caller made itself (``before``: the model serving before it)."""
        with self._lock:
            self._actions.append(Action(label, before, version, data.get("data"), "data" in data))

    def amend(self, version: int) -> None:
        """The last action's result is now the engine's model ``version`` (e.g. SCADANN after its quick step)."""
        with self._lock:
            if self._actions:
                last = self._actions.pop()
                self._actions.append(dataclasses.replace(last, version=version))

    @property
    def last(self) -> Action | None:
        """The action ``undo`` would take back, or None."""
        with self._lock:
            return self._actions[-1] if self._actions else None

    def undo(self) -> Action:
        """Put the model serving before the last action back in service; returns that action."""
        with self._lock:
            if not self._actions:
                raise MyoxaiError("nothing to undo: no model was changed in this session")
            action = self._actions.pop()
        self.engine.swap_model(action.before, origin=f"undo {action.label}", new_classes=True)
        return action
