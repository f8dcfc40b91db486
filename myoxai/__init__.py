"""myoxai: real-time, explainable, self-recalibrating gesture recognition for the Myo armband.

The Python API (``myoxai.api``; imported on first use, so ``import myoxai`` stays light):
``open_recording``, ``open_source``, ``record``, ``load_model``, ``train_model``, ``classify``,
``run_live`` (the engine headless, one callback per decision with its exact Shapley values),
``evaluate`` and ``explain_recording``.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_API = ("open_recording", "open_source", "record", "load_model", "train_model", "classify", "run_live",
        "evaluate", "explain_recording", "Explanation")
__all__ = ["__version__", *_API]


def __getattr__(name: str) -> Any:
    """The API's functions, imported from ``myoxai.api`` when first asked for."""
    if name in _API:
        return getattr(importlib.import_module("myoxai.api"), name)
    raise AttributeError(f"module 'myoxai' has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_API))
