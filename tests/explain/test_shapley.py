"""Exact channel Shapley: the Shapley axioms (hypothesis), brute force, fast path == plain path."""

from __future__ import annotations

import itertools
import math
import threading

import numpy as np
import pytest
import torch
from explain_toys import DynamicNet, NoConvNet, SkipNet, SymmetricNet, TinyConvNet, spectrograms
from hypothesis import given, settings
from hypothesis import strategies as st

from myoxai.errors import MyoxaiError
from myoxai.explain import ChannelShapley, coalition_masks, rest_baseline, shapley_matrix_weights

torch.set_num_threads(1)
SETTINGS = settings(max_examples=15, deadline=None)


def brute_force_phi(model, x: torch.Tensor, baseline: torch.Tensor) -> np.ndarray:
    """Shapley by the permutation definition, one model call per coalition (n_classes, N) on probabilities."""
    n = x.shape[1]
    cache: dict[frozenset, np.ndarray] = {}

    def value(s: frozenset) -> np.ndarray:
        if s not in cache:
            xs = baseline.clone()
            for c in s:
                xs[:, c] = x[:, c]
            with torch.no_grad():
                cache[s] = torch.softmax(model(xs[None]).double(), -1)[0].numpy()
        return cache[s]

    phi = np.zeros((value(frozenset()).shape[0], n))
    for perm in itertools.permutations(range(n)):
        s: frozenset = frozenset()
        for p in perm:
            phi[:, p] += value(s | {p}) - value(s)
            s = s | {p}
    return phi / math.factorial(n)


def test_weights_rows():
    m = shapley_matrix_weights(8)
    masks = coalition_masks(8)
    assert m.shape == (256, 8) and masks[255].all() and not masks[0].any()
    # a constant game has zero Shapley values; the additive game x_n gives phi_n = x_n
    assert np.allclose(m.sum(axis=0), 0)
    vals = np.arange(1.0, 9.0)
    assert np.allclose((masks @ vals) @ m, vals)


def test_brute_force_small_case():
    model = TinyConvNet(n_classes=3, n_electrodes=5, seed=3).eval()
    x = spectrograms(1, seed=4, n_electrodes=5)[0]
    cs = ChannelShapley(model, spec_shape=(4, 5, 10))
    assert cs.uses_fast_path
    got = cs.explain(x).phi_prob[0]
    want = brute_force_phi(model, x, torch.zeros_like(x))
    assert np.abs(got - want).max() < 1e-6


@SETTINGS
@given(seed=st.integers(0, 10_000), k=st.integers(1, 4))
def test_efficiency(seed, k):
    model = TinyConvNet(seed=seed).eval()
    r = ChannelShapley(model, chunk=3).explain(spectrograms(k, seed=seed + 1))
    assert np.abs(r.phi_prob.sum(-1) - r.total).max() < 1e-5
    assert np.abs(r.phi_logit.sum(-1) - r.total_logit).max() < 1e-5
    with torch.no_grad():
        assert np.allclose(r.logit_empty[0], model(torch.zeros(1, 4, 8, 10))[0].numpy(), atol=1e-5)


@SETTINGS
@given(seed=st.integers(0, 10_000), pair=st.sampled_from([(0, 1), (2, 7), (3, 5)]))
def test_symmetry(seed, pair):
    x = spectrograms(1, seed=seed)
    x[:, :, pair[1]] = x[:, :, pair[0]]
    r = ChannelShapley(SymmetricNet(seed=seed).eval()).explain(x)
    assert np.abs(r.phi_prob[0, :, pair[0]] - r.phi_prob[0, :, pair[1]]).max() < 1e-6
    assert np.abs(r.phi_logit[0, :, pair[0]] - r.phi_logit[0, :, pair[1]]).max() < 1e-5


@SETTINGS
@given(seed=st.integers(0, 10_000), ignored=st.integers(0, 7))
def test_null_player(seed, ignored):
    r = ChannelShapley(TinyConvNet(seed=seed, ignore=ignored).eval()).explain(spectrograms(2, seed=seed))
    assert np.abs(r.phi_prob[..., ignored]).max() < 1e-6
    assert np.abs(r.phi_logit[..., ignored]).max() < 1e-5


