"""The one exception type for mistakes a user can cause.

It lives in a leaf module that imports nothing of ours, so every layer (io, dsp, sources,
models, ...) can raise it without breaking the direction of imports. The CLI prints its
message without a traceback and exits with code 2; the message must say what to do.
"""

from __future__ import annotations


class MyoxaiError(Exception):
    """A user-caused error (bad file, wrong stream, missing device, mismatched model)."""
