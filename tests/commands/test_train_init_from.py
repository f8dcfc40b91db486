"""``myoxai train --data REC --init-from MODEL``: the saved model started from MODEL's weights and says so (path,
SHA-256); a model of another architecture, or --init-from with --pretrain, is refused with one message (exit 2)."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from myoxai.cli import main
from myoxai.io import write_recording
from myoxai.io.model_files import read_model_file
from myoxai.io.recording import Recording, synth_timestamps
from myoxai.live.quick_calibration import PRETRAINED_MODEL

torch.set_num_threads(1)


@pytest.fixture
def session(tmp_path):
    rng = np.random.default_rng(0)
    lab = np.repeat(np.tile([0, 1, 0, 2], 3), 300)
    x = rng.normal(0, 5, (len(lab), 8))
    x[lab == 1, :3] *= 8
    x[lab == 2, 4:7] *= 8
    path = tmp_path / "session.xdf"
    write_recording(path, Recording(x.astype(np.float32), synth_timestamps(len(lab), 200), 200, lab,
                                    ("rest", "flexion", "fist"), {"source": "synthetic"}))
    return path


def test_train_init_from_records_the_pretrained_file(tmp_path, session, capsys):
    from myoxai.models import build_model, load_model

    out = tmp_path / "m.safetensors"
    assert main(["train", "--data", str(session), "--model", "allconvnet", "--init-from", str(PRETRAINED_MODEL),
                 "--epochs", "1", "--out", str(out), "--no-progress"]) == 0
    assert f"starting from {PRETRAINED_MODEL}" in capsys.readouterr().out
    desc = read_model_file(out, None)[1]
    assert desc["training"]["init_from"] == {"path": str(PRETRAINED_MODEL), "head": "new",
                                             "sha256": hashlib.sha256(PRETRAINED_MODEL.read_bytes()).hexdigest()}
    assert desc["arguments"] == read_model_file(PRETRAINED_MODEL, None)[1]["arguments"]  # its architecture
    model = load_model(out)
    fresh = build_model("allconvnet", 3, seed=0, channels=(8, 16, 16, 32))
    assert not torch.equal(model.convs[0].weight, fresh.convs[0].weight)


@pytest.mark.parametrize("extra, message", [
    (["--data", "SESSION", "--model", "spectrogram-convnet"], "pass --model allconvnet"),
    (["--pretrain", "kanoga:/nowhere", "--model", "allconvnet"], "--init-from applies to --data"),
])
def test_train_init_from_refuses_a_mismatch(tmp_path, session, capsys, extra, message):
    args = [str(session) if a == "SESSION" else a for a in extra]
    assert main(["train", *args, "--init-from", str(PRETRAINED_MODEL), "--out", str(tmp_path / "m.safetensors"),
                 "--epochs", "1", "--no-progress"]) == 2
    assert message in capsys.readouterr().err