def _contract_models():
    from myoxai.models import build_model

    return [build_model("allconvnet", 6, seed=4), build_model("spectrogram-convnet", 6, seed=5, channels=(8, 8))]


@pytest.mark.parametrize("model", [TinyConvNet(seed=1), SymmetricNet(seed=2), NoConvNet(seed=3), SkipNet(seed=4),
                                   *_contract_models()])
def test_fast_path_equals_plain_and_brute_force(model):
    model.eval()
    if hasattr(model, "fit_standardizer"):
        model.fit_standardizer(spectrograms(20, seed=8).numpy())
    x = spectrograms(3, seed=9)
    cs = ChannelShapley(model, chunk=2)
    # real models declare their row-local chain; toys with a first conv get the first-conv path
    expected = "rowlocal" if hasattr(model, "row_local_layers") else "plain" if isinstance(model, NoConvNet) \
        else "firstconv"
    assert cs.path == expected
    plain = cs.coalition_logits(x, plain=True)
    assert (cs.coalition_logits(x) - plain).abs().max() < 1e-5 * max(1.0, float(plain.abs().max()))
    want = brute_force_phi(model, x[0], torch.zeros_like(x[0]))
    assert np.abs(cs.explain(x).phi_prob[0] - want).max() < 1e-6


def test_first_conv_path_for_data_dependent_control_flow():
    model = DynamicNet(seed=6).eval()
    x = spectrograms(2, seed=3)
    cs = ChannelShapley(model)
    assert cs.path == "firstconv"
    plain = cs.coalition_logits(x, plain=True)
    assert (cs.coalition_logits(x) - plain).abs().max() < 1e-5 * max(1.0, float(plain.abs().max()))
    want = brute_force_phi(model, x[1], torch.zeros_like(x[1]))
    assert np.abs(cs.explain(x).phi_prob[1] - want).max() < 1e-6


def test_rest_baseline_option():
    model = TinyConvNet(seed=5).eval()
    specs = spectrograms(20, seed=6).numpy()
    labels = np.repeat([0, 1], 10)
    base = rest_baseline(specs, labels, rest_label=0)
    cs = ChannelShapley(model, baseline=base)
    assert cs.uses_fast_path
    r = cs.explain(specs[10:12])
    with torch.no_grad():
        f0 = torch.softmax(model(torch.from_numpy(base)[None]), -1)[0].numpy()
    assert np.allclose(r.f_empty[0], f0, atol=1e-6)
    assert np.abs(r.phi_prob.sum(-1) - r.total).max() < 1e-5
    want = brute_force_phi(model, torch.from_numpy(specs[10]), torch.from_numpy(base))
    assert np.abs(r.phi_prob[0] - want).max() < 1e-6


def test_bad_input_and_baseline():
    model = TinyConvNet().eval()
    with pytest.raises(MyoxaiError, match="baseline"):
        ChannelShapley(model, baseline="mean")
    with pytest.raises(MyoxaiError, match="expected"):
        ChannelShapley(model).explain(np.zeros((2, 4, 7, 10)))
    with pytest.raises(MyoxaiError, match="rest label"):
        rest_baseline(np.zeros((3, 4, 8, 10)), np.array([1, 1, 1]))


