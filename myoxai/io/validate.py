"""Checks every reader runs before it trusts (or allocates for) what a file or device claims.

One place for the limits, so the XDF reader, the dataset loaders and the engine refuse the same
things with the same words: a channel count a Myo-like device can have, a positive finite rate,
finite samples, a file no larger than its format can plausibly be, and a recording whose rate,
channel count and class names fit the model it meets. Each failure is one ``MyoxaiError`` that
names the file (or stream) and says what to do.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.errors import MyoxaiError

MAX_CHANNELS = 64
"""Most channels any stream we read may declare (a Myo has 8; high-density EMG grids reach 64)."""
MAX_RATE_HZ = 100_000.0
"""Highest plausible nominal sampling rate of an EMG stream."""
MIN_RATE_HZ = 0.01
"""Lowest regular sampling rate accepted (0 means irregular); 1e-300 Hz would make sample times overflow."""


def check_channel_count(n: Any, where: str) -> int:
    """``n`` as an int in 1…``MAX_CHANNELS``, else ``MyoxaiError`` naming ``where``."""
    try:
        value = int(n)
        ok = value == n or (isinstance(n, str) and str(value) == n.strip())
    except (TypeError, ValueError, OverflowError):
        ok, value = False, 0
    if not ok or not 1 <= value <= MAX_CHANNELS:
        raise MyoxaiError(f"{where}: channel count {n!r} is not a whole number in 1-{MAX_CHANNELS}; "
                          "the file is damaged or not an EMG recording")
    return value


def check_rate(fs: Any, where: str) -> float:
    """``fs`` as a float in (0, ``MAX_RATE_HZ``], else ``MyoxaiError`` naming ``where``."""
    try:
        value = float(fs)
    except (TypeError, ValueError, OverflowError):
        value = math.nan
    if not (math.isfinite(value) and MIN_RATE_HZ <= value <= MAX_RATE_HZ):
        raise MyoxaiError(f"{where}: sampling rate {fs!r} Hz is not a number from {MIN_RATE_HZ:g} to {MAX_RATE_HZ:g}; "
                          "the recording must state its real rate (re-record or convert it with myoxai)")
    return value


def check_finite(samples: np.ndarray, where: str) -> None:
    """Refuse NaN or infinite samples, naming the first bad sample index (0-based) and channel."""
    a = np.asarray(samples)
    if a.dtype.kind not in "fc" or a.size == 0:
        return
    bad = ~np.isfinite(a.reshape(len(a), -1))
    rows = bad.any(axis=1)
    if rows.any():
        first = int(np.argmax(rows))
        chan = int(np.argmax(bad[first]))
        raise MyoxaiError(f"{where}: sample {first}, channel {chan + 1} is {a.reshape(len(a), -1)[first, chan]} "
                          f"({int(rows.sum())} samples hold NaN or infinity); the file is damaged — "
                          "re-record it or cut the bad part out")


def check_file_size(path: Path, max_bytes: int, what: str) -> int:
    """The size of regular file ``path``, refusing devices, folders and files above ``max_bytes``.

    ``what`` says what the file should be ("a myo-readings gesture file"), for the message.
    """
    try:
        st = os.stat(path)
    except FileNotFoundError:
        raise MyoxaiError(f"{path} does not exist") from None
    except OSError as exc:
        raise MyoxaiError(f"cannot read {path}: {exc.strerror}") from None
    import stat

    if stat.S_ISDIR(st.st_mode):
        raise MyoxaiError(f"{path} is a folder, not {what}")
    if not stat.S_ISREG(st.st_mode):
        raise MyoxaiError(f"{path} is not a regular file (a device or pipe?); expected {what}")
    if st.st_size > max_bytes:
        raise MyoxaiError(f"{path} is {st.st_size / 1e6:.1f} MB, more than {what} can be "
                          f"({max_bytes / 1e6:.1f} MB at most); is it the right file?")
    return int(st.st_size)


def check_signal_fits(fs: float, n_channels: int, config: Any, where: str) -> None:
    """Refuse a recording or source whose rate or channel count differs from the pipeline's config.

    ``config`` is a ``SignalConfig`` (or anything with ``fs`` and ``n_channels``); the rate must
    agree to within 0.5 %, since a replayed recording states its nominal rate exactly.
    """
    if n_channels != config.n_channels:
        raise MyoxaiError(f"{where} has {n_channels} channels but the model/pipeline expects {config.n_channels}; "
                          "use a recording of the same device layout")
    if not math.isfinite(fs) or abs(fs - config.fs) > 0.005 * config.fs:
        raise MyoxaiError(f"{where} is sampled at {fs:g} Hz but the model/pipeline runs at {config.fs:g} Hz; "
                          "resample the recording to that rate (myoxai does not resample silently)")


def label_index_map(recording_classes: Sequence[str], model_classes: Sequence[str], used: Sequence[int],
                    where: str) -> np.ndarray:
    """Map a recording's label indices to the model's class indices by *name*.

    Returns ``m`` with ``m[i]`` the model index of recording class ``i`` (-1 for classes the
    recording declares but never uses and the model lacks). Refuses when a class the recording
    uses is not one of the model's, or when the recording has labels but no class names.
    """
    model_index = {name: i for i, name in enumerate(model_classes)}
    used_set = sorted({int(u) for u in used if int(u) >= 0})
    if used_set and not recording_classes:
        raise MyoxaiError(f"{where} has labels but no class names, so they cannot be matched to the model's "
                          f"gestures {tuple(model_classes)}; record or convert it with myoxai")
    missing = [recording_classes[u] if u < len(recording_classes) else f"#{u}" for u in used_set
               if u >= len(recording_classes) or recording_classes[u] not in model_index]
    if missing:
        raise MyoxaiError(f"{where} contains gestures {missing} that the model does not know "
                          f"(model: {tuple(model_classes)}); use a model trained on these gestures")
    return np.array([model_index.get(name, -1) for name in recording_classes], dtype=np.int64)
