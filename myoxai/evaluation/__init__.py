"""Offline evaluation protocols on real recordings (``myoxai eval``).

- ``data``: ``WindowSet`` (spectrograms, windows, labels, per-window metadata) of a dataset selection;
- ``protocols``: intra-day / inter-day / inter-subject (long-term dataset) and intra-/inter-session
  (myo-readings) as train-then-test jobs, with an adaptation hook between training and each test set;
- ``metrics``: accuracy, balanced accuracy, macro-F1, confusion, summary over subjects;
- ``figures``: accuracy-vs-day and confusion-matrix PNGs.
"""

from __future__ import annotations

from myoxai.errors import MyoxaiError


def parse_int_list(text: str | None, what: str) -> list[int] | None:
    """'1-6', '1,3,5' or '1-3,7' → sorted unique ints; None/'' → None (all)."""
    if not text:
        return None
    out: set[int] = set()
    try:
        for part in text.split(","):
            part = part.strip()
            if "-" in part:
                a, b = (int(x) for x in part.split("-", 1))
                if b < a:
                    raise ValueError
                out.update(range(a, b + 1))
            elif part:
                out.add(int(part))
    except ValueError:
        raise MyoxaiError(f"--{what} {text!r}: use numbers and ranges like 1-6 or 1,2,5") from None
    return sorted(out)
