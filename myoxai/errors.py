"""The one exception type for mistakes a user can cause.

It lives in a leaf module that imports nothing of ours, so every layer (io, dsp, sources,
models, ...) can raise it without breaking the direction of imports. The CLI prints its
message without a traceback and exits with code 2; the message must say what to do.
"""

from __future__ import annotations

import importlib
from types import ModuleType


class MyoxaiError(Exception):
    """A user-caused error (bad file, wrong stream, missing device, mismatched model)."""


def require_extra(module: str, extra: str, purpose: str) -> ModuleType:
    """``module`` imported, or one ``MyoxaiError`` naming the optional extra that installs it.

    Only a missing ``module`` becomes that message; an installed package that fails to import is a
    broken install and keeps its own error.
    """
    try:
        return importlib.import_module(module)
    except ModuleNotFoundError as exc:
        if (exc.name or "").split(".")[0] != module.split(".")[0]:
            raise
        raise MyoxaiError(f"{purpose} needs {module.split('.')[0]}, which is an extra: "
                          f"pip install 'myoxai[{extra}]'") from None
