"""Argument types shared by the ``myoxai`` commands and the benches: number lists, speeds, seconds.

A leaf module (imports only ``errors``), so commands, benches and the evaluation's planning parse
the same text the same way. Each ``*_arg``/type function is an argparse ``type=``: bad text is a
usage error (exit 2) that says what to write instead.
"""

from __future__ import annotations

import argparse
import math
import os
from collections.abc import Callable

from myoxai.errors import MyoxaiError

MAX_LIST = 10_000
"""Most numbers a list option may expand to (a dataset has tens of subjects and days, not billions)."""


def parse_int_list(text: str | None, what: str) -> list[int] | None:
    """The one parser of number lists: '1-6', '1,3,5', '1-3,7' or '2-30:7' (every 7th) → sorted unique ints.

    None or '' → None (meaning all). A malformed list, or one of more than ``MAX_LIST`` numbers
    (counted before any is made), is a ``MyoxaiError`` naming the option ``--what``.
    """
    if not text:
        return None
    ranges: list[range] = []
    try:
        for part in text.split(","):
            part = part.strip()
            if not part:
                continue
            rng, _, step = part.partition(":")
            lo, _, hi = rng.partition("-")
            if not all(x.strip().isascii() for x in (lo, hi, step)):
                raise ValueError
            a, b, k = int(lo), int(hi or lo), int(step or 1)
            if b < a or k < 1:
                raise ValueError
            ranges.append(range(a, b + 1, k))
    except ValueError:
        raise MyoxaiError(f"--{what} {text!r}: use numbers and ranges like 1-6, 1,2,5 or 2-30:7 (every 7th)") from None
    if sum(len(r) for r in ranges) > MAX_LIST:
        raise MyoxaiError(f"--{what} {text!r} names more than {MAX_LIST} numbers; give the subjects/days that exist")
    return sorted({v for r in ranges for v in r})


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


def speed(text: str) -> float:
    """``1``, ``10``, ``0.5`` or ``max`` (0 = no pacing)."""
    if text == "max":
        return 0.0
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"speed must be a number or 'max', not {text!r}") from None
    if not (math.isfinite(value) and value > 0):
        raise argparse.ArgumentTypeError(f"speed must be a positive number (or 'max'), not {text}")
    return value


def _seconds(text: str, allow_zero: bool) -> float:
    """A finite number of seconds, > 0 (or >= 0 with ``allow_zero``), as an argparse type."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number of seconds, not {text!r}") from None
    if not math.isfinite(value) or value < 0 or (value == 0 and not allow_zero):
        raise argparse.ArgumentTypeError(f"must be a number of seconds >= 0, not {text}" if allow_zero
                                         else f"seconds must be a positive number, not {text}")
    return value


def seconds(text: str) -> float:
    """A positive, finite number of seconds (``--seconds``, ``--every``)."""
    return _seconds(text, allow_zero=False)


def interval(text: str) -> float:
    """Seconds between status lines: a finite number >= 0 (0 = every chunk)."""
    return _seconds(text, allow_zero=True)


def positive_int(text: str) -> int:
    """A whole number >= 1 (``--chunk``)."""
    try:
        value = int(text) if text.strip().isascii() else int("x")
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, not {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {text}")
    return value


def thread_count(text: str) -> int:
    """Torch threads: a whole number from 1 to this machine's cores (more only slows torch down)."""
    value = positive_int(text)
    cores = os.cpu_count() or 1
    if value > cores:
        raise argparse.ArgumentTypeError(f"at most {cores} (this machine's cores), not {text}")
    return value


def seed_list(text: str) -> list[int]:
    """``--seeds``: a list such as ``0,1,2`` or ``0-4``, or a single count N (= seeds 0 … N-1)."""
    try:
        if text.strip().isascii() and text.strip().isdigit() and "," not in text:
            n = int(text)
            if n < 1:
                raise argparse.ArgumentTypeError("--seeds N is a count (seeds 0 … N-1), at least 1; for the single "
                                                 "seed 0 write --seed 0")
            return list(range(n))
        return int_list_arg("seeds")(text)
    except MyoxaiError as exc:
        raise argparse.ArgumentTypeError(str(exc)) from None


def name_list(text: str) -> list[str]:
    """A comma list of names, blanks dropped, order kept, duplicates removed."""
    return list(dict.fromkeys(w.strip() for w in text.split(",") if w.strip()))
