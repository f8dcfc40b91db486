"""DANN building blocks, recalibrate() safeguards, cancel latency and lineage round trip (synthetic data)."""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import replace

import numpy as np
import pytest
import torch
from torch import nn

from myoxai.adapt import (
    SOURCE,
    TARGET,
    DomainBatchNorm,
    RecalibrationSettings,
    SourceData,
    grad_reverse,
    merge_batchnorm,
    recalibrate,
    save_recalibrated,
    set_domain,
    split_batchnorm,
)
from myoxai.errors import MyoxaiError
from myoxai.models import TrainSettings, build_model, load_model, predict, save_model, train_model

torch.set_num_threads(1)
N_CLASSES = 4
FAST = RecalibrationSettings(max_epochs=5, patience=3, batch_size=32, min_target_windows=50)


def synthetic(n_per_class: int, gain: float, seed: int, hold: int = 40) -> tuple[np.ndarray, np.ndarray]:
    """Spectrogram-like windows: class c drives electrodes 2c, 2c+1; gestures held ``hold`` windows in turn."""
    rng = np.random.default_rng(seed)
    order = np.repeat(np.tile(np.arange(N_CLASSES), n_per_class // hold), hold)
    x = rng.random((len(order), 4, 8, 10)) * 0.01
    for c in range(N_CLASSES):
        idx = order == c
        x[idx, :, 2 * c:2 * c + 2, :] += gain * (0.5 + rng.random((idx.sum(), 4, 2, 10)))
    return x.astype(np.float32), order


@pytest.fixture(scope="module")
def trained() -> tuple[nn.Module, SourceData]:
    x, y = synthetic(120, 1.0, 0)
    model = build_model("spectrogram-convnet", N_CLASSES, seed=0, channels=[8, 8])
    train_model(model, x, y, TrainSettings(epochs=15, batch_size=32, seed=0))
    model.class_names = ("a", "b", "c", "d")
    return model, SourceData(x, y, groups=np.arange(len(y)) // 40, description={"what": "synthetic day 1"})


def test_gradient_reversal_flips_gradients() -> None:
    x = torch.randn(5, 3, requires_grad=True)
    (grad_reverse(x, 0.5) * torch.arange(3.0)).sum().backward()
    assert torch.allclose(x.grad, -0.5 * torch.arange(3.0).expand(5, 3))
    assert torch.equal(grad_reverse(x, 0.5), x)


def test_domain_batchnorm_keeps_separate_statistics() -> None:
    net = nn.Sequential(nn.Conv2d(4, 3, 1), nn.BatchNorm2d(3))
    assert split_batchnorm(net) == 1 and isinstance(net[1], DomainBatchNorm)
    net.train()
    set_domain(net, SOURCE)
    for _ in range(20):
        net(torch.randn(16, 4, 5, 5))
    set_domain(net, TARGET)
    for _ in range(20):
        net(torch.randn(16, 4, 5, 5) + 5.0)
    src, tgt = net[1].bns[SOURCE], net[1].bns[TARGET]
    assert not torch.allclose(src.running_mean, tgt.running_mean, atol=0.5)
    assert src.weight is not tgt.weight
    merge_batchnorm(net, TARGET)
    assert isinstance(net[1], nn.BatchNorm2d) and torch.equal(net[1].running_mean, tgt.running_mean)


def test_rejection_keeps_the_old_model(trained) -> None:
    model, source = trained
    before = copy.deepcopy(model.state_dict())
    xt, _ = synthetic(80, 1.3, 1)
    cases = (("scadann", replace(FAST, min_coverage=1.01)), ("dann", replace(FAST, max_accuracy_drop=-1.0)))
    for method, settings in cases:
        used, report = recalibrate(model, source, xt, method=method, settings=settings)
        assert report.status == "rejected" and report.reason
        assert used is model
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items())  # never trained in place


def shifted_day(seed: int) -> tuple[np.ndarray, np.ndarray]:
    """A harder day: every electrode 3× stronger and a large common offset (new skin contact).

    Gestures are held 6 s (120 windows), as the reference's pseudo-label durations assume.
    """
    x, y = synthetic(240, 1.0, seed, hold=120)
    return (x * 3.0 + 3.0).astype(np.float32), y


def test_scadann_accepts_and_reports(trained) -> None:
    from myoxai.adapt.quick import renormalize

    model, source = trained
    xt, yt = shifted_day(2)
    unadapted = np.mean(predict(model, xt) == yt)
    assert unadapted < 0.6  # the calibration model is clearly wrong here, so the test can fail
    seen = []
    start = renormalize(model, xt)  # the Recalibrate button's flow: SCADANN starts from the re-normalised model
    used, report = recalibrate(model, source, xt, method="scadann", settings=FAST,
                               progress=lambda f, m: seen.append(f), start=start)
    assert report.status == "accepted", report.reason
    assert used is not model and report.coverage >= FAST.min_coverage and report.agreement > 0.5
    kept = report.labels >= 0
    assert np.mean(report.labels[kept] == yt[kept]) > 0.9  # pseudo-labels are mostly right
    assert report.source_val_accuracy_before is not None and report.source_val_accuracy_after is not None
    assert seen and seen[-1] == 1.0 and all(a <= b for a, b in zip(seen, seen[1:], strict=False))
    assert not any(isinstance(m, DomainBatchNorm) for m in used.modules())
    assert np.mean(predict(used, xt) == yt) > max(0.8, unadapted + 0.3)


def test_source_validation_is_the_calibration_held_out_groups(trained) -> None:
    model, source = trained
    held = SourceData(source.x, source.y, source.groups, validation_groups=np.array([0, 5]))
    tr, va = held.validation_split(0.25, 0)
    assert set(source.groups[va]) == {0, 5} and not set(source.groups[tr]) & {0, 5}
    xs, _ = held.training_part(0.25, 0)
    assert len(xs) == len(tr)
    replayed = held.with_replay(source.x[:7], source.y[:7])
    assert len(replayed.training_part(0.25, 0)[1]) == len(tr) + 7
    assert np.array_equal(replayed.validation_split(0.25, 0)[1], va)  # replayed windows are never validated on

def test_cancel_stops_quickly(trained) -> None:
    model, source = trained
    xt, _ = synthetic(400, 1.3, 3)
    cancel, started, result = threading.Event(), threading.Event(), {}

    def work() -> None:
        result["out"] = recalibrate(model, source, xt, settings=replace(FAST, max_epochs=200, patience=200),
                                    progress=lambda f, m: started.set(), cancel=cancel)
        result["t"] = time.perf_counter()

    th = threading.Thread(target=work)
    th.start()
    assert started.wait(60)
    t0 = time.perf_counter()
    cancel.set()
    th.join(30)
    latency = result["t"] - t0
    used, report = result["out"]
    assert report.status == "cancelled" and used is model
    assert latency < 5.0, f"cancel latency {latency * 1000:.0f} ms"


def test_recalibrated_file_round_trips_with_lineage(trained, tmp_path) -> None:
    model, source = trained
    parent = save_model(model, tmp_path / "parent.safetensors", model.class_names)
    xt, _ = synthetic(80, 1.3, 4)
    used, report = recalibrate(load_model(parent), source, xt, method="dann", settings=FAST)
    assert report.accepted, report.reason
    path = save_recalibrated(used, tmp_path / "child.safetensors", report, source, parent=parent, settings=FAST,
                             target_description={"buffer_seconds": 4.0})
    back = load_model(path)
    lineage = back.description["training"]["recalibration"]
    assert lineage["method"] == "dann" and lineage["parent"]["path"].endswith("parent.safetensors")
    assert len(lineage["parent"]["sha256"]) == 64 and lineage["source_data"]["what"] == "synthetic day 1"
    assert lineage["target_data"]["buffer_seconds"] == 4.0 and lineage["report"]["status"] == "accepted"
    assert back.class_names == model.class_names
    assert np.array_equal(predict(back, xt), predict(used, xt))
    with pytest.raises(ValueError):
        save_recalibrated(used, parent, report, source, parent=parent)


def test_bad_inputs_raise_myoxai_error(trained) -> None:
    model, source = trained
    with pytest.raises(MyoxaiError, match="at least"):
        recalibrate(model, source, source.x[:10], settings=FAST)
    with pytest.raises(MyoxaiError, match="shape"):
        recalibrate(model, source, np.zeros((100, 4, 8, 9), np.float32), settings=FAST)
    with pytest.raises(MyoxaiError, match="method"):
        recalibrate(model, source, source.x, method="magic", settings=FAST)
    lda = build_model("lda", N_CLASSES)
    with pytest.raises(MyoxaiError, match="torch spectrogram model"):
        recalibrate(lda, source, source.x, settings=FAST)
