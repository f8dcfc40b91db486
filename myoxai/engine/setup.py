"""Turning user choices (a source spec, a model path) into a running engine's parts.

Shared by ``myoxai live`` and the GUI's source picker and model loader, so both accept exactly
the same specs.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from myoxai.config import DEFAULT_CONFIG

BUNDLED_SPEC = "bundled"  # the held-out part of the bundled recording, looped


def open_source(spec: str | None, speed: float = 1.0, loop: bool = True) -> tuple[Any, bool, str]:
    """(source, highpass, description) for a source spec; ``None`` or ``"bundled"`` = the bundled demo replay.

    ``highpass`` is False only for replays of recordings that say they are already high-passed
    with the pipeline's filter (the long-term dataset), so nothing is filtered twice.
    """
    from myoxai.sources import open_source as source_from_spec
    from myoxai.sources.replay import ReplaySource

    if spec is None or spec == BUNDLED_SPEC:
        from myoxai.engine.bundled import held_out_recording

        return (ReplaySource(held_out_recording(), speed=speed, loop=loop), True,
                "bundled recording (held-out part, looped)")
    src = source_from_spec(spec, speed=speed, loop=loop)
    rec = getattr(src, "recording", None)
    highpass = rec is None or rec.meta.get("highpass_hz") != DEFAULT_CONFIG.highpass_hz
    return src, highpass, spec


def load_live_model(path: str | Path | None, progress: Callable[[float, str], None] | None = None) -> Any:
    """The model to run: ``path``, else the bundled demo model (trained now if it is missing)."""
    from myoxai.engine.bundled import BUNDLED_MODEL, train_bundled_model
    from myoxai.models import load_model

    if path is None:
        if not BUNDLED_MODEL.exists():
            train_bundled_model(BUNDLED_MODEL, progress=progress)
        path = BUNDLED_MODEL
    return load_model(path)
