"""The Myo Armband dataset: its loader on the real files, one clear error per bad file, and the protocol's pieces."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from myoxai.config import MYO_ARMBAND_PAPER_CONFIG
from myoxai.errors import MyoxaiError
from myoxai.io import myo_armband as ma
from myoxai.io.open import open_recording


def test_file_index_is_gesture_then_cycle():
    assert ma.gesture_and_cycle(0) == (0, 0)
    assert ma.gesture_and_cycle(9) == (2, 1)
    assert ma.gesture_and_cycle(27) == (6, 3)


def test_participants_and_rounds_load(myo_armband_root):
    assert len(ma.participants(myo_armband_root, "pre-training")) == 19
    people = ma.participants(myo_armband_root, "evaluation")
    assert len(people) == 17 and people[:3] == ["Female0", "Female1", "Male0"]
    recs = ma.load_participant(myo_armband_root, "evaluation", "Male0", ma.ROUNDS)
    assert len(recs) == 3 * ma.FILES_PER_ROUND
    r = recs[ma.FILES_PER_ROUND + 12]  # Test0, file 12: gesture 5 (hand close) of cycle 1
    assert (r.meta["round"], r.meta["gesture"], r.meta["cycle"]) == ("Test0", 5, 1)
    assert r.class_names[5] == "hand close" and set(r.labels) == {5}
    assert r.n_channels == 8 and 700 < len(r) < 1100
    assert r.samples.min() >= -128 and r.samples.max() <= 127
    # a held fist is far more active than the neutral hold of the same cycle
    rest = recs[ma.FILES_PER_ROUND + 7].samples
    assert np.std(r.samples) > 2 * np.std(rest)


def test_experiment_csv_is_read(myo_armband_root):
    info = ma.read_experiment(myo_armband_root / "EvaluationDataset" / "Male0" / "experiment.csv")
    assert info["Sex"] == ["M"] and info["Age"] == ["24"]


def test_round_folder_opens_as_one_recording(myo_armband_root):
    rec = open_recording(myo_armband_root / "PreTrainingDataset" / "Female0" / "training0")
    assert rec.meta["dataset"] == "myo-armband" and len(rec.segments()) == ma.FILES_PER_ROUND
    assert [seg[2] for seg in rec.segments()[:8]] == [0, 1, 2, 3, 4, 5, 6, 0]


def test_bad_files_give_one_clear_error(myo_armband_root, tmp_path):
    src = myo_armband_root / "EvaluationDataset" / "Male0" / "training0" / "classe_3.dat"
    person = tmp_path / "EvaluationDataset" / "Male0" / "training0"
    person.mkdir(parents=True)
    bad = person / "classe_3.dat"
    bad.write_bytes(src.read_bytes()[:-3])
    with pytest.raises(MyoxaiError, match=r"classe_3\.dat: .* not a whole number of samples"):
        ma.load_file(bad)
    bad.write_bytes(src.read_bytes()[:16 * 100])
    with pytest.raises(MyoxaiError, match=r"classe_3\.dat: 100 samples .* truncated"):
        ma.load_file(bad)
    raw = np.frombuffer(src.read_bytes(), dtype="<i2").copy()
    raw[8 * 40 + 2] = 3000
    bad.write_bytes(raw.astype("<i2").tobytes())
    with pytest.raises(MyoxaiError, match=r"classe_3\.dat, sample 40: value 3000 outside"):
        ma.load_file(bad)
    shutil.copy(src, person / "classe_0.dat")
    with pytest.raises(MyoxaiError, match=r"missing classe_1\.dat"):
        ma.load_round(person)
    with pytest.raises(MyoxaiError, match="classe_0.dat … classe_27.dat"):
        ma.load_file(person.parent / "classe_28.dat")
    with pytest.raises(MyoxaiError, match="no folder .*PreTrainingDataset"):
        ma.participants(tmp_path, "pre-training")


def test_alignment_recovers_a_rolled_armband(myo_armband_root):
    from myoxai.evaluation.myo_armband import _rms_profile, best_shift

    recs = ma.load_participant(myo_armband_root, "pre-training", "Male3")
    template = _rms_profile(recs)
    for shift in (0, 3, 6):
        rolled = [r.slice(0, len(r)) for r in recs]
        for r in rolled:
            r.samples = np.roll(r.samples, shift, axis=1)  # electrode c now reads what c - shift read
        assert best_shift(_rms_profile(rolled), template) == shift


def test_paper_windows_have_the_default_spectrogram_shape(myo_armband_root):
    from myoxai.evaluation.myo_armband import windows_of

    recs = ma.load_participant(myo_armband_root, "evaluation", "Female1")[:2]
    data = windows_of(recs, MYO_ARMBAND_PAPER_CONFIG)
    n0 = (len(recs[0]) - 52) // 5 + 1
    assert data.spec.shape[1:] == (4, 8, 10) and data.win.shape[1:] == (52, 8)
    assert int(np.sum(data.meta["cycle"] == 0)) == len(data) and np.sum(data.y == 0) == n0
    # no high-pass: the window is the raw signal
    np.testing.assert_array_equal(data.win[1], recs[0].samples[5:57])


def test_eval_cli_runs_lda_on_one_participant_and_refuses_bad_options(myo_armband_root, tmp_path):
    import json

    from myoxai.cli import main

    out = tmp_path / "e.json"
    base = ["eval", "--dataset", "myo-armband", "--root", str(myo_armband_root), "--protocol", "inter-subject"]
    assert main(base + ["--models", "lda", "--participants", "Male0", "--trials-per-gesture", "1,4",
                        "--json", str(out)]) == 0
    doc = json.loads(out.read_text())
    recs = doc["records"]
    assert [(r["subject"], r["train"]["variant"]) for r in recs] == [("Male0", "lda-k1"), ("Male0", "lda-k4")]
    assert recs[0]["train"]["n_windows"] < recs[1]["train"]["n_windows"]  # 1 cycle vs the whole round 1
    assert recs[0]["test"]["rounds"] == ["Test0", "Test1"] and recs[1]["accuracy"] > 0.8
    assert doc["signal_config"]["window"] == 50
    assert main(base + ["--models", "lda", "--json", str(out)]) == 2  # never overwrites
    assert main(base + ["--models", "lda", "--align", "sideways", "--json", str(tmp_path / "a.json")]) == 2
    assert main(base + ["--models", "lstm-fin", "--json", str(tmp_path / "b.json")]) == 2
    assert main(base + ["--models", "lda", "--trials-per-gesture", "5", "--json", str(tmp_path / "c.json")]) == 2
    assert main(["eval", "--dataset", "myo-armband", "--root", str(myo_armband_root), "--protocol", "inter-day",
                 "--json", str(tmp_path / "d.json")]) == 2


def test_convert_and_info_read_a_round(myo_armband_root, tmp_path, capsys):
    from myoxai.cli import main
    from myoxai.io import read_recording

    src = myo_armband_root / "EvaluationDataset" / "Female1" / "Test1"
    out = tmp_path / "round.xdf"
    assert main(["convert", str(src), str(out)]) == 0
    rec = read_recording(out)
    direct = open_recording(src)
    np.testing.assert_array_equal(rec.samples, direct.samples)
    np.testing.assert_array_equal(rec.labels, direct.labels)
    assert rec.class_names == ma.GESTURES
    assert main(["info", str(src / "classe_13.dat")]) == 0
    text = capsys.readouterr().out
    assert "gesture=6" in text and "cycle=1" in text and "round=Test1" in text  # file 13: hand open, 2nd cycle
