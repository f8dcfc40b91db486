"""Offline evaluation protocols on real recordings (``myoxai eval``).

- ``data``: ``WindowSet`` (spectrograms, windows, labels, per-window metadata) of a dataset selection,
  and the data units (subject-day, participant-session) that cells read and hash;
- ``cells``: ``Cell`` (one independent unit of a grid, described as JSON), per-cell seeds, per-process memo;
- ``executor``: ``run_grid`` runs cells sequentially or on Dask (``--workers``/``--scheduler``) with a
  resumable per-cell result cache;
- ``protocols``: intra-day / inter-day / inter-subject (long-term dataset) and intra-/inter-session
  (myo-readings) as train-then-test cells, with an adaptation hook between training and each test set;
- ``adaptation``: unsupervised recalibration (DANN, SCADANN, …) on separated adapt/test splits,
  one cell per subject-day;
- ``metrics``: accuracy, balanced accuracy, macro-F1, confusion, summary over subjects;
- ``figures``: accuracy-vs-day and confusion-matrix PNGs.
"""

from __future__ import annotations

from myoxai.errors import MyoxaiError


def parse_int_list(text: str | None, what: str) -> list[int] | None:
    """'1-6', '1,3,5', '1-3,7' or '2-30:7' (every 7th) → sorted unique ints; None/'' → None (all)."""
    if not text:
        return None
    out: set[int] = set()
    try:
        for part in text.split(","):
            part, _, step = part.strip().partition(":")
            if "-" in part:
                a, b = (int(x) for x in part.split("-", 1))
                if b < a or (step and int(step) < 1):
                    raise ValueError
                out.update(range(a, b + 1, int(step or 1)))
            elif part:
                out.add(int(part))
    except ValueError:
        raise MyoxaiError(f"--{what} {text!r}: use numbers and ranges like 1-6, 1,2,5 or 2-30:7 (a step)") from None
    return sorted(out)
