"""Save a recalibrated model as a new model file that records where it came from.

The lineage (parent model file and its hash, method, settings, source and target data, the
recalibration report) goes into the ``training`` section of the model file's JSON through the
models package's ``save_model``, under the key ``"recalibration"``; the report's headline numbers
go into ``metrics``. A chain of recalibrations is followed through the parent paths and hashes.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from myoxai.adapt.recalibrate import RecalibrationReport, RecalibrationSettings, SourceData
from myoxai.config import DEFAULT_CONFIG, SignalConfig
from myoxai.models import MyoModel, save_model


def file_sha256(path: str | Path) -> str:
    """SHA-256 hex digest of a file, read in 1 MiB blocks (identifies a parent model)."""
    h = hashlib.sha256()
    with Path(path).open("rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def save_recalibrated(model: MyoModel, path: str | Path, report: RecalibrationReport, source: SourceData,
                      parent: str | Path | None = None, settings: RecalibrationSettings | None = None,
                      target_description: dict[str, Any] | None = None,
                      class_names: Sequence[str] | None = None, config: SignalConfig = DEFAULT_CONFIG) -> Path:
    """Write the recalibrated ``model`` to ``path`` with its lineage; return the path.

    Parameters
    ----------
    model:
        The model ``recalibrate`` returned (accepted).
    path:
        New model file; never the parent's path (the parent stays as it was).
    report:
        The recalibration report.
    source:
        The labeled data replayed during recalibration (its ``description`` is recorded).
    parent:
        The parent model's file, if it came from one (path and SHA-256 are recorded).
    settings:
        The settings used (recorded in full).
    target_description:
        What the unlabeled data was (e.g. the engine's buffer time span).
    class_names:
        Defaults to ``model.class_names`` (set by ``load_model``).
    config:
        Signal config of the windows.
    """
    path = Path(path)
    if parent is not None and path.resolve() == Path(parent).resolve():
        raise ValueError("refusing to overwrite the parent model; save the recalibrated model to a new file")
    names = list(class_names if class_names is not None else getattr(model, "class_names", ()))
    parent_info: dict[str, Any] | None = None
    if parent is not None:
        parent_info = {"path": str(Path(parent).resolve()), "sha256": file_sha256(parent)}
    desc = getattr(model, "description", None) or {}
    lineage = {"kind": "recalibration", "method": report.method,
               "created": time.strftime("%Y-%m-%dT%H:%M:%S%z"), "parent": parent_info,
               "parent_training": desc.get("training"),
               "source_data": {"n_windows": int(len(source.y)), **source.description},
               "target_data": {"n_windows": int(report.n_target), **(target_description or {})},
               "settings": (settings or RecalibrationSettings()).to_dict(), "report": report.to_dict()}
    metrics = {k: getattr(report, k) for k in ("source_val_accuracy_before", "source_val_accuracy_after",
                                                 "coverage", "agreement", "seconds")}
    return save_model(model, path, names, config, training={"recalibration": lineage}, metrics=metrics)
