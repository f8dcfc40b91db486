"""``myoxai adapt``: the headless story on the bundled recording rotated by one electrode, and no harm unrotated."""

from __future__ import annotations

import json

import numpy as np
import pytest

from myoxai.cli import main
from myoxai.models import load_model


@pytest.fixture(scope="module")
def rotated(bundled_path, tmp_path_factory):
    out = tmp_path_factory.mktemp("rot") / "rotated.xdf"
    assert main(["convert", str(bundled_path), str(out), "--rotate", "1"]) == 0
    return out


def _drift(capsys, *args):
    capsys.readouterr()
    assert main(["drift", *args]) == 0
    return capsys.readouterr().out


def test_rotated_band_is_seen_adapted_and_ok_after(rotated, tmp_path, capsys):
    assert "RECALIBRATE — cause: rotation" in _drift(capsys, "--data", str(rotated))
    m2, report = tmp_path / "m2.safetensors", tmp_path / "m2.json"
    assert main(["adapt", "--data", str(rotated), "--out", str(m2), "--json", str(report)]) == 0
    assert "ACCEPTED" in capsys.readouterr().out
    doc = json.loads(report.read_text())
    assert doc["accepted"] and doc["rotation_shift"] == pytest.approx(1.0, abs=0.15)
    assert len(doc["prototype_supports"]) == 8 and doc["no_harm"]["n_windows"] > 500
    model = load_model(m2)
    assert model.input_rotation == pytest.approx(-doc["rotation_shift"])
    assert model.description["training"]["adaptation"]["accepted"]
    # drift against what the adapted model expects: the residual rotation is gone
    out = _drift(capsys, "--model", str(m2), "--data", str(rotated))
    assert "OK" in out.splitlines()[0], out
    # ... and a real second rotation still shows
    out = _drift(capsys, "--model", str(m2), "--data", str(rotated), "--rotate", "1")
    assert "RECALIBRATE — cause: rotation" in out and "rotation +0.9" in out


def test_unrotated_recording_is_not_harmed(bundled_path, tmp_path, capsys):
    out = tmp_path / "m.safetensors"
    assert main(["adapt", "--data", str(bundled_path), "--out", str(out)]) == 0
    text = capsys.readouterr().out
    assert "DECLINED" in text and "less confident" in text
    from myoxai.live.bundled import BUNDLED_MODEL

    old, new = load_model(BUNDLED_MODEL), load_model(out)
    for (k, a), b in zip(old.state_dict().items(), new.state_dict().values(), strict=True):
        assert np.array_equal(a.numpy(), b.numpy()), k
    assert new.description["training"]["adaptation"]["accepted"] is False
    assert main(["adapt", "--data", str(bundled_path), "--out", str(out)]) == 2  # no silent overwrite
