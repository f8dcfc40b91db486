"""Myo Armband electrode alignment: the unlabeled estimate finds a known roll without looking at labels."""

from __future__ import annotations

import numpy as np
import pytest

from myoxai.cliargs import name_list
from myoxai.errors import MyoxaiError
from myoxai.evaluation.myo_armband import (
    _rms_profile,
    best_shift,
    population_profile,
    population_template,
    unlabeled_shift,
)
from myoxai.evaluation.plan import EvalOptions, plan
from myoxai.io import myo_armband as ma
from myoxai.io.recording import Recording

N = ma.N_CHANNELS


def _person(rng: np.random.Generator, roll: int, n: int = 400) -> list[Recording]:
    """One hold per gesture; each gesture activates its own electrodes; the band is rolled by ``roll``."""
    ring = np.arange(N)
    recs = []
    for g in range(len(ma.GESTURES)):
        centre = (2 * g) % N
        amp = 0.3 + (g > 0) * (4.0 * np.exp(-0.5 * ((ring - centre + N / 2) % N - N / 2) ** 2) + 0.5 * ring / N)
        x = rng.normal(size=(n, N)) * amp + rng.normal(scale=5.0, size=N)  # per-hold offset
        x = np.roll(x, roll, axis=1)  # electrode c now reads what c - roll read
        # labels are deliberately absent from the samples: only meta carries the gesture (for best_shift)
        recs.append(Recording(x, np.arange(n) / 200.0, 200.0, meta={"gesture": g, "participant": "synthetic"}))
    return recs


@pytest.mark.parametrize("roll", [0, 1, 3, 5, 7])
def test_unlabeled_shift_recovers_a_known_roll_like_the_labeled_one(roll: int) -> None:
    rng = np.random.default_rng(roll)
    population = [_person(rng, r) for r in (0, 0, 2, 6)]  # pre-training people, some rolled themselves
    template = population_template([_rms_profile(p) for p in population])
    reference = population_profile(population, template)
    frame = best_shift(_rms_profile(_person(rng, 0)), template)  # the template's frame vs an unrolled person

    person = _person(rng, roll)
    estimate, fractional = unlabeled_shift(person, reference)
    assert estimate == (roll + frame) % N
    assert estimate == best_shift(_rms_profile(person), template)
    assert abs(((fractional - estimate + N / 2) % N) - N / 2) < 0.3


def test_unlabeled_shift_ignores_the_gesture_labels() -> None:
    rng = np.random.default_rng(1)
    population = [_person(rng, 0) for _ in range(3)]
    reference = population_profile(population, population_template([_rms_profile(p) for p in population]))
    person = _person(rng, 3)
    relabeled = [Recording(r.samples, r.timestamps, r.fs, meta={**r.meta, "gesture": 0}) for r in person]
    assert unlabeled_shift(relabeled, reference) == unlabeled_shift(person, reference)


def test_align_option_parses_the_three_modes(tmp_path) -> None:
    assert name_list("off,on,unlabeled") == ["off", "on", "unlabeled"]
    assert name_list("unlabeled, unlabeled") == ["unlabeled"]
    with pytest.raises(MyoxaiError, match="off, on, unlabeled"):
        plan(EvalOptions("myo-armband", tmp_path, "inter-subject", align=["sideways"]))
