"""Model files: safetensors + JSON round trip, signal-config fingerprint checks, and refusal of pickles."""

from __future__ import annotations

import json
import os
import pickle
import re
import stat
from pathlib import Path

import numpy as np
import pytest
import torch

from myoxai.config import DEFAULT_CONFIG, SignalConfig
from myoxai.errors import MyoxaiError
from myoxai.io.model_files import read_model_file, write_model_file
from myoxai.models import MODEL_NAMES, TrainSettings, build_model, load_model, predict_logits, save_model, train_model

torch.set_num_threads(1)
CLASSES = ("rest", "fist", "open")


def trained(name: str):
    rng = np.random.default_rng(0)
    y = np.repeat(np.arange(3), 12)
    win = 0.05 * rng.standard_normal((len(y), 50, 8)).astype(np.float32)
    win[np.arange(len(y)), :, y] *= 8
    from myoxai.dsp import spectrogram

    spec = spectrogram(win, DEFAULT_CONFIG).astype(np.float32)
    model = build_model(name, 3, seed=0)
    x = spec if model.input_kind == "spectrogram" else win
    train_model(model, x, y, TrainSettings(epochs=1, fin_epochs=1, batch_size=16))
    return model, x


@pytest.mark.parametrize("name", MODEL_NAMES)
def test_round_trip_gives_identical_outputs(tmp_path, name):
    model, x = trained(name)
    path = save_model(model, tmp_path / "m.safetensors", CLASSES, training={"source": "toy"}, metrics={"acc": 0.5})
    loaded = load_model(path)
    np.testing.assert_array_equal(predict_logits(loaded, x), predict_logits(model, x))
    assert loaded.class_names == CLASSES
    desc = loaded.description
    assert desc["architecture"] == name and desc["input_kind"] == model.input_kind
    assert desc["signal_fingerprint"] == DEFAULT_CONFIG.fingerprint()
    assert desc["signal_config"] == DEFAULT_CONFIG.to_dict()
    assert desc["training"] == {"source": "toy"} and desc["metrics"] == {"acc": 0.5}
    assert "myoxai_version" in desc


def test_model_file_is_readable_by_others_as_umask_allows(tmp_path):
    model, _ = trained("lda")
    old = os.umask(0o022)
    try:
        path = save_model(model, tmp_path / "m.safetensors", CLASSES)
    finally:
        os.umask(old)
    assert stat.S_IMODE(path.stat().st_mode) == 0o644


def test_mismatched_signal_config_is_refused(tmp_path):
    model, _ = trained("allconvnet")
    other = SignalConfig(highpass_hz=20.0)
    path = save_model(model, tmp_path / "m.safetensors", CLASSES, config=other)
    with pytest.raises(MyoxaiError, match="different signal configuration.*highpass_hz"):
        load_model(path)
    assert load_model(path, expect_config=other).n_classes == 3


def test_edited_fingerprint_is_refused(tmp_path):
    path = write_model_file(tmp_path / "m.safetensors", {"w": np.zeros(3, np.float32)},
                            {"architecture": "lda", "arguments": {}, "n_classes": 1, "class_names": ["rest"]},
                            DEFAULT_CONFIG)
    from safetensors import safe_open
    from safetensors.numpy import load_file, save_file

    with safe_open(str(path), framework="np") as f:
        meta = f.metadata()
    desc = json.loads(meta["myoxai"])
    desc["signal_config"]["highpass_hz"] = 10.0  # config changed, fingerprint kept
    save_file(load_file(str(path)), str(path), metadata={**meta, "myoxai": json.dumps(desc)})
    with pytest.raises(MyoxaiError, match="edited"):
        read_model_file(path, DEFAULT_CONFIG)


class _Payload:
    """Unpickling this object would create the marker file (a stand-in for arbitrary code)."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


@pytest.mark.parametrize("writer", ["pickle", "torch.save"])
def test_pickle_payload_is_rejected_without_running(tmp_path, writer):
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.safetensors"
    if writer == "pickle":
        path.write_bytes(pickle.dumps({"weights": _Payload(marker)}))
    else:
        torch.save({"state_dict": _Payload(marker)}, path)
    assert not marker.exists()
    with pytest.raises(MyoxaiError, match="never unpickles|torch.save"):
        load_model(path)
    assert not marker.exists()


def test_other_files_are_refused(tmp_path):
    from safetensors.numpy import save_file

    plain = tmp_path / "plain.safetensors"
    save_file({"w": np.zeros(2, np.float32)}, str(plain))
    with pytest.raises(MyoxaiError, match="not a myoxai model"):
        load_model(plain)
    junk = tmp_path / "junk.safetensors"
    junk.write_bytes(b"hello world, not a model")
    with pytest.raises(MyoxaiError, match="not a safetensors"):
        load_model(junk)
    with pytest.raises(MyoxaiError, match="does not exist"):
        load_model(tmp_path / "missing.safetensors")


def test_weights_that_do_not_fit_are_refused(tmp_path):
    model, _ = trained("allconvnet")
    path = save_model(model, tmp_path / "m.safetensors", CLASSES)
    arrays, desc = read_model_file(path, DEFAULT_CONFIG)
    desc["arguments"]["channels"] = [8, 8, 8, 8]
    bad = write_model_file(tmp_path / "bad.safetensors", arrays,
                           {k: v for k, v in desc.items() if not k.startswith("signal")}, DEFAULT_CONFIG)
    with pytest.raises(MyoxaiError, match="do not fit"):
        load_model(bad)


def test_package_never_unpickles():
    root = Path(__file__).resolve().parents[2] / "myoxai"
    for src in root.rglob("*.py"):
        text = src.read_text()
        assert not re.search(r"^\s*(import pickle|from pickle|import dill|import joblib)", text, re.M), src
        for call in re.findall(r"torch\.load\([^)]*\)", text):
            assert "weights_only=True" in call, (src, call)
