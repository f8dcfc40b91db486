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

import contextlib
import json
import struct
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.config import SignalConfig
from myoxai.errors import MyoxaiError
from myoxai.io.outputs import atomic_output
from myoxai.io.validate import check_file_size

FORMAT = "myoxai-model"
FORMAT_VERSION = 1
ALLOWED_FORMAT_VERSIONS = (1,)
_MAX_HEADER = 100_000_000
MAX_MODEL_BYTES = 2_000_000_000  # the largest myoxai model is ~1 MB


def write_model_file(path: str | Path, arrays: dict[str, np.ndarray], description: dict[str, Any],
                     config: SignalConfig, *, overwrite: bool = True, inputs: tuple[str | Path, ...] = ()) -> Path:
    """Write ``arrays`` and ``description`` (JSON-serialisable) atomically to ``path``.

    The signal config and its fingerprint are added to the description here, so every model
    file carries them. Commands pass ``overwrite=False`` (unless the user asked) and their input
    files, so a model never replaces a recording or an existing file by accident
    (``myoxai.io.outputs``).
    """
    from safetensors import SafetensorError
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
    with contextlib.suppress(OSError):  # an unwritable place is reported by atomic_output, with the path
        path.parent.mkdir(parents=True, exist_ok=True)
    with atomic_output(path, overwrite=overwrite, inputs=inputs) as tmp:
        try:
            save_file(contiguous, str(tmp), metadata={"format": FORMAT, "myoxai": text})
        except SafetensorError as exc:  # safetensors reports a full disk as its own error type
            raise OSError(None, str(exc)) from exc
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
    if not path.exists():
        raise MyoxaiError(f"model file {path} does not exist" + (" (a broken link)" if path.is_symlink() else ""))
    check_file_size(path, MAX_MODEL_BYTES, "a myoxai model file")
    _check_magic(path)
    try:
        with safe_open(str(path), framework="np") as f:
            header = f.metadata() or {}
            arrays = {k: f.get_tensor(k) for k in f.keys()}  # noqa: SIM118 - safe_open has no __iter__
    except (SafetensorError, OSError, ValueError, TypeError) as exc:
        raise MyoxaiError(f"{path} is not a readable safetensors model file ({exc})") from exc
    if header.get("format") != FORMAT or "myoxai" not in header:
        raise MyoxaiError(f"{path} is a safetensors file but not a myoxai model (no myoxai description)")
    try:
        desc = json.loads(header["myoxai"])
    except (json.JSONDecodeError, RecursionError) as exc:
        raise MyoxaiError(f"{path}: model description is corrupt ({exc})") from exc
    stored = check_description(path, desc)
    bad = [k for k, a in arrays.items() if a.dtype.kind in "fc" and not np.isfinite(a).all()]
    if bad:
        raise MyoxaiError(f"{path}: weights {bad[:3]} hold NaN or infinity (training diverged?); retrain the model")
    if expect_config is not None and stored.fingerprint() != expect_config.fingerprint():
        diff = {k: (v, expect_config.to_dict()[k]) for k, v in stored.to_dict().items()
                if expect_config.to_dict()[k] != v}
        details = ", ".join(f"{k}: model {a} vs engine {b}" for k, (a, b) in diff.items())
        raise MyoxaiError(f"{path} was trained with a different signal configuration ({details}); retrain it "
                          "on data processed with the current settings or run with the model's settings")
    return arrays, desc


# field -> (type(s), what it should be); checked before anything uses the description
_SCHEMA: dict[str, tuple[type | tuple[type, ...], str]] = {
    "format_version": (int, "a whole number"),
    "architecture": (str, "a model name"),
    "arguments": (dict, "an object of constructor arguments"),
    "n_classes": (int, "a whole number"),
    "class_names": (list, "a list of gesture names"),
    "signal_config": (dict, "an object"),
    "signal_fingerprint": (str, "a hash string"),
}


def check_description(path: Path, desc: Any) -> SignalConfig:
    """Check a model description's fields and types; return its signal config.

    A description edited by hand (a list instead of an object, an unknown ``format_version``, a
    missing ``signal_config`` or ``class_names``, text where a number belongs) is refused with
    the field named, never passed on to fail somewhere deeper.
    """
    if not isinstance(desc, dict):
        raise MyoxaiError(f"{path}: the model description is a {type(desc).__name__}, not an object; "
                          "the file was edited or is damaged — use a model written by `myoxai train`")
    version = desc.get("format_version")
    if isinstance(version, int) and not isinstance(version, bool) and version > FORMAT_VERSION:
        raise MyoxaiError(f"{path} was written by a newer myoxai (format {version}); upgrade myoxai")
    for key, (kind, what) in _SCHEMA.items():
        value = desc.get(key)
        if value is None:
            raise MyoxaiError(f"{path}: the model description has no {key!r}; the file is incomplete or was "
                              "edited — use a model written by `myoxai train`")
        if not isinstance(value, kind) or isinstance(value, bool):
            raise MyoxaiError(f"{path}: {key!r} in the model description must be {what}, not {value!r:.60}")
    if version not in ALLOWED_FORMAT_VERSIONS:
        raise MyoxaiError(f"{path}: unknown model format_version {version}; this myoxai reads "
                          f"{list(ALLOWED_FORMAT_VERSIONS)}")
    names = desc["class_names"]
    if not names or not all(isinstance(n, str) and n for n in names) or len(set(names)) != len(names):
        raise MyoxaiError(f"{path}: 'class_names' must be distinct non-empty gesture names, not {names!r:.80}")
    if desc["n_classes"] != len(names):
        raise MyoxaiError(f"{path}: {desc['n_classes']} classes but {len(names)} class names; the file was edited")
    config = desc["signal_config"]
    for key, value in config.items():
        if key != "spec_window" and (isinstance(value, str) or not isinstance(value, (int, float))):
            raise MyoxaiError(f"{path}: signal_config {key!r} must be a number, not {value!r:.40}")
        if isinstance(value, float) and not np.isfinite(value):
            raise MyoxaiError(f"{path}: signal_config {key!r} is {value}")
    try:
        stored = SignalConfig.from_dict(config)
    except (TypeError, ValueError, OverflowError) as exc:
        raise MyoxaiError(f"{path}: signal_config is invalid ({exc})") from None
    if stored.fingerprint() != desc["signal_fingerprint"]:
        raise MyoxaiError(f"{path}: stored signal config does not match its fingerprint; the file was edited")
    return stored
