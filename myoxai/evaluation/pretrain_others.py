"""``--pretrain others``: a base model pre-trained on the long-term dataset's other subjects (issue 19, lever 2).

The hope is a calibration model that moves less from day to day because it has seen many arms
before it sees the scored one. The choices below are declared before any scoring; none is tuned:

- pre-training set: every subject present under the root except the scored one (leave-one-subject-out:
  a scored subject is never in its own pre-training set), days 1-3, all four trials of each;
- the same architecture, constructor arguments and recipe as the calibration model
  (``myoxai.models.recipes``: augmentation, ``--epochs`` cap, patience), seeded with the run seed;
  early stopping holds out whole trials of the other subjects (a group is one trial of one gesture
  on one day of one subject: ``subject * 100000 + day * 1000 + motion * 10 + trial``);
- the calibration model then trains from those weights on the scored subject's calibration days,
  with the same recipe and the same whole-trial early stopping as a fresh model; its per-electrode
  standardiser is refitted on the calibration training windows (``train_model`` with
  ``fit_standardizer=True``), as for a fresh model. The 22 gestures are the same for every subject,
  so the head is kept.

The pre-trained model is computed once per (scored subject, seed, code) and kept in ``--model-cache``
under a name that holds every setting, the other subjects, their days, the content hash of their
files and the code fingerprint; the calibration model's own cache name includes that identity.
``cell_extras`` and ``start_for`` also dispatch ``--pretrain myo-armband`` (``pretrain_myo_armband``).
"""

from __future__ import annotations

import copy
import hashlib
import json
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.errors import MyoxaiError
from myoxai.models import TrainSettings, build_model, train_model

PRETRAIN_OPTIONS = ("none", "others", "myo-armband")  # myo-armband: ``myoxai.evaluation.pretrain_myo_armband``
PRETRAIN_DAYS = (1, 2, 3)
PRETRAIN_TRIALS = (1, 2, 3, 4)


def check_option(pretrain: str) -> str:
    """``pretrain`` if it is a known ``--pretrain`` value; else a ``MyoxaiError``."""
    if pretrain not in PRETRAIN_OPTIONS:
        raise MyoxaiError(f"--pretrain {pretrain}: choose from {', '.join(PRETRAIN_OPTIONS)}")
    return pretrain


def cell_extras(pretrain: str, subject: int, available: Sequence[int], pretrain_root: str | Path | None = None
                ) -> tuple[dict[str, Any], list[list[int]], str]:
    """What a kanoga cell of ``subject`` adds for ``--pretrain``: (parameters, extra data units read, label note).

    ``others`` reads the other subjects' days 1-3 (hashed into the cell key as units); ``myo-armband``
    carries its root and the content hashes of its 19 participants in the parameters (its files are
    no units of the long-term dataset). Refused (one ``MyoxaiError``) when the data is missing.
    """
    if check_option(pretrain) == "none":
        return {}, [], ""
    if pretrain == "others":
        others = other_subjects(available, subject)
        return ({"pretrain": pretrain, "pretrain_subjects": others}, [[o, d] for o in others for d in PRETRAIN_DAYS],
                f" (pre-trained on subjects {','.join(map(str, others))})")
    from myoxai.evaluation import pretrain_myo_armband as mya

    return ({"pretrain": pretrain, **mya.cell_params(pretrain_root)}, [],
            f" (pre-trained on the Myo Armband dataset's {len(mya.PARTICIPANTS)} pre-training participants)")


def start_for(params: dict[str, Any], root: str | Path, settings: Any, n_classes: int, read_day: DayReader
              ) -> tuple[dict[str, Any], Callable[[], Any]]:
    """(pre-training identity, maker of the model to calibrate from) of a cell with ``params["pretrain"]``."""
    if params["pretrain"] == "others":
        ident = identity(root, params["subject"], params["pretrain_subjects"], settings)
        return ident, lambda: starting_model(root, ident, n_classes, settings, read_day)
    from myoxai.evaluation import pretrain_myo_armband as mya

    pre_root = params["pretrain_root"]
    ident = mya.identity(pre_root, settings)
    return ident, lambda: mya.starting_model(pre_root, ident, n_classes, settings)


