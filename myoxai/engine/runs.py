"""Joining drained chunks into gap-free runs, so a backlog costs one dsp push per run, not one per chunk.

The streaming dsp gives identical windows for any chunking, so joining is free of side effects;
a gap (``Chunk.gap > 0``) always starts a new run because the engine resets the dsp there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np


@dataclass(frozen=True)
class Run:
    """Consecutive chunks without a gap between them, joined (one dsp push instead of one per chunk)."""

    samples: np.ndarray
    timestamps: np.ndarray
    labels: np.ndarray | None
    gap: int

    def __len__(self) -> int:
        return int(self.samples.shape[0])


def continuous_runs(chunks: Sequence[Any]) -> list[Run]:
    """Join chunks into runs that break only at gaps (or where labels appear/disappear)."""
    runs: list[list[Any]] = []
    for c in chunks:
        if len(c) == 0:
            continue
        if runs and c.gap <= 0 and (c.labels is None) == (runs[-1][-1].labels is None):
            runs[-1].append(c)
        else:
            runs.append([c])
    out = []
    for group in runs:
        if len(group) == 1:
            c = group[0]
            out.append(Run(c.samples, c.timestamps, c.labels, c.gap))
            continue
        labels = None if group[0].labels is None else np.concatenate([c.labels for c in group])
        out.append(Run(np.concatenate([c.samples for c in group]), np.concatenate([c.timestamps for c in group]),
                        labels, group[0].gap))
    return out
