"""Instant adaptation (re-normalisation, AdaBN, rotation compensation, prototype head, TENT) and the recipe pieces."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch

from myoxai.adapt import quick_adapt
from myoxai.adapt.quick import calibration_profile, prototype_head, refit_batchnorm, renormalize, tent
from myoxai.adapt.rotation import shift_electrodes
from myoxai.models import TrainSettings, build_model, load_model, predict, save_model, train_model
from myoxai.models.augment import Augmentation, augment_spectrograms, circular_shift
from myoxai.models.training import group_split

torch.set_num_threads(1)
N_CLASSES = 4


def ring_data(n_per_class: int, seed: int, rotation: float = 0.0, gain: float = 1.0) -> tuple[np.ndarray, np.ndarray]:
    """Power spectrograms: class c has a smooth energy bump centred on electrode 2c (+ ``rotation``)."""
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(N_CLASSES), n_per_class)
    e = np.arange(8)
    out = np.empty((len(y), 4, 8, 10), np.float32)
    for i, c in enumerate(y):
        d = (e - 2 * c - rotation + 4) % 8 - 4
        bump = np.exp(-0.5 * d**2) + 0.05
        out[i] = gain * bump[None, :, None] * rng.exponential(1.0, (4, 8, 10))
    return out, y


@pytest.fixture(scope="module")
def calibrated():
    x, y = ring_data(120, 0)
    groups = np.arange(len(y)) // 30
    model = build_model("spectrogram-convnet", N_CLASSES, seed=0, channels=[8, 8], log_input=True)
    report = train_model(model, x, y, TrainSettings(epochs=10, batch_size=64, seed=0), groups=groups)
    return model, x, y, report


def test_group_split_holds_out_whole_groups_reproducibly() -> None:
    y = np.repeat(np.arange(3), 40)
    groups = np.arange(120) // 10
    tr, va = group_split(y, groups, 0.25, seed=3)
    assert not set(groups[tr]) & set(groups[va])
    assert all(len(set(groups[va][y[va] == c])) == 1 for c in range(3))  # one of 4 groups per class
    assert np.array_equal(va, group_split(y, groups, 0.25, seed=3)[1])


def test_training_reports_validation_groups_it_never_fitted(calibrated) -> None:
    model, x, y, report = calibrated
    val = np.isin(np.arange(len(y)) // 30, report["val_groups"])
    assert 0 < val.sum() < len(y)
    expected = np.log(np.maximum(x[~val], 0) + float(model.standardize.offset))
    assert np.allclose(model.standardize.mean.numpy(), expected.mean(axis=(0, 1, 3)), rtol=1e-4, atol=1e-5)


def test_augmentation_shift_matches_the_rotation_module() -> None:
    x = torch.rand(5, 4, 8, 10, dtype=torch.float64)
    shifts = torch.tensor([0.0, 1.0, -0.5, 2.25, -3.7], dtype=torch.float64)
    out = circular_shift(x, shifts)
    for i, s in enumerate(shifts.tolist()):
        assert np.allclose(out[i].numpy(), shift_electrodes(x[i].numpy(), s, electrode_axis=1))


def test_augmentation_is_seeded_and_off_when_inactive() -> None:
    x = torch.rand(16, 4, 8, 10)
    assert augment_spectrograms(x, Augmentation()) is x
    aug = Augmentation(shift=0.5, integer_shift=1, electrode_gain=0.3, global_gain=0.3, noise=0.05)
    a = augment_spectrograms(x, aug, torch.Generator().manual_seed(1))
    b = augment_spectrograms(x, aug, torch.Generator().manual_seed(1))
    assert torch.equal(a, b) and not torch.equal(a, x) and (a >= 0).all()
    gains = augment_spectrograms(x, Augmentation(global_gain=0.3), torch.Generator().manual_seed(2)) / x
    per_window = gains.flatten(1)
    assert torch.allclose(per_window.min(1).values, per_window.max(1).values, rtol=1e-5)  # one gain per window
    assert ((per_window[:, 0] >= 0.7**2 - 1e-6) & (per_window[:, 0] <= 1.3**2 + 1e-6)).all()


def test_renormalisation_undoes_electrode_gains_of_a_log_model(calibrated) -> None:
    model, x, y, _ = calibrated
    gains = np.array([30.0, 0.03, 1, 1, 20.0, 1, 0.05, 1], np.float32)[None, None, :, None]
    xt = x * gains  # each electrode's power scaled: a very different skin contact today
    before = np.mean(predict(model, xt) == y)
    fixed = renormalize(model, xt)
    assert before < 0.75
    assert np.mean(predict(fixed, xt) == y) >= np.mean(predict(model, x) == y) - 0.05
    assert not torch.equal(fixed.standardize.mean, model.standardize.mean)  # a copy was changed, not the model


def test_adabn_statistics_are_the_buffer_average() -> None:
    net = build_model("spectrogram-convnet", 3, seed=0, channels=[4])
    x = np.random.default_rng(0).random((300, 4, 8, 10)).astype(np.float32) * 5
    assert refit_batchnorm(net, x, batch_size=100) == 1
    with torch.no_grad():
        h = net.blocks[0](net.standardize(torch.as_tensor(x)))
    assert torch.allclose(net.blocks[1].running_mean, h.mean(dim=(0, 2, 3)), atol=1e-5)


def test_quick_adapt_estimates_and_compensates_a_rotation(calibrated) -> None:
    model, x, y, _ = calibrated
    xt, yt = ring_data(100, 5, rotation=1.0, gain=1.7)
    before = np.mean(predict(model, xt) == yt)
    adapted, report = quick_adapt(model, xt, calibration_profile(x))
    assert report.rotation_shift == pytest.approx(1.0, abs=0.2) and report.renormalized
    after = np.mean(predict(adapted, xt) == yt)
    assert before < 0.6 < 0.9 < after
    assert model.input_rotation == 0.0 and adapted.input_rotation == pytest.approx(-report.rotation_shift)


def test_rotated_log_model_round_trips_through_its_file(calibrated, tmp_path) -> None:
    model, x, _, _ = calibrated
    adapted, _ = quick_adapt(model, ring_data(50, 6, rotation=0.5)[0], calibration_profile(x))
    path = save_model(adapted, tmp_path / "m.safetensors", ["a", "b", "c", "d"])
    back = load_model(path)
    assert back.input_rotation == adapted.input_rotation
    assert np.array_equal(predict(back, x[:50]), predict(adapted, x[:50]))


def test_tent_trains_only_batchnorm_affine_parameters(calibrated) -> None:
    model, x, _, _ = calibrated
    xt, _ = ring_data(60, 7, gain=2.0)
    before = copy.deepcopy(model.state_dict())
    out = tent(model, xt)
    changed = {k for k, v in out.state_dict().items() if not torch.equal(v, before[k])}
    trainable = {k for k in changed if not k.endswith(("running_mean", "running_var", "num_batches_tracked"))}
    assert trainable and all(k.startswith("blocks.") and k.endswith((".weight", ".bias")) for k in trainable)
    assert all(isinstance(dict(out.named_modules())[k.rsplit(".", 1)[0]], torch.nn.BatchNorm2d) for k in trainable)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())


def test_prototype_head_is_t3a_on_the_most_confident_features(calibrated) -> None:
    model, _, _, _ = calibrated
    xt, _ = ring_data(40, 8, rotation=0.3, gain=1.5)
    out, counts = prototype_head(model, xt, per_class=7)
    with torch.no_grad():
        f = model.features(torch.as_tensor(xt)).double()
        z = model.head(f.float()).double()
    p = torch.softmax(z, 1)
    ent = -(p * torch.log(p)).sum(1)
    pred = z.argmax(1)
    w = model.head.weight.detach().double()
    for k in range(N_CLASSES):
        idx = torch.nonzero(pred == k).flatten()
        idx = idx[torch.argsort(ent[idx])[:7]]
        assert counts[k] == len(idx) <= 7
        proto = torch.cat([w[k:k + 1] / w[k].norm(), f[idx] / f[idx].norm(dim=1, keepdim=True)]).mean(0)
        new = out.head.weight.detach().double()[k]
        assert torch.nn.functional.cosine_similarity(new, proto, dim=0) > 1 - 1e-6
    assert torch.count_nonzero(out.head.bias) == 0
    with torch.no_grad():  # the logits keep their spread on the buffer
        assert float(out(torch.as_tensor(xt)).std()) == pytest.approx(float(z.std()), rel=1e-4)
    assert torch.equal(model.head.weight, calibrated[0].head.weight) and torch.count_nonzero(model.head.bias) > 0


def test_prototype_head_moves_a_biased_boundary_back_to_todays_data(calibrated) -> None:
    model, x, y, _ = calibrated
    biased = copy.deepcopy(model)
    with torch.no_grad():
        biased.head.bias[0] += 0.5  # a boundary that no longer fits: a fifth of the windows now look like class 0
    before = np.mean(predict(biased, x) == y)
    fixed, counts = prototype_head(biased, x)
    assert before < 0.9 and all(c > 0 for c in counts)
    assert np.mean(predict(fixed, x) == y) >= np.mean(predict(model, x) == y) - 0.05


def test_prototype_head_of_an_allconvnet_round_trips_through_its_file(tmp_path) -> None:
    x, y = ring_data(40, 9)
    net = build_model("allconvnet", N_CLASSES, seed=0, channels=[4, 4, 4, 8], log_input=True)
    train_model(net, x, y, TrainSettings(epochs=2, batch_size=64, seed=0))
    adapted, report = quick_adapt(net, x, calibration_profile(x))
    assert report.prototype_supports is not None and len(report.prototype_supports) == N_CLASSES
    assert torch.count_nonzero(adapted.head.conv.bias) == 0
    back = load_model(save_model(adapted, tmp_path / "a.safetensors", ["a", "b", "c", "d"]))
    assert np.array_equal(predict(back, x), predict(adapted, x))
