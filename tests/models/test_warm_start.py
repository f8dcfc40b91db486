"""Starting a fresh model from a pre-trained one: every weight but the head copied, the head only for the same
gestures, a mismatched architecture/arguments/signal config refused with one MyoxaiError, the file's SHA-256
recorded."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from myoxai.config import SHORT_150_CONFIG
from myoxai.errors import MyoxaiError
from myoxai.models import build_model, save_model, train_model
from myoxai.models.training import TrainSettings
from myoxai.models.warm_start import init_from_file, init_from_model, init_mismatch

TINY = {"channels": (2, 2, 2, 2)}


def _pretrained(n_classes: int = 3, seed: int = 1, **kw):
    model = build_model("allconvnet", n_classes, seed=seed, **{**TINY, **kw})
    model.class_names = tuple(f"g{i}" for i in range(n_classes))
    return model


@pytest.mark.parametrize("same_gestures", [True, False])
def test_every_weight_but_the_head_is_copied_and_the_head_only_for_the_same_gestures(same_gestures):
    pre = _pretrained()
    model = build_model("allconvnet", 3, seed=0, channels=[2, 2, 2, 2])  # a list of widths equals the tuple
    fresh = {k: v.clone() for k, v in model.state_dict().items()}
    names = pre.class_names if same_gestures else ("rest", "a", "b")
    kept = init_from_model(model, pre, names)
    assert kept is same_gestures
    for k, v in model.state_dict().items():
        source = fresh[k] if k.startswith("head.") and not same_gestures else pre.state_dict()[k]
        assert torch.equal(v, source), k
    assert not torch.equal(model.convs[0].weight, fresh["convs.0.weight"])
    assert all(p.requires_grad for p in model.parameters())  # nothing frozen: the normal recipe trains it all


def test_another_class_count_keeps_the_fresh_head():
    pre = _pretrained(5)
    model = build_model("allconvnet", 3, seed=0, **TINY)
    head = model.head.conv.weight.detach().clone()
    assert init_from_model(model, pre, ("a", "b", "c")) is False
    assert torch.equal(model.head.conv.weight, head) and torch.equal(model.convs[3].weight, pre.convs[3].weight)


def test_the_trainer_refits_the_standardiser_and_trains_from_the_copied_weights():
    rng = np.random.default_rng(0)
    x = rng.gamma(2.0, 5.0, (60, 4, 8, 10)).astype(np.float32)
    y = np.arange(60) % 3
    pre = _pretrained()
    pre.standardize.mean.fill_(123.0)
    model = build_model("allconvnet", 3, seed=0, **TINY)
    init_from_model(model, pre, ("a", "b", "c"))
    train_model(model, x, y, TrainSettings(epochs=1, batch_size=32))
    assert float(model.standardize.mean[0]) != 123.0  # refitted on the training windows, not the other people's


@pytest.mark.parametrize("fresh, why", [
    (lambda: build_model("allconvnet", 3, seed=0, channels=(2, 2, 2, 4)), "channels"),
    (lambda: build_model("allconvnet", 3, seed=0, log_input=True, **TINY), "log_input"),
    (lambda: build_model("spectrogram-convnet", 3, seed=0), "spectrogram-convnet"),
    (lambda: build_model("lda", 3), "no network weights"),
])
def test_a_mismatched_model_is_refused_with_one_error(fresh, why):
    model = fresh()
    with pytest.raises(MyoxaiError, match=why) as err:
        init_from_model(model, _pretrained(), ("a", "b", "c"))
    assert "myoxai train --pretrain" in str(err.value)


def test_a_model_of_another_signal_config_is_refused(tmp_path):
    pre = _pretrained(in_frames=SHORT_150_CONFIG.n_frames)
    path = save_model(pre, tmp_path / "short.safetensors", pre.class_names, SHORT_150_CONFIG)
    model = build_model("allconvnet", 3, seed=0, in_frames=SHORT_150_CONFIG.n_frames, **TINY)
    assert init_mismatch(model, pre) is None  # built in code, it records no config: taken at its word
    with pytest.raises(MyoxaiError, match="another signal config"):
        init_from_file(model, path, ("a", "b", "c"))
    assert init_from_file(model, path, ("a", "b", "c"), SHORT_150_CONFIG)["head"] == "new"


def test_the_file_record_names_the_path_and_its_sha256(tmp_path):
    pre = _pretrained()
    path = save_model(pre, tmp_path / "pre.safetensors", pre.class_names)
    model = build_model("allconvnet", 3, seed=0, **TINY)
    record = init_from_file(model, path, pre.class_names)
    assert record == {"path": str(path), "sha256": hashlib.sha256(path.read_bytes()).hexdigest(), "head": "kept"}
    assert torch.equal(model.head.conv.weight, pre.head.conv.weight)
    with pytest.raises(MyoxaiError, match="no pre-trained model"):
        init_from_file(model, tmp_path / "missing.safetensors", pre.class_names)
