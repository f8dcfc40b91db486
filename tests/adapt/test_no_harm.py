"""The no-harm check: held-back blocks, and each criterion on probabilities built by hand."""

from __future__ import annotations

import numpy as np
import pytest

from myoxai.adapt.no_harm import NoHarmSettings, no_harm_check, split_held_back


def _proba(top: np.ndarray, label: np.ndarray, n_classes: int = 4) -> np.ndarray:
    """Probabilities with ``top`` on ``label`` and the rest spread evenly."""
    p = np.repeat(((1 - top) / (n_classes - 1))[:, None], n_classes, axis=1)
    p[np.arange(len(top)), label] = top
    return p


def test_split_holds_back_every_fourth_block():
    fit, held = split_held_back(400, NoHarmSettings(block=40, every=4))
    assert len(held) == 80 and len(fit) == 320
    assert set(held) == set(range(120, 160)) | set(range(280, 320))
    assert not set(fit) & set(held)


def test_same_probabilities_pass():
    p = _proba(np.full(100, 0.95), np.arange(100) % 4)
    check = no_harm_check(p, p)
    assert check.accepted and check.reason == "" and check.agreement == 1.0 and check.n_confident == 100


def test_less_confident_candidate_is_declined():
    label = np.arange(100) % 4
    check = no_harm_check(_proba(np.full(100, 0.8), label), _proba(np.full(100, 0.7), label))
    assert not check.accepted
    assert "less confident" in check.reason and "entropy" in check.reason
    assert check.agreement is None  # nothing was held at >= 0.9


def test_changing_confident_gestures_is_declined():
    label = np.arange(100) % 4
    before = _proba(np.full(100, 0.95), label)
    after = _proba(np.full(100, 0.95), (label + (np.arange(100) < 30)) % 4)  # 30 % relabelled, as sure
    check = no_harm_check(before, after)
    assert not check.accepted and check.agreement == pytest.approx(0.7) and "30%" in check.reason
    assert no_harm_check(before, after, NoHarmSettings(min_agreement=0.6)).accepted


def test_few_confident_windows_are_not_judged():
    label = np.arange(100) % 4
    top = np.where(np.arange(100) < 10, 0.95, 0.6)
    check = no_harm_check(_proba(top, label), _proba(np.full(100, 0.9), (label + 1) % 4))
    assert check.n_confident == 10 and check.agreement is None and check.accepted
    with pytest.raises(ValueError):
        no_harm_check(_proba(top, label), _proba(top[:50], label[:50]))