def test_private_copy_and_threads():
    model = TinyConvNet(seed=8).eval()
    cs = ChannelShapley(model)
    x = spectrograms(6, seed=1)
    serial = cs.explain(x).phi_prob
    with torch.no_grad():
        model.head.weight.mul_(3.0)  # later training of the caller's model does not leak in
    out: dict[int, np.ndarray] = {}

    def work(i: int) -> None:
        out[i] = cs.explain(x[i:i + 1]).phi_prob[0]

    threads = [threading.Thread(target=work, args=(i,)) for i in range(6)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert np.abs(np.stack([out[i] for i in range(6)]) - serial).max() < 1e-6


def test_core_needs_only_torch():
    import subprocess
    import sys

    code = ("import sys, myoxai.explain; "
            "print(any(m in sys.modules for m in ('captum', 'shap', 'shapiq', 'matplotlib')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "False"


def test_building_explainers_does_not_disturb_forwards_in_other_threads():
    """The fast path is read from the model's declared layers, not traced: torch.fx tracing patches
    nn.Module.__call__ process-wide, and a forward in another thread then failed (seen live)."""
    import threading

    from myoxai.explain import ChannelShapley
    from myoxai.models import build_model

    worker_model = build_model("spectrogram-convnet", 5, seed=1).eval()
    x = torch.rand(64, 4, 8, 10)
    errors: list[BaseException] = []
    stop = threading.Event()

    def forwards() -> None:
        try:
            while not stop.is_set():
                with torch.no_grad():
                    worker_model(x)
        except BaseException as exc:  # noqa: BLE001 - the test reports whatever broke
            errors.append(exc)

    t = threading.Thread(target=forwards)
    t.start()
    try:
        for seed in range(6):
            explainer = ChannelShapley(build_model("allconvnet", 5, seed=seed).eval())
            assert explainer.path == "rowlocal"
    finally:
        stop.set()
        t.join(timeout=30)
    assert not errors, errors


class HiddenCrossTerm:
    """An All-ConvNet whose forward adds a cross-electrode term its declared row-local chain does not have.

    The term, relu(z_1 + z_2 − 1) on the standardised input, is off for inputs near zero (z ≈ −mean/std)
    and on for inputs at the data's own scale — the case a near-zero probe cannot see.
    """

    @staticmethod
    def build():
        from myoxai.models import AllConvNet

        class Net(AllConvNet):
            def forward(self, x):
                z = self.standardize(x)
                cross = torch.relu(z[:, :, 0] + z[:, :, 1] - 1.0).mean(dim=(1, 2))
                return super().forward(x) + cross[:, None] * torch.linspace(-1, 1, self.n_classes)

        net = Net(4, channels=(4, 4, 4, 4)).eval()
        with torch.no_grad():
            net.standardize.mean.fill_(5.0)
            net.standardize.std.fill_(3.0)
        return net


def test_fast_path_probe_uses_the_models_own_data_scale():
    net = HiddenCrossTerm.build()
    near_zero = torch.rand(3, 4, 8, 10) * 0.05
    with torch.no_grad():  # the old probe would not see the term: it is off near zero
        assert float(torch.relu((near_zero[:, :, 0] - 5) / 3 + (near_zero[:, :, 1] - 5) / 3 - 1).max()) == 0.0
    cs = ChannelShapley(net)
    assert cs.path != "rowlocal"  # refused by the draws from the standardiser statistics
    x = (5.0 + 3.0 * torch.randn(2, 4, 8, 10, generator=torch.Generator().manual_seed(1))).numpy()
    want = brute_force_phi(net, torch.as_tensor(x[0]), torch.zeros(4, 8, 10))
    assert np.abs(cs.explain(x).phi_prob[0] - want).max() < 1e-6


def test_fast_path_falls_back_on_the_first_real_batch(caplog):
    from myoxai.models import AllConvNet

    net = AllConvNet(4, channels=(4, 4, 4, 4)).eval()
    cs = ChannelShapley(net)
    assert cs.path == "rowlocal"
    real = ChannelShapley(net, fast=False)
    x = spectrograms(3, seed=2).numpy()

    class Broken:  # a fast path that is wrong on real data (it passed the probe by assumption)
        def __init__(self, good):
            self.good = good

        def logits(self, xc):
            return self.good.logits(xc) + 0.1

    cs._fast = Broken(cs._fast)
    with caplog.at_level("WARNING", logger="myoxai.explain.shapley"):
        got = cs.explain(x)
    assert cs.path == "plain" and "disagrees" in caplog.text
    np.testing.assert_allclose(got.phi_prob, real.explain(x).phi_prob, atol=1e-7)
