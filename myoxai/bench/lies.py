"""Structure-aware lies for the fuzzer and the sweep (issue 24): valid framing around one hostile value.

A duplicated XDF stream-header field, an extreme sample timestamp, inflated model arguments and
unicode digits in dataset text. Each is ``f(data, a, b) -> bytes`` with ``a``/``b`` any integers
(taken modulo what the file offers), so hypothesis can draw them like the byte-level damage.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np

_DUP_FIELDS = (("channel_count", "64000000"), ("channel_count", "8"), ("nominal_srate", "1e-300"),
               ("nominal_srate", "1000"), ("channel_format", "string"), ("channel_format", "double64"))
_STAMPS = (float("inf"), float("-inf"), float("nan"), 1e15, -1e15, 1e300, 0.0)
_ARGS = ({"channels": [8, 16, 20000, 20000]}, {"channels": [8, 16, 16000, 4000]}, {"hidden": 30000},
         {"j": 30}, {"channels": [2**40]}, {"window": 10**9}, {"hidden": -1}, {"channels": "many"})
_UNICODE_DIGITS = "²³¹٣۴९９𝟘"


def _xdf_chunks(data: bytes) -> list[tuple[int, int, int, int]]:
    """(start, header length, content length, tag) of each whole chunk after the magic."""
    out, p = [], 4
    while p < len(data) and data[p] in (1, 4, 8):
        nb = data[p]
        length = int.from_bytes(data[p + 1:p + 1 + nb], "little")
        if length < 2 or p + 1 + nb + length > len(data):
            break
        out.append((p, 1 + nb, length, int.from_bytes(data[p + 1 + nb:p + 3 + nb], "little")))
        p += 1 + nb + length
    return out


def _xdf_dup_field(data: bytes, a: int, b: int) -> bytes:
    """A stream header states one of its key fields twice (pyxdf keeps the first, a dict the last)."""
    heads = [c for c in _xdf_chunks(data) if c[3] == 2]
    if not heads:
        return data
    start, hl, length, _ = heads[a % len(heads)]
    content = data[start + hl + 2:start + hl + length]
    field, value = _DUP_FIELDS[b % len(_DUP_FIELDS)]
    extra = f"<{field}>{value}</{field}>".encode()
    at = content.find(b"<info>") + 6 if a % 2 else content.find(f"</{field}>".encode()) + len(field) + 3
    content = content[:at] + extra + content[at:]
    body = data[start + hl:start + hl + 2] + content
    return data[:start] + b"\x08" + len(body).to_bytes(8, "little") + body + data[start + hl + length:]


def _xdf_stamp(data: bytes, a: int, b: int) -> bytes:
    """A stamped sample's timestamp set to an extreme (±inf, NaN, ±1e15, 1e300, 0)."""
    chunks = [c for c in _xdf_chunks(data) if c[3] == 3]
    if not chunks:
        return data
    start, hl, length, _ = chunks[a % len(chunks)]
    p = start + hl + 2 + 4  # tag, stream id
    nb = data[p] if data[p] in (1, 4, 8) else 0
    p += 1 + nb
    if not nb or p >= len(data) or data[p] != 8:
        return data
    buf = bytearray(data)
    buf[p + 1:p + 9] = np.float64(_STAMPS[b % len(_STAMPS)]).tobytes()
    return bytes(buf)


def _model_args(data: bytes, a: int, b: int) -> bytes:
    """A model file whose stored constructor arguments are inflated or nonsensical (the weights unchanged)."""
    n = int.from_bytes(data[:8], "little")
    try:
        header = json.loads(data[8:8 + n])
        desc = json.loads(header["__metadata__"]["myoxai"])
    except (ValueError, KeyError, TypeError):
        return data
    if not isinstance(desc, dict) or not isinstance(desc.get("arguments"), dict):
        return data
    desc["arguments"].update(_ARGS[b % len(_ARGS)])
    header["__metadata__"]["myoxai"] = json.dumps(desc)
    raw = json.dumps(header).encode()
    raw += b" " * (-len(raw) % 8)
    return len(raw).to_bytes(8, "little") + raw + data[8 + n:]


def _unicode_digits(data: bytes, a: int, b: int) -> bytes:
    """An ASCII digit of a text file replaced by a unicode digit (``str.isdigit`` and ``float`` accept some)."""
    digits = [i for i, c in enumerate(data) if 48 <= c <= 57]
    if not digits:
        return data
    i = digits[a % len(digits)]
    return data[:i] + _UNICODE_DIGITS[b % len(_UNICODE_DIGITS)].encode() + data[i + 1:]


LIES: dict[str, Callable[[bytes, int, int], bytes]] = {
    "xdf-dup-field": _xdf_dup_field, "xdf-stamp": _xdf_stamp, "model-args": _model_args,
    "unicode-digit": _unicode_digits}
"""Damage operations that keep a file's framing valid and lie in one value."""
