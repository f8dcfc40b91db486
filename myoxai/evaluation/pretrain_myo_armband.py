"""``--pretrain myo-armband``: a base model pre-trained on the Myo Armband dataset's 19 pre-training people (issue 19).

Lever 2 with more arms than the long-term dataset has: the calibration model starts from weights that
have seen 19 other people, none of whom is in the long-term dataset. Declared before any scoring:

- pre-training set: every hold of round 1 (``training0``, 4 cycles of 7 gestures) of the paper's 19
  pre-training participants (``myoxai.evaluation.myo_armband_run.PRETRAINING``; a download with other
  folders is refused), the raw int8 EMG through our own pipeline (``myo_armband.windows_of``:
  15 Hz high-pass, spectrograms of ``DEFAULT_CONFIG``), electrodes as recorded;
- the same architecture, constructor arguments and recipe as the calibration model (``settings.model``,
  ``settings.model_args``, ``myoxai.models.recipes`` with the ``--epochs`` cap), seeded with the run
  seed, a 7-gesture head; early stopping on every participant's 4th cycle (whole 5-s holds, as the
  Myo Armband protocol's pre-training does: ``myo_armband_run``), never single windows;
- the 22-gesture calibration model copies every weight but the head (``warm_start.init_from_model``;
  the head stays fresh: other gestures) and trains on the scored subject's calibration days with the
  normal recipe, standardiser refitted, exactly as after ``--pretrain others``.

The pre-trained model does not depend on the scored subject: it is computed once per (seed, settings,
data hash, code) and kept in ``--model-cache`` as ``pretrain-myo-armband-<key>.safetensors``; the
calibration model's cache name includes that identity. The dataset is GPL-3.0: the weights stay in
the cache folder, never in the repository.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.config import DEFAULT_CONFIG
from myoxai.errors import MyoxaiError
from myoxai.evaluation.myo_armband_run import PRETRAINING
from myoxai.io import myo_armband as ma
from myoxai.models import TrainSettings, build_model, train_model

OPTION = "myo-armband"
PARTICIPANTS: tuple[str, ...] = PRETRAINING  # the paper's 19 pre-training people
ROUND = ma.ROUNDS[0]  # round 1 (training0): the only round the pre-training participants recorded
VAL_CYCLE = ma.N_CYCLES - 1  # early stopping on each participant's last cycle (whole holds)


def check_root(root: str | Path | None) -> Path:
    """The unpacked Myo Armband dataset at ``root`` holding exactly ``PARTICIPANTS``; else one ``MyoxaiError``."""
    if root is None:
        raise MyoxaiError("--pretrain myo-armband needs --pretrain-root DIR: the unpacked Myo Armband dataset "
                          "(the folder holding PreTrainingDataset/), e.g. --pretrain-root ~/.cache/myoxai/myo_armband")
    root = Path(root).expanduser()
    found = set(ma.participants(root, "pre-training"))  # refuses a missing folder with what to unpack
    if found != set(PARTICIPANTS):
        raise MyoxaiError(f"{ma.group_dir(root, 'pre-training')} holds {sorted(found)}; --pretrain myo-armband "
                          f"pre-trains on exactly the paper's {len(PARTICIPANTS)} pre-training participants "
                          f"{sorted(PARTICIPANTS)}: unpack the complete dataset there")
    return root


def data_hashes(root: str | Path) -> dict[str, str]:
    """Content hash of each pre-training participant's files (the same data at another path hashes the same).

    Read afresh each time (532 small files, well under a second), so changed files never hide behind a memo.
    """
    from myoxai.evaluation.data import unit_hash

    return {p: unit_hash("myo-armband", root, ["pre-training", p]) for p in PARTICIPANTS}


def cell_params(root: str | Path | None) -> dict[str, Any]:
    """What a kanoga cell's parameters carry for this pre-training: the root and its data hashes (cache key)."""
    root = check_root(root)
    return {"pretrain_root": str(root), "pretrain_participants": list(PARTICIPANTS),
            "pretrain_data": data_hashes(root)}


def identity(root: str | Path, settings: Any) -> dict[str, Any]:
    """Everything the pre-trained model depends on: settings, participants, split, signal config, data, code.

    No path and no scored subject: one pre-trained model serves every subject of a run seed.
    """
    from myoxai.evaluation.fingerprint import code_fingerprint

    ts = TrainSettings(**{**settings.train.to_dict(), "seed": settings.seed, "threads": settings.threads})
    return {"pretrain": OPTION, "model": settings.model, "args": settings.model_args, "train": ts.to_dict(),
            "participants": list(PARTICIPANTS), "round": ROUND, "validation_cycle": VAL_CYCLE,
            "signal_config": DEFAULT_CONFIG.to_dict(), "data": data_hashes(root),
            "code": code_fingerprint()["sources"]}


def key_of(ident: dict[str, Any]) -> str:
    """The 16-hex-digit name of an identity (the cache file's name)."""
    from myoxai.evaluation.cells import canonical

    return hashlib.sha256(canonical(ident).encode()).hexdigest()[:16]


def pretraining_windows(root: str | Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(spectrograms, labels, validation mask) of round 1 of ``PARTICIPANTS``; the mask is their last cycle."""
    from myoxai.evaluation.data import concat
    from myoxai.evaluation.myo_armband import windows_of

    data = concat([windows_of(ma.load_participant(root, "pre-training", p, (ROUND,)), DEFAULT_CONFIG)
                   for p in PARTICIPANTS])
    return data.spec.astype(np.float32), data.y, data.meta["cycle"] == VAL_CYCLE


def pretrained_model(root: str | Path, ident: dict[str, Any], settings: Any) -> Any:
    """The 7-gesture model pre-trained as ``ident`` says (loaded from ``settings.cache_dir`` when kept there)."""
    from myoxai.models import load_model, save_model

    path = Path(settings.cache_dir) / f"pretrain-{OPTION}-{key_of(ident)}.safetensors" if settings.cache_dir \
        else None
    if path is not None and path.exists():
        return load_model(path)
    x, y, val = pretraining_windows(root)
    model = build_model(settings.model, len(ma.GESTURES), seed=settings.seed, **settings.model_args)
    report = train_model(model, x, y, TrainSettings(**ident["train"]), val_mask=val)
    model.class_names = ma.GESTURES
    model.description = {"training": {"pretrain": ident, "epochs_run": report.get("epochs_run"),
                                      "best_epoch": report.get("best_epoch"), "seconds": report.get("seconds"),
                                      "n_train": int((~val).sum()), "n_val": int(val.sum())}}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_model(model, path, ma.GESTURES, DEFAULT_CONFIG, training=model.description["training"])
        model = load_model(path)
    return model.eval()


def starting_model(root: str | Path, ident: dict[str, Any], n_classes: int, settings: Any) -> Any:
    """A fresh ``n_classes`` calibration model holding the pre-trained weights (memoised per process) but its head."""
    from myoxai.evaluation.cells import memo
    from myoxai.models.warm_start import init_from_model

    base = memo(("pretrain-myo-armband", ident, settings.cache_dir),
                lambda: pretrained_model(root, ident, settings))
    model = build_model(settings.model, n_classes, seed=settings.seed, **settings.model_args)
    init_from_model(model, base, [str(i) for i in range(n_classes)], DEFAULT_CONFIG,
                    source="the Myo Armband pre-trained model")
    return model
