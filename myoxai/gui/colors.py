"""The one diverging colour map of the app (signed Shapley values): blue < 0 < red, white at 0."""

from __future__ import annotations

import numpy as np
import pyqtgraph as pg

DIVERGING = pg.ColorMap([0.0, 0.5, 1.0], [(33, 102, 172), (247, 247, 247), (178, 24, 43)])


def symmetric_limit(values: np.ndarray, floor: float = 0.05) -> float:
    """Colour-scale half range: the largest |value|, never below ``floor`` (so noise stays pale)."""
    v = np.asarray(values, dtype=np.float64)
    v = v[np.isfinite(v)]
    return max(floor, float(np.abs(v).max())) if v.size else floor


def signed_colors(values: np.ndarray, limit: float) -> list:
    """QColors of signed values on the diverging map scaled to ±limit."""
    pos = np.clip(0.5 + 0.5 * np.asarray(values, dtype=np.float64) / limit, 0.0, 1.0)
    return DIVERGING.map(pos, mode="qcolor")


def lookup_table(n: int = 256) -> np.ndarray:
    """(n, 4) uint8 lookup table of the diverging map for ImageItems."""
    return DIVERGING.getLookupTable(0.0, 1.0, n)
