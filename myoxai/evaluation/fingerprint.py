"""What a cached result depends on besides its inputs: the code that computed it.

``code_fingerprint`` hashes every ``.py`` file of the installed ``myoxai`` package (relative path and
content), so any change to the code, committed or not, gives a new fingerprint and a new cache key.
The git commit and whether the tree was dirty are recorded beside it when the package sits in a git
checkout, for the report; they are not part of the hash (a commit that changes only docs keeps the
cache, an uncommitted code edit does not).

``registry_fingerprint`` hashes the code objects behind the registries a cell looks functions up in
(time-domain features, model classes), as they are *in this process*: a function replaced at run
time (a monkeypatched feature, a plug-in registered by a script) changes the key even though no file
changed.
"""

from __future__ import annotations

import functools
import hashlib
import subprocess
import types
from pathlib import Path
from typing import Any

PACKAGE = Path(__file__).resolve().parents[1]


def source_hash(package: Path = PACKAGE) -> str:
    """SHA-256 (hex, 16 chars) over the relative path and bytes of every ``.py`` file under ``package``."""
    h = hashlib.sha256()
    for path in sorted(package.rglob("*.py")):
        if "__pycache__" in path.parts:
            continue
        h.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes() + b"\0")
    return h.hexdigest()[:16]


def _git(package: Path, *args: str) -> str | None:
    try:
        out = subprocess.run(["git", "-C", str(package), *args], capture_output=True, text=True, timeout=10)
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() if out.returncode == 0 else None


@functools.lru_cache(maxsize=4)
def code_fingerprint(package: Path = PACKAGE) -> dict[str, Any]:
    """``{"sources": hash, "git_commit": sha or None, "git_dirty": bool or None}`` of the package.

    Computed once per process (the sources of a running process do not change under it).
    """
    commit = _git(package, "rev-parse", "HEAD")
    status = _git(package, "status", "--porcelain", "--", ".") if commit else None
    return {"sources": source_hash(package), "git_commit": commit,
            "git_dirty": None if status is None else bool(status)}


def _stable(const: Any) -> str:
    """``repr`` of a code constant that is the same in every process (frozensets' order follows the string hash)."""
    if isinstance(const, frozenset):
        return "frozenset(" + ",".join(sorted(_stable(c) for c in const)) + ")"
    if isinstance(const, tuple):
        return "(" + ",".join(_stable(c) for c in const) + ")"
    return repr(const)


def _digest_code(code: types.CodeType, h: Any) -> None:
    """Feed bytecode, names and constants of ``code`` (nested code objects included) into ``h``."""
    h.update(code.co_code + repr(code.co_names).encode())
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            _digest_code(const, h)
        else:
            h.update(_stable(const).encode())


def _code_digest(obj: Any, h: Any) -> None:
    """Feed the code of a function, or of every function defined on a class, into ``h``."""
    if isinstance(obj, type):
        h.update(f"{obj.__module__}.{obj.__qualname__}".encode())
        for name, value in sorted(vars(obj).items()):
            inner = getattr(value, "__func__", getattr(value, "fget", value))
            if isinstance(inner, types.FunctionType):
                h.update(name.encode())
                _digest_code(inner.__code__, h)
    elif isinstance(getattr(obj, "__code__", None), types.CodeType):
        _digest_code(obj.__code__, h)
    else:
        h.update(repr(obj).encode())


def registry_fingerprint() -> str:
    """Hash of the functions and classes registered for features and models, as loaded in this process."""
    from myoxai.dsp.features import FEATURES
    from myoxai.models.registry import MODELS

    h = hashlib.sha256()
    for label, registry in (("features", FEATURES), ("models", MODELS)):
        for name in sorted(registry):
            h.update(f"{label}:{name}".encode())
            _code_digest(registry[name], h)
    return h.hexdigest()[:16]


def cache_identity() -> dict[str, Any]:
    """What goes into every cache key for the code: source hash and registry hash (git facts stay out)."""
    return {"sources": code_fingerprint()["sources"], "registries": registry_fingerprint()}


def array_hash(*arrays: Any) -> str:
    """SHA-256 (hex, 16 chars) of arrays' dtypes, shapes and bytes: the data hash in model-cache names."""
    import numpy as np

    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(a)
        h.update(f"{a.dtype.str}{a.shape}".encode() + a.tobytes())
    return h.hexdigest()[:16]
