"""The 35-second calibration without the GUI: schedule, fine-tuning the bundled pre-trained model, its bench."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from myoxai.errors import MyoxaiError
from myoxai.live.calibration import REST
from myoxai.live.quick_calibration import PRETRAINED_MODEL, load_pretrained, quick_calibrate, quick_schedule


def test_quick_schedule_trains_on_one_hold_and_tests_on_a_short_second_one():
    prompts, split = quick_schedule(["fist", "flexion", REST, "fist"], hold_s=5, test_hold_s=2, rest_s=2, lead_in_s=2)
    held = [p for p in prompts if p.label != REST]
    assert [p.label for p in held] == ["fist", "flexion", "fist", "flexion"]
    assert [p.duration for p in held] == [5, 5, 2, 2]
    assert split == 2 + 2 * 7 and held[2].start == split
    assert all(a.end == pytest.approx(b.start) for a, b in zip(prompts, prompts[1:], strict=False))
    with pytest.raises(MyoxaiError, match="besides rest"):
        quick_schedule([REST])


def test_bundled_pretrained_model_is_small_and_permissively_trained():
    model = load_pretrained()
    assert PRETRAINED_MODEL.stat().st_size < 100_000
    assert model.description["training"]["source"] == "kanoga"
    assert model.description["training"]["licence"] == "Apache-2.0"
    assert len(model.class_names) == 22


def test_quick_calibration_beats_chance_on_real_data(bundled):
    from myoxai.bench.calibrate import quick_recording_from

    rec, split = quick_recording_from(bundled)
    assert split == pytest.approx(35.0)
    seen = []
    model, source, metrics = quick_calibrate(rec, split, load_pretrained(), steps=60,
                                             progress=lambda f, msg: seen.append(f))
    assert model.n_classes == len(rec.class_names) and model.class_names == rec.class_names
    assert seen[0] == 0.0 and seen[-1] == 1.0
    assert metrics["n_test_windows"] > 100 and metrics["test_accuracy"] > 0.5  # 7 classes: chance 0.14
    assert len(source.y) == metrics["n_train_windows"]
    # the frozen early convolutions are the pre-trained ones
    pre = load_pretrained()
    assert np.array_equal(model.convs[0].weight.detach().numpy(), pre.convs[0].weight.detach().numpy())


@pytest.mark.slow
def test_bench_calibrate_reports_seconds_and_memory(tmp_path):
    out = tmp_path / "b.json"
    subprocess.run([sys.executable, "-m", "myoxai", "bench", "calibrate", "--steps", "20", "--json", str(out)],
                   check=True, capture_output=True, timeout=300)
    names = {b["name"]: b for b in json.loads(out.read_text())["benchmarks"]}
    assert names["calibrate.fine_tune_seconds"]["value"] > 0
    assert names["calibrate.peak_rss"]["unit"] == "MiB" and names["calibrate.peak_rss"]["value"] > 50


def test_train_pretrain_makes_a_source_model(kanoga_root, tmp_path):
    from myoxai.cli import main
    from myoxai.models import load_model

    out = tmp_path / "src.safetensors"
    assert main(["train", "--pretrain", f"kanoga:{kanoga_root}", "--subjects", "1", "--days", "1", "--model",
                 "allconvnet", "--channels", "4,8,8,8", "--epochs", "1", "--no-progress", "--out", str(out)]) == 0
    model = load_model(out)
    assert model.description["training"]["validation"] == "trial 4 of every day"
    assert len(model.class_names) == 22 and model.init_args["channels"] == [4, 8, 8, 8]
    assert main(["train", "--pretrain", f"kanoga:{kanoga_root}", "--model", "allconvnet", "--out", str(out)]) == 2
    assert main(["train", "--pretrain", f"myo-armband:{kanoga_root}", "--subjects", "1", "--model", "allconvnet",
                 "--out", str(tmp_path / "x.safetensors")]) == 2
    assert main(["train", "--pretrain", "emg:/nowhere", "--model", "allconvnet",
                 "--out", str(tmp_path / "y.safetensors")]) == 2


def test_vote_never_mixes_probabilities_of_two_models():
    from myoxai.engine.postprocess import PostProcessor

    post = PostProcessor(vote=5)
    for _ in range(4):
        post(np.eye(8)[7])  # the old 8-gesture model, deciding a batch that arrives after the swap
    post.reset()
    post(np.eye(8)[7])
    label, confidence = post(np.eye(4)[2])  # the new 4-gesture model
    assert (label, confidence) == (2, 1.0)
