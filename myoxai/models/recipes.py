"""The training recipe of each torch model: constructor arguments and ``TrainSettings``.

One place for what was chosen on the long-term dataset's selection days (subjects 1-4, days 3-8,
trials 1-2 unlabeled / 3-4 scored; never the reported days 2, 9, 16, 23, 30): the evaluation's
calibration models, ``myoxai train`` and the bundled live model all use it, so a recipe change
reaches them together. The measurements behind each choice are in the module's history notes
(the issue-10 report); in short:

- whole-trial validation (``group_split``, one trial per gesture of 4) for early stopping;
- ``log_input``: standardise log power, so a gain is an offset the re-normalisation removes;
- augmentation of what changes between days: fractional rotation, per-electrode and global gain, noise.
"""

from __future__ import annotations

from typing import Any

from myoxai.models.augment import Augmentation
from myoxai.models.training import TrainSettings

DAY_TO_DAY = Augmentation(shift=0.5, electrode_gain=0.3, global_gain=0.3, noise=0.05)

_ARGS: dict[str, dict[str, Any]] = {
    "spectrogram-convnet": {"channels": [16, 32, 32], "log_input": True},
    "allconvnet": {"channels": [8, 16, 16, 32], "log_input": True},
    "ring-tower": {"log_input": True},  # issue 23: the live recipe, named before it was scored (docs/live.md)
}


def recipe(model: str, within_day: bool = False) -> tuple[dict[str, Any], TrainSettings]:
    """(constructor arguments, training settings) of ``model``'s recipe; other models get the plain defaults.

    ``within_day=True`` drops the day-to-day augmentation, for a model trained and used in one session
    (the intra-day protocols). On the selection days' within-day split (subjects 1-4, days 3-8,
    leave-one-trial-out) SpectrogramConvNet scored 83.8 % without it and 75.4 % with it (LDA 80.4 %): the
    augmentation buys robustness to tomorrow's armband at the cost of today's accuracy.
    """
    args = dict(_ARGS.get(model, {}))
    settings = TrainSettings(epochs=60, patience=10, val_fraction=0.25,
                             augment=DAY_TO_DAY if model in _ARGS and not within_day else None)
    return args, settings
