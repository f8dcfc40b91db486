"""Model files: one safetensors file holding the weights and a JSON description in its header.

Nothing is ever unpickled: safetensors stores raw arrays plus a string→string header, and the
JSON description (architecture and arguments, class names, signal config + fingerprint,
training data, metrics, myoxai version) sits in that header under ``"myoxai"``. A PyTorch
checkpoint or any pickle is recognised by its first bytes and refused before anything parses
it. Loading compares the stored signal-config fingerprint with the engine's and refuses a
mismatch, so a model never sees windows processed differently from its training data.

This module knows the file format only; ``myoxai.models.save_model``/``load_model`` turn the
arrays back into a model.
"""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.config import SignalConfig
from myoxai.errors import MyoxaiError

FORMAT = "myoxai-model"
FORMAT_VERSION = 1
_MAX_HEADER = 100_000_000


def write_model_file(path: str | Path, arrays: dict[str, np.ndarray], description: dict[str, Any],
                     config: SignalConfig) -> Path:
    """Write ``arrays`` and ``description`` (JSON-serialisable) atomically to ``path``.

    The signal config and its fingerprint are added to the description here, so every model
    file carries them.
    """
    from safetensors.numpy import save_file

    from myoxai import __version__

    path = Path(path)
    desc = {"format": FORMAT, "format_version": FORMAT_VERSION, "myoxai_version": __version__, **description,
            "signal_config": config.to_dict(), "signal_fingerprint": config.fingerprint()}
    try:
        text = json.dumps(desc, allow_nan=True, default=_json_default)
    except TypeError as exc:
        raise ValueError(f"model description is not JSON-serialisable: {exc}") from exc
    contiguous = {k: np.ascontiguousarray(v) for k, v in arrays.items()}
    tmp = path.with_name(path.name + ".part")
    path.parent.mkdir(parents=True, exist_ok=True)
    save_file(contiguous, str(tmp), metadata={"format": FORMAT, "myoxai": text})
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # safetensors creates 0600 files; a model file is meant to be shared
    os.replace(tmp, path)
    return path


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    raise TypeError(f"{type(obj).__name__} is not JSON-serialisable")


def _check_magic(path: Path) -> None:
    """Refuse pickles, torch zip checkpoints and anything that is not a safetensors header."""
    with path.open("rb") as f:
        head = f.read(9)
    if len(head) == 9:
        (n,) = struct.unpack("<Q", head[:8])
        if head[8:9] == b"{" and n <= _MAX_HEADER and n + 8 <= path.stat().st_size:
            return  # a safetensors layout: 8-byte header length, then the JSON header
    if head[:4] == b"PK\x03\x04":
        raise MyoxaiError(f"{path} is a zip archive (a torch.save checkpoint?); myoxai loads only its own "
                          "safetensors model files and never unpickles — retrain or export with `myoxai train`")
    if head[:1] == b"\x80" or head[:1] in (b"(", b"]", b"}", b"c"):
        raise MyoxaiError(f"{path} looks like a Python pickle; myoxai never unpickles model files (it could run "
                          "code) — use a model written by `myoxai train`")
    raise MyoxaiError(f"{path} is not a safetensors model file; use a model written by `myoxai train`")


def read_model_file(path: str | Path, expect_config: SignalConfig | None) -> tuple[dict[str, np.ndarray],
                                                                                   dict[str, Any]]:
    """Arrays and description of a model file; refuse anything else and mismatched signal configs.

    Parameters
    ----------
    path:
        The ``.safetensors`` model file.
    expect_config:
        The engine's signal config; ``None`` skips the check (inspection only, never inference).
    """
    from safetensors import SafetensorError, safe_open

    path = Path(path)
    if not path.is_file():
        raise MyoxaiError(f"model file {path} does not exist")
    _check_magic(path)
    try:
        with safe_open(str(path), framework="np") as f:
            header = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open has no __iter__
    except (SafetensorError, OSError, ValueError) as exc:
        raise MyoxaiError(f"{path} is not a readable safetensors model file ({exc})") from exc
    if header.get("format") != FORMAT or "myoxai" not in header:
        raise MyoxaiError(f"{path} is a safetensors file but not a myoxai model (no myoxai description)")
    try:
        desc = json.loads(header["myoxai"])
    except json.JSONDecodeError as exc:
        raise MyoxaiError(f"{path}: model description is corrupt ({exc})") from exc
    if desc.get("format_version", 0) > FORMAT_VERSION:
        raise MyoxaiError(f"{path} was written by a newer myoxai (format {desc['format_version']}); upgrade myoxai")
    stored = SignalConfig.from_dict(desc["signal_config"])
    if stored.fingerprint() != desc.get("signal_fingerprint"):
        raise MyoxaiError(f"{path}: stored signal config does not match its fingerprint; the file was edited")
    if expect_config is not None and stored.fingerprint() != expect_config.fingerprint():
        diff = {k: (v, expect_config.to_dict()[k]) for k, v in stored.to_dict().items()
                if expect_config.to_dict()[k] != v}
        details = ", ".join(f"{k}: model {a} vs engine {b}" for k, (a, b) in diff.items())
        raise MyoxaiError(f"{path} was trained with a different signal configuration ({details}); retrain it "
                          "on data processed with the current settings or run with the model's settings")
    return arrays, desc
