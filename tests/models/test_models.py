"""Model contract (shapes, features/head split, first_conv, standardisation), trainer determinism, LDA, FIN."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch import nn

from myoxai.dsp.features import KANOGA_TD_AR, hist_entropy, rms, ssc, ssi, var, zc
from myoxai.models import (
    MODEL_NAMES,
    SPECTROGRAM,
    AllConvNet,
    LdaBaseline,
    LstmFin,
    TrainSettings,
    build_model,
    predict,
    predict_proba,
    train_model,
)
from myoxai.models.lstm_fin import imitation_targets, r2_per_target

torch.set_num_threads(1)
TORCH_MODELS = [n for n in MODEL_NAMES if n != "lda"]


def toy_data(n_per_class: int = 60, n_classes: int = 3, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Windows whose class is which electrode carries a 40 Hz burst; spectrograms from the real dsp."""
    from myoxai.config import DEFAULT_CONFIG
    from myoxai.dsp import spectrogram

    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(n_classes), n_per_class)
    t = np.arange(50) / 200.0
    win = 0.01 * rng.standard_normal((len(y), 50, 8))
    win[np.arange(len(y)), :, y * 2] += 0.3 * np.sin(2 * np.pi * 40 * t + rng.uniform(0, 6, len(y))[:, None])
    return spectrogram(win, DEFAULT_CONFIG).astype(np.float32), win.astype(np.float32), y


def inputs_for(model, spec, win):
    return spec if model.input_kind == SPECTROGRAM else win


@pytest.mark.parametrize("name", TORCH_MODELS)
def test_shapes_and_feature_head_split(name):
    spec, win, _ = toy_data(4)
    model = build_model(name, 5, seed=0)
    model.fit_standardizer(inputs_for(model, spec, win))
    model.eval()
    x = torch.as_tensor(inputs_for(model, spec, win))
    logits = model(x)
    z = model.features(x)
    assert logits.shape == (len(x), 5)
    assert z.shape == (len(x), model.feature_dim)
    torch.testing.assert_close(model.head(z), logits)
    assert torch.isfinite(model(torch.zeros_like(x))).all()  # f(∅) = model(zeros) is defined


@pytest.mark.parametrize("name", ["spectrogram-convnet", "allconvnet"])
def test_first_conv_sees_standardized_input(name):
    spec, _, _ = toy_data(3)
    model = build_model(name, 3, seed=0).eval()
    model.fit_standardizer(spec)
    assert isinstance(model.first_conv, nn.Conv2d)
    seen = []
    model.first_conv.register_forward_hook(lambda mod, inp, out: seen.append(inp[0]))
    x = torch.as_tensor(spec)
    model(x)
    torch.testing.assert_close(seen[0], model.standardize(x))
    assert model.first_conv.in_channels == 4


def test_standardizer_uses_per_electrode_statistics():
    spec, _, _ = toy_data(20)
    spec = spec * np.arange(1, 9)[None, None, :, None]  # electrodes on very different scales
    model = build_model("allconvnet", 3)
    model.fit_standardizer(spec)
    z = model.standardize(torch.as_tensor(spec)).numpy()
    np.testing.assert_allclose(z.mean(axis=(0, 1, 3)), 0, atol=1e-4)
    np.testing.assert_allclose(z.std(axis=(0, 1, 3)), 1, atol=1e-3)


def test_training_is_deterministic_and_learns():
    spec, win, y = toy_data(40)
    settings = TrainSettings(epochs=4, batch_size=32, seed=3)
    states, accs = [], []
    for _ in range(2):
        model = build_model("allconvnet", 3, seed=3)
        train_model(model, spec, y, settings)
        states.append(model.state_dict())
        accs.append(np.mean(predict(model, spec) == y))
    for k in states[0]:
        assert torch.equal(states[0][k], states[1][k]), k
    other = build_model("allconvnet", 3, seed=4)
    train_model(other, spec, y, TrainSettings(epochs=4, batch_size=32, seed=4))
    assert not torch.equal(other.first_conv.weight, states[0]["convs.0.weight"])
    assert accs[0] > 0.9


def test_spectrogram_convnet_learns_toy_task():
    spec, _, y = toy_data(40)
    model = build_model("spectrogram-convnet", 3, seed=0)
    report = train_model(model, spec, y, TrainSettings(epochs=6, batch_size=32))
    assert report["epochs_run"] >= 1 and "val_accuracy" in report
    assert np.mean(predict(model, spec) == y) > 0.8  # chance is 1/3
    p = predict_proba(model, spec)
    np.testing.assert_allclose(p.sum(axis=1), 1, rtol=1e-9)


