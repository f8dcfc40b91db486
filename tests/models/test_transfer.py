"""Transfer learning pieces: new head, frozen early layers, fixed-budget fine-tuning; ScatNet as a model."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from myoxai.models import build_model, load_model, predict, save_model
from myoxai.models.transfer import FineTuneSettings, fine_tune, transfer_copy


def _toy(n_classes: int, n: int = 210, kind: str = "spectrogram", seed: int = 0):
    """Classes that differ by which electrode carries power (easy, so a few steps must learn them)."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % n_classes
    shape = (n, 4, 8, 10) if kind == "spectrogram" else (n, 50, 8)
    x = rng.normal(0, 1, shape).astype(np.float32)
    for c in range(n_classes):
        if kind == "spectrogram":
            x[y == c, :, c] += 4.0
        else:
            x[y == c, :, c] *= 5.0
    return x, y


@pytest.mark.parametrize("name", ["allconvnet", "spectrogram-convnet", "scatnet", "ring-tower"])
def test_transfer_copy_replaces_head_and_freezes_early_layers(name):
    source = build_model(name, 22, seed=0)
    model = transfer_copy(source, 5)
    assert model.n_classes == 5 and source.n_classes == 22
    frozen = [n for n, p in model.named_parameters() if not p.requires_grad]
    trainable = [n for n, p in model.named_parameters() if p.requires_grad]
    assert frozen and any(n.startswith("head") for n in trainable)
    before = {n: p.detach().clone() for n, p in model.named_parameters()}
    x, y = _toy(5, kind=model.input_kind)
    report = fine_tune(model, x, y, FineTuneSettings(steps=20, batch_size=32))
    assert report["epochs_run"] == 3  # 210 windows / 32 = 7 steps per epoch; 20 steps round up to 3 epochs
    after = dict(model.named_parameters())
    assert all(torch.equal(before[n], after[n]) for n in frozen)
    assert any(not torch.equal(before[n], after[n]) for n in trainable)
    # the source model is untouched (a deep copy was fine-tuned)
    assert all(p.requires_grad for p in source.parameters())


def test_fine_tune_learns_and_reports_progress():
    source = build_model("allconvnet", 3, seed=1)
    model = transfer_copy(source, 4)
    x, y = _toy(4)
    seen = []
    fine_tune(model, x, y, FineTuneSettings(steps=120, batch_size=32, lr=5e-3),
              progress=lambda e, total, loss: seen.append((e, total)))
    assert seen[-1][0] == seen[-1][1] == len(seen)
    xt, yt = _toy(4, seed=1)
    assert np.mean(predict(model, xt) == yt) > 0.9


def test_fine_tune_can_be_cancelled():
    model = transfer_copy(build_model("allconvnet", 3, seed=1), 4)
    x, y = _toy(4)
    report = fine_tune(model, x, y, FineTuneSettings(steps=500, batch_size=32), should_stop=lambda: True)
    assert report["epochs_run"] == 1


def test_scatnet_saves_and_loads(tmp_path):
    model = build_model("scatnet", 4, seed=0)
    x, _ = _toy(4, n=16, kind="window")
    out = save_model(model, tmp_path / "s.safetensors", ["a", "b", "c", "d"])
    again = load_model(out)
    np.testing.assert_array_equal(predict(model, x), predict(again, x))


def test_cached_frozen_prefix_gives_the_same_model(monkeypatch):
    import copy

    from myoxai.models import predict_logits, transfer

    a = transfer_copy(build_model("allconvnet", 5, seed=0), 4)
    b = copy.deepcopy(a)
    x, y = _toy(4)
    fine_tune(a, x, y, FineTuneSettings(steps=30, batch_size=32))
    monkeypatch.setattr(transfer, "_frozen_prefix", lambda model: None)  # the plain, uncached path
    fine_tune(b, x, y, FineTuneSettings(steps=30, batch_size=32))
    np.testing.assert_allclose(predict_logits(a, x), predict_logits(b, x), atol=1e-6)
