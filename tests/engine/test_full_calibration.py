"""The full calibration's training (``train_from_recording``): early stopping validates on whole held-out holds
(no hold has windows on both sides), and ``init_from`` starts it from a pre-trained model's weights, recorded."""

from __future__ import annotations

import hashlib

import numpy as np
import pytest
import torch

from myoxai.errors import MyoxaiError
from myoxai.io import write_recording
from myoxai.io.recording import Recording, synth_timestamps
from myoxai.live.bundled import labelled_holds
from myoxai.live.calibration import init_problem, train_from_recording
from myoxai.live.quick_calibration import PRETRAINED_MODEL
from myoxai.models import build_model
from myoxai.models.training import group_split

torch.set_num_threads(1)
FS = 200


def _session(reps: int = 3, hold_s: float = 1.5, rest_s: float = 1.0) -> Recording:
    """rest, then ``reps`` × (flexion, rest, fist, rest): each gesture powers its own electrodes."""
    rng = np.random.default_rng(0)
    labels = [np.zeros(int(rest_s * FS), np.int64)]
    for _ in range(reps):
        for g in (1, 2):
            labels += [np.full(int(hold_s * FS), g), np.zeros(int(rest_s * FS), np.int64)]
    lab = np.concatenate(labels)
    x = rng.normal(0, 5, (len(lab), 8))
    x[lab == 1, :3] *= 8
    x[lab == 2, 4:7] *= 8
    return Recording(x.astype(np.float32), synth_timestamps(len(lab), FS), FS, lab, ("rest", "flexion", "fist"),
                     {"source": "synthetic session"})


@pytest.fixture
def session_file(tmp_path):
    path = tmp_path / "session.xdf"
    write_recording(path, _session())
    return path


def test_holds_are_the_contiguous_label_runs():
    rec = _session()
    x, y, holds = labelled_holds(rec)
    assert len(x) == len(y) == len(holds) > 0
    assert len(np.unique(holds)) == 13  # 1 + 3 × 4 runs, each long enough for a window
    for h in np.unique(holds):
        idx = np.flatnonzero(holds == h)
        assert len(np.unique(y[idx])) == 1 and np.all(np.diff(idx) == 1)  # one label, consecutive windows
    # two pieces: ids stay unique across them
    _, _, two = labelled_holds(rec, pieces=[(0, 1000), (1000, len(rec))])
    assert len(np.unique(two)) >= len(np.unique(holds))


def test_validation_holds_out_whole_holds(session_file):
    model, source, metrics = train_from_recording(session_file, epochs=2, channels=(4, 4, 4, 4))
    _, y, holds = labelled_holds(_session())
    assert np.array_equal(source.groups, holds)
    train, val = source.validation_split(0.15, 0)
    assert len(val) and len(train)
    assert not set(holds[train]) & set(holds[val])  # no hold is split between training and validation
    assert set(np.unique(y[val])) == {0, 1, 2}  # one whole hold of every gesture was held out
    assert np.array_equal(np.sort(val), group_split(y, holds, 0.15, 0)[1])  # what the trainer held out
    assert metrics["val_accuracy"] is not None
    assert model.description["training"]["validation"] == "whole held-out holds"
    assert model.description["training"]["init_from"] is None


def test_init_from_starts_from_the_pretrained_weights_and_records_them(session_file):
    assert init_problem(PRETRAINED_MODEL) is None
    model, _, _ = train_from_recording(session_file, epochs=1, init_from=PRETRAINED_MODEL)
    fresh = build_model("allconvnet", 3, seed=0, channels=(8, 16, 16, 32))
    assert not torch.equal(model.convs[0].weight, fresh.convs[0].weight)
    init = model.description["training"]["init_from"]
    assert init == {"path": str(PRETRAINED_MODEL), "head": "new",
                    "sha256": hashlib.sha256(PRETRAINED_MODEL.read_bytes()).hexdigest()}


def test_init_from_a_mismatched_model_is_refused(session_file):
    assert "channels" in init_problem(PRETRAINED_MODEL, channels=(4, 4, 4, 4))
    with pytest.raises(MyoxaiError, match="cannot start this model"):
        train_from_recording(session_file, epochs=1, channels=(4, 4, 4, 4), init_from=PRETRAINED_MODEL)