def test_freeze_early_layers_keeps_first_three_convs():
    spec, _, y = toy_data(20)
    model: AllConvNet = build_model("allconvnet", 3, seed=0)
    model.fit_standardizer(spec)
    before = {k: v.clone() for k, v in model.state_dict().items()}
    model.freeze_early_layers(3)
    train_model(model, spec, y, TrainSettings(epochs=2, batch_size=32), fit_standardizer=False)
    after = model.state_dict()
    for i in range(3):
        assert torch.equal(before[f"convs.{i}.weight"], after[f"convs.{i}.weight"])
    assert not torch.equal(before["convs.3.weight"], after["convs.3.weight"])
    assert not torch.equal(before["head.conv.weight"], after["head.conv.weight"])


def test_class_balanced_loss_handles_imbalance():
    spec, _, y = toy_data(60)
    keep = np.concatenate([np.flatnonzero(y == 0), np.flatnonzero(y == 1)[:8], np.flatnonzero(y == 2)[:8]])
    model = build_model("allconvnet", 3, seed=0)
    train_model(model, spec[keep], y[keep], TrainSettings(epochs=8, batch_size=32))
    pred = predict(model, spec)
    recall = [np.mean(pred[y == c] == c) for c in range(3)]
    assert min(recall) > 0.7, recall


def test_lstm_fin_imitates_closed_form_features():
    _, win, y = toy_data(100)
    model: LstmFin = build_model("lstm-fin", 3, seed=0)
    report = train_model(model, win, y, TrainSettings(epochs=1, fin_epochs=15, batch_size=64))
    r2 = report["fin"]["r2"]
    assert set(r2) == {"log_rms", "log_var", "log_ssi", "entropy"}
    assert r2["log_rms"] > 0.5, r2
    assert model.first_conv is None and model.input_kind == "window"


def test_imitation_targets_are_the_registry_features():
    rng = np.random.default_rng(1)
    w = rng.standard_normal((5, 50, 8))
    t = imitation_targets(w)
    np.testing.assert_allclose(t[..., 0], np.log(rms(w)[..., 0] + 1e-8))
    np.testing.assert_allclose(t[..., 1], np.log(var(w)[..., 0] + 1e-8))
    np.testing.assert_allclose(t[..., 2], np.log(ssi(w)[..., 0] + 1e-8))
    np.testing.assert_allclose(t[..., 3], hist_entropy(w)[..., 0])
    r2 = r2_per_target(t, t)
    assert all(v == pytest.approx(1.0) for v in r2.values())


def test_lda_matches_scikit_learn():
    from sklearn.discriminant_analysis import LinearDiscriminantAnalysis

    _, win, y = toy_data(40)
    lda = LdaBaseline(4).fit(win, y)  # class 3 absent from training: never predicted
    x = lda.featurize(win)
    ref = LinearDiscriminantAnalysis().fit(x, y)
    np.testing.assert_array_equal(predict(lda, win), ref.predict(x))
    np.testing.assert_allclose(predict_proba(lda, win)[:, :3], ref.predict_proba(x), atol=1e-8)
    assert np.all(predict_proba(lda, win)[:, 3] == 0)


def test_held_sign_zero_crossings_follow_the_toolbox_rule():
    # 0.5 → 0.004 → -0.004 → -0.5: the crossing lingers inside the 0.01 dead-zone.
    w = np.array([0.5, 0.004, -0.004, -0.5, -0.3, 0.2])[None, :, None]
    assert zc(w, 0.01)[0, 0, 0] == 1  # pair rule misses the lingering crossing, counts -0.3 → 0.2
    assert zc(w, 0.01, hold=True)[0, 0, 0] == 2  # held sign: + + + - - + → two flips
    # slopes: [0, -.496, -.008, -.496, .2, .5] → held signs 0 - - - + + → one change
    assert ssc(w, 0.01, hold=True)[0, 0, 0] == 1
    assert KANOGA_TD_AR.params["zc"]["hold"] and KANOGA_TD_AR.params["ssc"]["hold"]


def test_build_model_rejects_unknown_name():
    from myoxai.errors import MyoxaiError

    with pytest.raises(MyoxaiError, match="unknown model"):
        build_model("resnet", 3)
