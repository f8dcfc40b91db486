"""Strict reading of the datasets' comma-separated text files, with errors that name file and line."""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from myoxai.errors import MyoxaiError
from myoxai.io.validate import check_file_size

log = logging.getLogger(__name__)


_NUMBER = re.compile(r"\s*[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?\s*")  # ASCII digits only


def is_ascii_int(text: str) -> bool:
    """Whether ``text`` is a plain non-negative whole number in ASCII digits.

    ``str.isdigit`` also accepts ``²`` or ``١``, which ``int`` then refuses or reads differently;
    file and folder names are matched with this instead.
    """
    return text.isascii() and text.isdigit()


def _parse_line(line: str, n_cols: int) -> list[float] | str:
    """The line's values, or why it is bad.

    Plain decimal numbers only: Python's ``float`` also takes ``1_000``, ``nan``, ``infinity`` and
    non-ASCII digits, none of which a dataset file holds.
    """
    parts = line.split(",")
    if len(parts) != n_cols:
        return f"expected {n_cols} comma-separated values, found {len(parts)}"
    if not all(_NUMBER.fullmatch(p) for p in parts):
        if any(p.strip().lower().lstrip("+-") in ("nan", "inf", "infinity") for p in parts):
            return "NaN or infinite value"
        return f"non-numeric value in {line[:60]!r}"
    values = [float(p) for p in parts]
    if not all(np.isfinite(values)):
        return "a value too large to be a number"
    return values


def kept_line_positions(n_kept: int, dropped: list[int]) -> np.ndarray:
    """0-based positions in the file of the rows kept by ``read_numeric_rows`` (for honest timestamps)."""
    return np.setdiff1d(np.arange(n_kept + len(dropped)), np.asarray(dropped, dtype=np.int64) - 1)


def read_numeric_rows(path: Path, n_cols: int, *, expected_rows: int | None = None,
                      strict: bool = True, max_bytes: int = 64_000_000,
                      what: str = "a dataset text file") -> tuple[np.ndarray, list[int]]:
    """Read a headerless CSV of ``n_cols`` numbers per line into float64, validating every line.

    Returns the data and the 1-based numbers of lines that were dropped. With ``strict`` (the
    default) the first bad line raises ``MyoxaiError`` naming file and line; with ``strict=False``
    bad lines are dropped, counted and logged, so one corrupt line does not cost a whole session.
    ``max_bytes`` bounds the file size before anything is read (a sparse multi-GB file must not
    exhaust memory); ``expected_rows`` counts dropped lines too, so a cut file is still an error.
    """
    check_file_size(path, max_bytes, what)
    try:
        text = path.read_text()
    except OSError as exc:
        raise MyoxaiError(f"cannot read {path}: {exc.strerror}; check the path and permissions") from None
    except UnicodeDecodeError as exc:
        raise MyoxaiError(f"{path}, byte {exc.start}: not text; the file is corrupt or not {what}") from None
    lines = text.splitlines()
    while lines and not lines[-1].strip():
        lines.pop()
    if not lines:
        raise MyoxaiError(f"{path} is empty; re-download or remove it")
    fast_ok = False
    if text.isascii():  # numpy, like float(), reads non-ASCII digits: those lines go the strict way
        try:
            data = np.loadtxt(lines, delimiter=",", dtype=np.float64, ndmin=2)
            fast_ok = data.shape[1] == n_cols and np.isfinite(data).all()
        except ValueError:
            pass
    dropped: list[int] = []
    if not fast_ok:
        keep: list[list[float]] = []
        for i, line in enumerate(lines, start=1):
            parsed = _parse_line(line, n_cols)
            if not isinstance(parsed, str):
                keep.append(parsed)
                continue
            reason = parsed
            if strict:
                raise MyoxaiError(f"{path}, line {i}: {reason}; the file is corrupt — fix or remove that line, "
                                  "or load with strict=False (--skip-bad-lines) to drop such lines")
            else:
                dropped.append(i)
        if dropped:
            log.warning("%s: dropped %d corrupt line(s): %s", path, len(dropped), dropped[:10])
        if not keep:
            raise MyoxaiError(f"{path}: no valid lines")
        data = np.asarray(keep, dtype=np.float64).reshape(-1, n_cols)
    if expected_rows is not None and data.shape[0] + len(dropped) != expected_rows:
        got = f"{data.shape[0]} rows" + (f" (+{len(dropped)} dropped as corrupt)" if dropped else "")
        raise MyoxaiError(f"{path}: {got}, expected {expected_rows}; the file is truncated or has extra lines")
    return data, dropped
