"""Comparison methods: IG against Captum and the completeness axiom; GradientShap, LIME, Grad-CAM, activations."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from explain_toys import NoConvNet, TinyConvNet, spectrograms

from myoxai.errors import MyoxaiError
from myoxai.explain.activations import ConvActivations
from myoxai.explain.attribution import channel_sums, electrode_mask
from myoxai.explain.gradcam import GradCam
from myoxai.explain.gradient_shap import GradientShap
from myoxai.explain.integrated_gradients import IntegratedGradients
from myoxai.explain.lime import Lime
from myoxai.explain.methods import EXPLAINERS, attribute_all, build_method

torch.set_num_threads(1)


@pytest.fixture(scope="module")
def model():
    return TinyConvNet(n_classes=5, seed=11).eval()


@pytest.fixture(scope="module")
def x():
    return spectrograms(6, seed=12)


@pytest.mark.parametrize("model_cls", [TinyConvNet, NoConvNet])
def test_ig_matches_captum(model_cls, x):
    from captum.attr import IntegratedGradients as CaptumIG

    m = model_cls(seed=2).eval()
    target = torch.tensor([0, 1, 2, 3, 0, 1])
    ours = IntegratedGradients(m, steps=40).attribute(x, target).elements
    theirs = CaptumIG(m).attribute(x, target=target, n_steps=40, method="riemann_middle").detach().numpy()
    corr = np.corrcoef(ours.ravel(), theirs.ravel())[0, 1]
    assert corr > 0.99
    assert np.abs(ours - theirs).max() < 1e-4 * max(1.0, np.abs(theirs).max())


def test_ig_matches_captum_with_a_given_baseline(model, x):
    from captum.attr import IntegratedGradients as CaptumIG

    base = spectrograms(1, seed=99)[0]
    target = torch.tensor([4, 3, 2, 1, 0, 0])
    ours = IntegratedGradients(model, steps=30, baseline=base.numpy()).attribute(x, target).elements
    theirs = CaptumIG(model).attribute(x, baselines=base[None], target=target, n_steps=30,
                                       method="riemann_middle").detach().numpy()
    assert np.corrcoef(ours.ravel(), theirs.ravel())[0, 1] > 0.99


def test_ig_completeness_and_baselines(model, x):
    target = torch.zeros(6, dtype=torch.int64)
    ig = IntegratedGradients(model, steps=300).attribute(x, target)
    with torch.no_grad():
        gap = (model(x)[:, 0] - model(torch.zeros_like(x))[:, 0]).numpy()
    assert np.allclose(ig.elements.reshape(6, -1).sum(1), gap, atol=0.05 * np.abs(gap).max())
    assert np.allclose(ig.channels.sum(1), ig.elements.reshape(6, -1).sum(1))
    r1 = IntegratedGradients(model, steps=20, baseline="random", n_random=3, seed=1).attribute(x, target)
    r2 = IntegratedGradients(model, steps=20, baseline="random", n_random=3, seed=1).attribute(x, target)
    assert np.array_equal(r1.elements, r2.elements) and not np.allclose(r1.elements, ig.elements)
    with pytest.raises(MyoxaiError, match="baseline"):
        IntegratedGradients(model, baseline="blur").attribute(x, target)


def test_gradient_shap_seeded_and_shaped(model, x):
    a = GradientShap(model, n_samples=16, seed=3).attribute(x)
    b = GradientShap(model, n_samples=16, seed=3).attribute(x)
    assert a.elements.shape == x.shape and a.channels.shape == (6, 8)
    assert np.array_equal(a.elements, b.elements)
    # with a single zero baseline and no noise, GradientSHAP is a Monte-Carlo IG: strongly correlated
    ig = IntegratedGradients(model, steps=50).attribute(x)
    assert np.corrcoef(a.channels.ravel(), ig.channels.ravel())[0, 1] > 0.8


def test_lime_on_an_additive_model():
    """On a model additive over electrodes, LIME's per-electrode coefficients recover the additive terms."""
    class Additive(torch.nn.Module):
        def forward(self, x):
            s = x.sum(dim=(1, 3))  # (b, 8)
            w = torch.arange(1.0, 9.0)
            return torch.stack([(s * w).sum(1), torch.zeros(len(x))], 1) * 0.05

    x = spectrograms(2, seed=5)
    lime = Lime(Additive(), n_samples=256, seed=0).attribute(x, np.zeros(2, dtype=int))
    assert lime.channels.shape == (2, 8)
    mask = electrode_mask((4, 8, 10))
    assert mask.shape == (1, 4, 8, 10) and mask[0, 2, 5, 7] == 5
    # the ranking of electrodes follows their additive contribution x_sum_n * n
    contrib = (x.sum(dim=(1, 3)) * torch.arange(1.0, 9.0)).numpy()
    for i in range(2):
        rho = np.corrcoef(lime.channels[i], contrib[i])[0, 1]
        assert rho > 0.9


def test_gradcam_maps_and_tv(model, x):
    plain = GradCam(model).attribute(x)
    assert plain.elements.shape == (6, 8, 10) and (plain.elements >= 0).all()
    assert np.allclose(plain.channels, plain.elements.sum(axis=2))
    smooth = GradCam(model, tv_weight=0.5).attribute(x)
    tv = lambda m: np.abs(np.diff(m, axis=1)).sum() + np.abs(np.diff(m, axis=2)).sum()  # noqa: E731
    assert tv(smooth.elements) < tv(plain.elements)
    with pytest.raises(MyoxaiError, match="no 2-D convolution"):
        GradCam(NoConvNet())


def test_activations_every_conv(model, x):
    acts = ConvActivations(model).attribute(x)
    assert list(acts) == ["first_conv", "body.2"]
    assert acts["first_conv"].shape == (6, 8, 8, 10)


def test_registry_runs_every_method(model, x):
    target = np.array([0, 1, 2, 3, 4, 0])
    out = attribute_all(model, x.numpy(), target, list(EXPLAINERS), (4, 8, 10),
                        options={"lime": {"n_samples": 60}, "gradshap": {"n_samples": 8}}, batch=4)
    assert set(out) == set(EXPLAINERS)
    for a in out.values():
        assert a.channels.shape == (6, 8) and np.isfinite(a.channels).all()
    assert np.allclose(out["ig"].channels, channel_sums(out["ig"].elements))
    with pytest.raises(MyoxaiError, match="unknown explanation method"):
        build_method("occlusion", model, (4, 8, 10))
