"""EM class priors, online T3A and the 35-s labeled recalibration against small hand-computed cases."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from torch import nn

from myoxai.adapt.labeled import first_holds, recalibrate_labeled
from myoxai.adapt.prototypes import OnlineT3A, em_priors, prior_bias
from myoxai.errors import MyoxaiError

torch.set_num_threads(1)


def test_em_priors_match_hand_computed_iterations() -> None:
    probs = np.array([[0.9, 0.1]] * 3 + [[0.2, 0.8]])
    # one step from uniform priors: the mean posterior
    prior, n = em_priors(probs, max_iter=1)
    assert n == 1 and prior == pytest.approx([0.725, 0.275])
    # second step: posteriors re-weighted by 0.725/0.5 and 0.275/0.5, renormalised, averaged
    a = 0.9 * 1.45 / (0.9 * 1.45 + 0.1 * 0.55)
    b = 0.2 * 1.45 / (0.2 * 1.45 + 0.8 * 0.55)
    prior, n = em_priors(probs, max_iter=2)
    assert prior[0] == pytest.approx((3 * a + b) / 4) and prior[0] == pytest.approx(0.81899, abs=1e-5)
    # posteriors that already average to the training priors are a fixed point
    fixed, _ = em_priors(np.array([[0.8, 0.2], [0.2, 0.8]]))
    assert fixed == pytest.approx([0.5, 0.5])


class Toy(nn.Module):
    """Identity features on 2-d inputs, a linear head: T3A by hand."""

    def __init__(self, weight: list[list[float]], bias: list[float]) -> None:
        super().__init__()
        self.n_classes = len(weight)
        self.head = nn.Linear(2, self.n_classes)
        with torch.no_grad():
            self.head.weight.copy_(torch.tensor(weight))
            self.head.bias.copy_(torch.tensor(bias))

    def features(self, x: torch.Tensor) -> torch.Tensor:
        return x.reshape(len(x), -1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.features(x))


def test_prior_bias_adds_log_em_priors_to_the_head() -> None:
    toy = Toy([[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0])
    x = np.array([[3.0, 0.0], [3.0, 0.0], [3.0, 0.0], [0.0, 0.5]], np.float32)
    net, prior = prior_bias(toy, x)
    probs = torch.softmax(toy(torch.as_tensor(x)), dim=1).detach().numpy()
    expected, _ = em_priors(probs)
    assert expected[1] < 1e-3  # EM drives class 1 towards 0; the floor keeps it possible
    floored = np.maximum(expected, 1e-3)
    assert prior == pytest.approx(floored / floored.sum())
    assert net.head.bias.detach().numpy() == pytest.approx(np.log(2 * prior), abs=1e-6)
    assert toy.head.bias.abs().sum() == 0  # the caller's model is unchanged


def test_online_t3a_matches_hand_computation() -> None:
    t3a = OnlineT3A(Toy([[1.0, 0.0], [0.0, 1.0]], [0.0, 0.0]), filter_k=2)
    # window 1: the original head says class 0; it joins class 0's supports (head row e0 + itself)
    out1 = t3a(torch.tensor([[2.0, 1.0]])).numpy()[0]
    p0 = np.array([1.0, 0.0]) + np.array([2.0, 1.0]) / math.sqrt(5)
    p0 /= np.linalg.norm(p0)
    assert out1 == pytest.approx([p0 @ [2.0, 1.0], 1.0], abs=1e-6)
    # window 2: class 1; prototype 1 = normalise(e1 + (0, 1)) = e1
    out2 = t3a(torch.tensor([[0.0, 3.0]])).numpy()[0]
    assert out2 == pytest.approx([p0 @ [0.0, 3.0], 3.0], abs=1e-6)
    # window 3: class 0 with a higher entropy (logit gap 0.9 < 1) than both supports: filtered out at k = 2
    out3 = t3a(torch.tensor([[1.0, 0.1]])).numpy()[0]
    assert out3 == pytest.approx([p0 @ [1.0, 0.1], 0.1], abs=1e-6)
    assert [len(s) for s in t3a.supports] == [2, 2]


def test_online_t3a_never_looks_ahead() -> None:
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 2)).astype(np.float32)
    toy = Toy([[1.0, 0.2], [-0.3, 1.0]], [0.1, -0.1])
    first = OnlineT3A(toy)(torch.as_tensor(x)).numpy()
    later = x.copy()
    later[20:] = rng.normal(size=(20, 2))  # change only the windows after the 20th
    second = OnlineT3A(toy)(torch.as_tensor(later)).numpy()
    assert np.array_equal(first[:20], second[:20]) and not np.array_equal(first[20:], second[20:])


def test_first_holds_are_the_first_windows_of_each_gesture() -> None:
    y = np.array([0, 0, 0, 1, 1, 1, 0, 0, 2, 2])
    assert first_holds(y, per_class=2).tolist() == [0, 1, 3, 4, 8, 9]


def test_labeled_recalibration_trains_only_unfrozen_layers_and_keeps_the_model() -> None:
    from myoxai.models import build_model

    model = build_model("spectrogram-convnet", 3, seed=0, channels=[4, 4, 4], log_input=True)
    rng = np.random.default_rng(0)
    x = rng.exponential(1.0, (30, 4, 8, 10)).astype(np.float32)
    y = np.repeat(np.arange(3), 10)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    from myoxai.models.transfer import FineTuneSettings

    net, report = recalibrate_labeled(model, x, y, FineTuneSettings(steps=5, batch_size=8, refit_standardizer=False))
    assert all(torch.equal(v, model.state_dict()[k]) for k, v in before.items())  # caller's model untouched
    first_conv = next(n for n, _ in net.named_parameters() if n.endswith("weight"))
    assert torch.equal(dict(net.named_parameters())[first_conv], dict(model.named_parameters())[first_conv])
    assert not torch.equal(net.head.weight, model.head.weight)
    assert report.gestures == 3 and report.n_windows == 30 and report.epochs_run >= 1
    with pytest.raises(MyoxaiError, match="gesture indices"):
        recalibrate_labeled(model, x, y + 5)


def test_recalibrate_35s_starts_from_the_quick_model_and_can_be_cancelled() -> None:
    import threading

    from myoxai.adapt.labeled import recalibrate_35s
    from myoxai.adapt.quick import calibration_profile
    from myoxai.models import build_model
    from myoxai.models.transfer import FineTuneSettings

    model = build_model("spectrogram-convnet", 3, seed=0, channels=[4, 4, 4], log_input=True)
    rng = np.random.default_rng(1)
    x = rng.exponential(1.0, (30, 4, 8, 10)).astype(np.float32)
    y = np.repeat(np.arange(3), 10)
    rolled = np.roll(x, 1, axis=2)  # today's band sits one electrode further on
    net, report = recalibrate_35s(model, rolled, y, reference_profile=calibration_profile(x),
                                  settings=FineTuneSettings(steps=4, batch_size=8, refit_standardizer=False))
    assert report.settings["start"] == "quick" and report.settings["rotation_shift"] == pytest.approx(1.0, abs=0.3)
    assert net.input_rotation == pytest.approx(-report.settings["rotation_shift"])
    cancel = threading.Event()
    cancel.set()
    _, stopped = recalibrate_35s(model, x, y, settings=FineTuneSettings(steps=100, batch_size=8), cancel=cancel)
    assert stopped.status == "cancelled" and stopped.epochs_run == 1
