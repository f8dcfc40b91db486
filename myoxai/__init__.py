"""myoxai: real-time, explainable, self-recalibrating gesture recognition for the Myo armband."""

from __future__ import annotations

__version__ = "0.1.0"
