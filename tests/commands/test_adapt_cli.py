"""``myoxai adapt``: the headless story on the bundled recording rotated by one (and two) electrodes, and no harm
unrotated: drift RECALIBRATE → adapt ACCEPTED → drift OK → Motion Test within 5 points of the unrotated file."""

from __future__ import annotations

import json

import numpy as np
import pytest

from myoxai.cli import main
from myoxai.models import load_model


def _rotated(bundled_path, folder, n: int):
    out = folder / f"rotated{n}.xdf"
    assert main(["convert", str(bundled_path), str(out), "--rotate", str(n)]) == 0
    return out


@pytest.fixture(scope="module")
def rotated(bundled_path, tmp_path_factory):
    return _rotated(bundled_path, tmp_path_factory.mktemp("rot"), 1)


def _motion_accuracy(capsys, *args) -> float:
    capsys.readouterr()
    assert main(["motion-test", *args]) == 0
    return float(capsys.readouterr().out.rsplit("real-time accuracy during prompts ", 1)[1].split(" %")[0])


def _drift(capsys, *args):
    capsys.readouterr()
    assert main(["drift", *args]) == 0
    return capsys.readouterr().out


@pytest.mark.slow
def test_rotated_band_is_seen_adapted_and_ok_after(rotated, bundled_path, tmp_path, capsys):
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
    # real-time accuracy comes back to within 5 points of the unrotated file with the bundled model
    adapted = _motion_accuracy(capsys, "--model", str(m2), "--source", f"replay:{rotated}")
    unrotated = _motion_accuracy(capsys, "--source", f"replay:{bundled_path}")
    assert adapted >= unrotated - 5.0, (adapted, unrotated)


@pytest.mark.slow
def test_rotation_by_two_is_recovered(bundled_path, tmp_path, capsys):
    rotated2 = _rotated(bundled_path, tmp_path, 2)
    m2 = tmp_path / "m2.safetensors"
    assert main(["adapt", "--data", str(rotated2), "--out", str(m2)]) == 0
    out = capsys.readouterr().out
    assert "ACCEPTED" in out and "estimated rotation +2.00" in out
    assert "OK" in _drift(capsys, "--model", str(m2), "--data", str(rotated2)).splitlines()[0]


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
    assert main(["adapt", "--data", str(bundled_path), "--out", str(tmp_path / "x.safetensors"),
                 "--method", "calibrate-35s"]) == 2  # a labelled method is refused with one line