def other_subjects(available: Sequence[int], scored: int) -> list[int]:
    """The pre-training subjects of ``scored``: every available subject but it; refused when none is left."""
    others = sorted(s for s in set(available) if s != scored)
    if not others:
        raise MyoxaiError(f"--pretrain others: the root holds no subject other than {scored} to pre-train on; "
                          "unpack the long-term dataset's other subjects there or leave --pretrain out")
    return others


def identity(root: str | Path, subject: int, others: Sequence[int], settings: Any) -> dict[str, Any]:
    """Everything the pre-trained model depends on: settings, subjects, days, file hashes and code."""
    from myoxai.evaluation.data import unit_hash
    from myoxai.evaluation.fingerprint import code_fingerprint

    ts = TrainSettings(**{**settings.train.to_dict(), "seed": settings.seed, "threads": settings.threads})
    return {"pretrain": "others", "model": settings.model, "args": settings.model_args, "train": ts.to_dict(),
            "scored_subject": subject, "subjects": list(others), "days": list(PRETRAIN_DAYS),
            "trials": list(PRETRAIN_TRIALS),
            "data": {f"{s}-{d}": unit_hash("kanoga", root, [s, d]) for s in others for d in PRETRAIN_DAYS},
            "code": code_fingerprint()["sources"]}


def key_of(ident: dict[str, Any]) -> str:
    """The 16-hex-digit name of an identity (the cache file's name)."""
    return hashlib.sha256(json.dumps(ident, sort_keys=True, default=str).encode()).hexdigest()[:16]


DayReader = Callable[[Any, int, int], dict[str, np.ndarray]]  # (root, subject, day) -> ``kanoga_day``'s dict


def pretraining_windows(root: str | Path, others: Sequence[int], read_day: DayReader
                        ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(windows, labels, groups) of days 1-3 of ``others``; a group is one trial of a gesture on a subject-day."""
    xs, ys, gs = [], [], []
    for s in others:
        for d in PRETRAIN_DAYS:
            p = read_day(root, s, d)
            xs.append(p["x"])
            ys.append(p["y"])
            gs.append(s * 100_000 + d * 1000 + p["motion"] * 10 + p["trial"])
    return np.concatenate(xs), np.concatenate(ys), np.concatenate(gs)


def pretrained_model(root: str | Path, ident: dict[str, Any], n_classes: int, settings: Any,
                     read_day: DayReader) -> Any:
    """The model pre-trained on ``ident``'s subjects and days (from ``settings.cache_dir`` when kept there)."""
    from myoxai.models import load_model, save_model

    path = Path(settings.cache_dir) / f"pretrain-others-{key_of(ident)}.safetensors" if settings.cache_dir \
        else None
    if path is not None and path.exists():
        return load_model(path)
    x, y, groups = pretraining_windows(root, ident["subjects"], read_day)
    model = build_model(settings.model, n_classes, seed=settings.seed, **settings.model_args)
    report = train_model(model, x.astype(np.float32), y, TrainSettings(**ident["train"]), groups=groups)
    model.description = {"training": {"pretrain": ident, "val_groups": report.get("val_groups", []),
                                      "epochs_run": report.get("epochs_run"), "best_epoch": report.get("best_epoch"),
                                      "seconds": report.get("seconds"), "n_train": int(len(y))}}
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_model(model, path, [str(i) for i in range(n_classes)], training=model.description["training"])
        model = load_model(path)
    return model.eval()


def starting_model(root: str | Path, ident: dict[str, Any], n_classes: int, settings: Any,
                   read_day: DayReader) -> Any:
    """A fresh copy of the pre-trained model (memoised per process) for the calibration to train from."""
    from myoxai.evaluation.cells import memo

    base = memo(("pretrain-others", str(root), ident, n_classes, settings.cache_dir),
                lambda: pretrained_model(root, ident, n_classes, settings, read_day))
    return copy.deepcopy(base)
