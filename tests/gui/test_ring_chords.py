"""The armband ring draws the strongest electrode interactions as chords when asked (offscreen, pytest-qt)."""

from __future__ import annotations

import os

import numpy as np
import pytest
import torch

from myoxai.engine.decision import Decision
from myoxai.explain import ChannelShapley
from myoxai.explain.interactions import electrode_pairs
from myoxai.gui.ring import ArmbandRing
from myoxai.models import build_model

torch.set_num_threads(1)
pytestmark = pytest.mark.timeout(120)


def _decision(inter: np.ndarray | None, phi: np.ndarray) -> Decision:
    return Decision(timestamp=0.0, sample=0, probabilities=np.array([0.2, 0.8]), raw_label=1, label=1, confidence=0.8,
                    phi=phi, total=phi.sum(-1), latency_s=0.0, model_version=1, interactions=inter)


def test_chords_follow_the_toggle_and_the_strongest_pairs(qtbot):
    ring = ArmbandRing()
    qtbot.addWidget(ring)
    ring.resize(300, 300)
    inter = np.zeros((2, 28))
    pairs = electrode_pairs(8)
    inter[1, pairs.index((0, 4))] = 0.08
    inter[1, pairs.index((2, 3))] = -0.05
    inter[1, pairs.index((5, 6))] = 0.001  # under a tenth of the strongest: not drawn
    inter[0, pairs.index((1, 7))] = 0.5  # another class's: not drawn
    d = _decision(inter, np.tile(np.linspace(-0.1, 0.1, 8), (2, 1)))
    ring.show_decisions([d])
    assert ring.chords == []  # off by default
    ring.interactions_action.trigger()  # the context-menu toggle
    assert ring.show_interactions
    ring.show_decisions([d])
    assert ring.chords == [(0, 4, pytest.approx(0.08)), (2, 3, pytest.approx(-0.05))]
    ring.show()
    image = ring.grab().toImage()
    if os.environ.get("MYOXAI_SCREENSHOT"):
        image.save(os.environ["MYOXAI_SCREENSHOT"])
    centre = image.pixelColor(150, 150 - 10)  # the (0, 4) chord bows through the centre: drawn red
    assert centre.red() > centre.blue()
    ring.set_show_interactions(False)
    assert ring.chords == [] and not ring.interactions_action.isChecked()
    ring.show_decisions([_decision(None, d.phi)])  # a model without interactions: nothing to draw
    assert ring.chords == []


def test_a_real_decision_carries_the_interactions_the_ring_shows(qtbot):
    model = build_model("ring-tower", 2, seed=0).eval()
    x = np.random.default_rng(0).random((1, 4, 8, 10)).astype(np.float32)
    res = ChannelShapley(model).explain(x)
    ring = ArmbandRing()
    qtbot.addWidget(ring)
    ring.set_show_interactions(True)
    c = int(res.f_all[0].argmax())
    d = Decision(timestamp=0.0, sample=0, probabilities=res.f_all[0], raw_label=c, label=c, confidence=1.0,
                 phi=res.phi_prob[0], total=res.total[0], latency_s=0.0, model_version=1,
                 interactions=res.inter_prob[0])
    ring.show_decisions([d])
    i, j, v = ring.chords[0]
    assert v == pytest.approx(res.inter_prob[0, c][electrode_pairs(8).index((i, j))])
    assert abs(v) == pytest.approx(np.abs(res.inter_prob[0, c]).max())
