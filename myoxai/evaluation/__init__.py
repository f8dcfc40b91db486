"""Offline evaluation protocols on real recordings (``myoxai eval``).

- ``data``: ``WindowSet`` (spectrograms, windows, labels, per-window metadata) of a dataset selection;
- ``protocols``: intra-day / inter-day / inter-subject (long-term dataset) and intra-/inter-session
  (myo-readings) as train-then-test jobs, with an adaptation hook between training and each test set;
- ``metrics``: accuracy, balanced accuracy, macro-F1, confusion, summary over subjects;
- ``figures``: accuracy-vs-day and confusion-matrix PNGs.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable

from myoxai.errors import MyoxaiError


def parse_int_list(text: str | None, what: str) -> list[int] | None:
    """The one parser of number lists: '1-6', '1,3,5', '1-3,7' or '2-30:7' (every 7th) → sorted unique ints.

    None or '' → None (meaning all). A malformed list is a ``MyoxaiError`` naming the option ``--what``.
    """
    if not text:
        return None
    out: set[int] = set()
    try:
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            rng, _, step = part.partition(":")
            lo, _, hi = rng.partition("-")
            a, b, k = int(lo), int(hi or lo), int(step or 1)
            if b < a or k < 1:
                raise ValueError
            out.update(range(a, b + 1, k))
    except ValueError:
        raise MyoxaiError(f"--{what} {text!r}: use numbers and ranges like 1-6, 1,2,5 or 2-30:7 (every 7th)") from None
    return sorted(out)


def int_list_arg(what: str) -> Callable[[str], list[int]]:
    """``parse_int_list`` as an argparse ``type=`` (a bad list is a usage error, exit 2)."""

    def parse(text: str) -> list[int]:
        try:
            values = parse_int_list(text, what)
        except MyoxaiError as exc:
            raise argparse.ArgumentTypeError(str(exc)) from None
        if not values:
            raise argparse.ArgumentTypeError(f"--{what} needs at least one number")
        return values

    return parse
