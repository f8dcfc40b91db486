"""Joining drained chunks into gap-free runs, so a backlog costs one dsp push per run, not one per chunk.

The streaming dsp gives identical windows for any chunking, so joining is free of side effects.
A run is itself a ``Chunk``: its ``gap`` is its first chunk's, and a chunk with a gap always starts
a new run because the engine resets the dsp there.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from myoxai.sources.base import Chunk


def continuous_runs(chunks: Sequence[Chunk]) -> list[Chunk]:
    """Join chunks into runs that break only at gaps (or where labels appear/disappear)."""
    groups: list[list[Chunk]] = []
    for c in chunks:
        if len(c) == 0:
            continue
        if groups and c.gap <= 0 and (c.labels is None) == (groups[-1][-1].labels is None):
            groups[-1].append(c)
        else:
            groups.append([c])
    return [group[0] if len(group) == 1 else _join(group) for group in groups]


def _join(group: list[Chunk]) -> Chunk:
    labels = None if group[0].labels is None else np.concatenate([c.labels for c in group])
    samples, ts, seq = (np.concatenate([getattr(c, k) for c in group]) for k in ("samples", "timestamps", "seq"))
    return Chunk(samples, ts, seq, group[0].gap, labels)
