"""The ensemble model: mean probability, paired member 0, model files, member-wise adaptation."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from myoxai.adapt.methods import AdaptContext, resolve
from myoxai.errors import MyoxaiError
from myoxai.models import TrainSettings, build_model, load_model, predict, predict_proba, save_model
from myoxai.models.ensemble import EnsembleModel, build_any, build_ensemble

ARGS = {"channels": (4, 4, 4, 4)}


def toy_data(n: int = 240, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Three separable classes: gesture 1 loud on electrode 2, gesture 2 on electrode 5."""
    rng = np.random.default_rng(seed)
    x = rng.gamma(1.0, 1.0, (n, 4, 8, 10)).astype(np.float32)
    y = np.repeat(np.arange(3), n // 3)
    x[y == 1, :, 2] *= 6
    x[y == 2, :, 5] *= 6
    return x, y


@pytest.fixture(scope="module")
def trained():
    x, y = toy_data()
    ens = build_ensemble("allconvnet", 3, 3, seed=5, **ARGS)
    report = ens.train_on(x, y, TrainSettings(epochs=3, seed=5), groups=np.arange(len(y)) // 20)
    return ens, report, x, y


def test_member_zero_is_the_single_model_of_the_seed(trained):
    ens, report, x, y = trained
    single = build_model("allconvnet", 3, seed=5, **ARGS)
    single_report = single.train_on(x, y, TrainSettings(epochs=3, seed=5), groups=np.arange(len(y)) // 20)
    np.testing.assert_array_equal(single.logits(x), ens.members[0].logits(x))
    assert report["val_groups"] == single_report["val_groups"]
    assert report["k"] == 3 and len(report["members"]) == 3
    assert not np.allclose(ens.members[0].logits(x), ens.members[1].logits(x))  # other seeds, other members


def test_probability_is_the_members_mean(trained):
    ens, _, x, _ = trained
    mean = np.mean([predict_proba(m, x) for m in ens.members], axis=0)
    np.testing.assert_allclose(predict_proba(ens, x), mean, atol=1e-12)
    with torch.no_grad():
        torch_p = torch.softmax(ens(torch.as_tensor(x)), dim=1).double().numpy()
    np.testing.assert_allclose(torch_p, mean, atol=1e-6)
    np.testing.assert_array_equal(predict(ens, x), mean.argmax(axis=1))


def test_model_file_round_trip(trained, tmp_path):
    ens, _, x, _ = trained
    ens.members[1].set_input_rotation(0.5)  # members may differ in arguments after adaptation
    try:
        path = save_model(ens, tmp_path / "ens.safetensors", ["rest", "a", "b"])
        loaded = load_model(path)
        assert isinstance(loaded, EnsembleModel) and loaded.class_names == ("rest", "a", "b")
        assert loaded.description["architecture"] == "ensemble"
        assert loaded.members[1].input_rotation == 0.5 and loaded.members[0].input_rotation == 0.0
        np.testing.assert_array_equal(loaded.logits(x), ens.logits(x))
    finally:
        ens.members[1].set_input_rotation(0)


def test_build_any_with_one_member_is_the_single_model():
    a, b = build_any("allconvnet", 3, seed=2, **ARGS), build_model("allconvnet", 3, seed=2, **ARGS)
    assert type(a) is type(b)
    for (ka, va), (kb, vb) in zip(a.state_dict().items(), b.state_dict().items(), strict=True):
        assert ka == kb and torch.equal(va, vb)


def test_refuses_non_torch_members_and_bad_sizes():
    with pytest.raises(MyoxaiError, match="torch model"):
        build_ensemble("lda", 3, 3, seed=0)
    with pytest.raises(MyoxaiError, match="1 to"):
        build_ensemble("allconvnet", 3, 0, seed=0)


@pytest.mark.parametrize("method", ["none", "quick", "default", "calibrate-35s", "labeled"])
def test_adaptation_runs_member_by_member(trained, method):
    from myoxai.adapt import SourceData

    ens, _, x, y = trained
    xt = x * np.float32(1.5)  # today's gains
    profile = np.log(np.sqrt(np.mean(x, axis=(0, 1, 3))))
    m = resolve(method)
    groups = np.arange(len(y)) // 20
    source = SourceData(x, y, groups, {}, validation_groups=np.array([0, 5, 9]))

    def ctx() -> AdaptContext:
        return AdaptContext(xt, source=source, labels=y if m.needs_labels else None, reference_profile=profile,
                            seed=3)

    c = ctx()
    out = m.run(ens, c)
    if method == "none":
        assert out is ens
        return
    assert isinstance(out, EnsembleModel) and out is not ens and len(out.members) == 3
    assert len(c.report["members"]) == 3
    for i, member in enumerate(ens.members):  # each member adapted exactly as alone, with the same seed
        alone = ctx()
        single = m.run(member, alone)
        np.testing.assert_allclose(out.members[i].logits(xt), single.logits(xt), atol=1e-6)
        if "rotation_shift" in alone.report:
            assert c.report["members"][i]["rotation_shift"] == alone.report["rotation_shift"]
    if "rotation_shift" in c.report:
        assert c.report["rotation_shift"] == pytest.approx(np.mean([r["rotation_shift"]
                                                                    for r in c.report["members"]]))
    np.testing.assert_array_equal(ens.members[0].logits(x), trained[0].members[0].logits(x))  # caller's unchanged


@pytest.mark.parametrize("method", ["scadann", "quick+online-t3a"])
def test_methods_that_adapt_one_network_are_refused(trained, method):
    ens, _, x, _ = trained
    with pytest.raises(MyoxaiError, match="ensemble"):
        resolve(method).run(ens, AdaptContext(x, source=object()))
