"""``--pretrain myo-armband``: pre-training on a (tiny, synthetic) Myo Armband dataset, then day-1 calibration."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from myoxai.errors import MyoxaiError
from myoxai.evaluation import adaptation, pretrain_myo_armband
from myoxai.io import myo_armband as ma
from myoxai.io.kanoga import N_MOTIONS

from conftest import tiny_adapt_context as context

PEOPLE = ("Female0", "Male0")  # stand-ins for the 19 (the check asks for exactly PARTICIPANTS)
KANOGA_MARK = 1000.0  # every fake long-term window carries it in x[:, 0, 0, 0]; no Myo Armband window can


def write_myo_armband(root, people=PEOPLE, seed: int = 0) -> None:
    """Round 1 of ``people`` as the dataset stores it: 28 holds of 500 int16 samples (8 channels) each."""
    rng = np.random.default_rng(seed)
    for p in people:
        folder = root / "PreTrainingDataset" / p / ma.ROUNDS[0]
        folder.mkdir(parents=True)
        for i in range(ma.FILES_PER_ROUND):
            gesture, _ = ma.gesture_and_cycle(i)
            scale = 3 + 15 * (np.arange(8) == gesture)  # the gesture shows on its own electrode
            emg = np.clip(rng.normal(0, scale, (500, 8)), -128, 127).astype("<i2")
            (folder / f"classe_{i}.dat").write_bytes(emg.tobytes())


def fake_day(root, subject: int, day: int) -> dict[str, np.ndarray]:
    """A long-term day in ``kanoga_day``'s shape (frames 4, electrodes 8, bins 10), each window marked."""
    rng = np.random.default_rng(100 * subject + day)
    motion = np.repeat(np.arange(1, N_MOTIONS + 1), 8)
    trial = np.tile(np.repeat([1, 2, 3, 4], 2), N_MOTIONS)
    x = rng.exponential(1.0, (len(motion), 4, 8, 10)).astype(np.float32) + 0.1
    x[:, 0, 0, 0] = KANOGA_MARK
    return {"x": x, "y": motion - 1, "trial": trial, "motion": motion}


@pytest.fixture
def armband(tmp_path, monkeypatch):
    """A synthetic Myo Armband root of ``PEOPLE``; fake long-term days; spies on both trainings."""
    from myoxai.models import train_model

    root = tmp_path / "myo_armband"
    write_myo_armband(root)
    monkeypatch.setattr(pretrain_myo_armband, "PARTICIPANTS", PEOPLE)
    monkeypatch.setattr(adaptation, "kanoga_day", fake_day)
    seen: dict[str, list] = {"pretrain": [], "calibration": []}

    def spying(name):
        def train(model, x, y, settings, groups=None, val_mask=None):
            start = {k: v.detach().clone() for k, v in model.state_dict().items()}
            report = train_model(model, x, y, settings, groups=groups, val_mask=val_mask)
            seen[name].append({"x": x, "y": y, "val_mask": val_mask, "start": start,
                               "end": {k: v.detach().clone() for k, v in model.state_dict().items()}})
            return report
        return train

    monkeypatch.setattr(pretrain_myo_armband, "train_model", spying("pretrain"))
    monkeypatch.setattr(adaptation, "train_model", spying("calibration"))
    return root, seen


def run(subject: int, ctx, root) -> list[dict]:
    (cell,) = adaptation.kanoga_cells([subject], [5], ["none"], pretrain="myo-armband", pretrain_root=root)
    return adaptation.run_kanoga_cell(cell.params, ctx, 0)["records"]


def test_pre_training_sees_only_the_myo_armband_holds_and_the_calibration_starts_from_it(armband, tmp_path):
    root, seen = armband
    records = run(1, context(str(tmp_path / "kanoga")), root)
    (pre,), (cal,) = seen["pretrain"], seen["calibration"]
    x, y, val = pretrain_myo_armband.pretraining_windows(root)
    assert np.array_equal(pre["x"], x) and np.array_equal(pre["y"], y)  # every window of the 2 people, no other
    assert not (pre["x"][:, 0, 0, 0] == KANOGA_MARK).any() and set(np.unique(y)) == set(range(7))
    assert (cal["x"][:, 0, 0, 0] == KANOGA_MARK).all()
    # early stopping holds out whole holds: every participant's 4th cycle (files are cycle-major, 7 holds a cycle)
    per_hold = len(y) // (len(PEOPLE) * ma.FILES_PER_ROUND)
    assert np.array_equal(pre["val_mask"], np.tile(np.repeat([False, False, False, True], 7 * per_hold), 2))
    # every weight but the head comes from the pre-trained model; the 22-gesture head is fresh
    body = [k for k in pre["end"] if not k.startswith(("head.", "standardize.")) and "num_batches" not in k]
    assert body and all(torch.equal(cal["start"][k], pre["end"][k]) for k in body)
    assert cal["start"]["head.weight"].shape[0] == N_MOTIONS != pre["end"]["head.weight"].shape[0]
    assert {(r["train"]["variant"], r["train"]["pretrain"], tuple(r["train"]["pretrain_participants"]))
            for r in records} == {("fixed+myo-armband", "myo-armband", PEOPLE)}


def test_one_pre_training_serves_every_subject_and_its_identity_names_the_calibration(armband, tmp_path):
    root, seen = armband
    cache = tmp_path / "models"
    run(1, context(str(tmp_path / "k1"), cache), root)
    run(2, context(str(tmp_path / "k2"), cache), root)  # another subject: the same pre-trained model
    assert len(seen["pretrain"]) == 1 and len(seen["calibration"]) == 2
    assert len(list(cache.glob("pretrain-myo-armband-*"))) == 1 and len(list(cache.glob("calibration-*"))) == 2
    run(1, context(str(tmp_path / "k3"), cache), root)  # a new process: both files served
    assert len(seen["pretrain"]) == 1 and len(seen["calibration"]) == 2
    # other pre-training data: a new pre-trained model, so the calibration model's cache name changes too
    hold = root / "PreTrainingDataset" / PEOPLE[0] / ma.ROUNDS[0] / "classe_3.dat"
    hold.write_bytes(bytes(len(hold.read_bytes())))
    run(1, context(str(tmp_path / "k4"), cache), root)
    assert len(seen["pretrain"]) == 2 and len(seen["calibration"]) == 3
    assert len(list(cache.glob("pretrain-myo-armband-*"))) == 2 and len(list(cache.glob("calibration-*"))) == 3


def test_identity_holds_seed_settings_data_and_code_and_no_path(armband, tmp_path):
    root, _ = armband
    ctx = context(str(tmp_path))
    ident = pretrain_myo_armband.identity(root, ctx.settings)
    key = pretrain_myo_armband.key_of(ident)
    assert str(root) not in str(ident) and set(ident["data"]) == set(PEOPLE)
    for change in ({"code": "other"}, {"data": {}}, {"train": {**ident["train"], "seed": 1}},
                   {"args": {"channels": [8, 8]}}):
        assert pretrain_myo_armband.key_of({**ident, **change}) != key
    moved = tmp_path / "elsewhere"
    root.rename(moved)  # the same data at another path: the same identity
    assert pretrain_myo_armband.key_of(pretrain_myo_armband.identity(moved, ctx.settings)) == key


def test_cell_params_and_key_see_the_pre_training_data(armband, tmp_path, monkeypatch):
    from myoxai.evaluation import data, executor

    root, _ = armband
    monkeypatch.setattr(data, "unit_hash", lambda dataset, r, unit: f"{dataset}{unit}")
    (cell,) = adaptation.kanoga_cells([1], [3], ["none"], pretrain="myo-armband", pretrain_root=root)
    (plain,) = adaptation.kanoga_cells([1], [3], ["none"])
    assert cell.params["pretrain"] == "myo-armband" and set(cell.params["pretrain_data"]) == set(PEOPLE)
    assert not any(r[0] != 1 for r in cell.reads)  # no long-term subject but the scored one is read
    ctx = context(str(tmp_path))
    assert executor.cell_keys([cell], ctx) != executor.cell_keys([plain], ctx)


def test_refused_without_a_root_or_with_an_incomplete_one(tmp_path, capsys):
    from conftest import one_line_error

    with pytest.raises(MyoxaiError, match="--pretrain-root"):
        adaptation.kanoga_cells([1], [3], ["none"], pretrain="myo-armband")
    with pytest.raises(MyoxaiError, match="PreTrainingDataset"):
        adaptation.kanoga_cells([1], [3], ["none"], pretrain="myo-armband", pretrain_root=tmp_path)
    write_myo_armband(tmp_path / "few", people=("Female0",))
    with pytest.raises(MyoxaiError, match="exactly the paper's 19"):
        adaptation.kanoga_cells([1], [3], ["none"], pretrain="myo-armband", pretrain_root=tmp_path / "few")
    (tmp_path / "data" / "sub1").mkdir(parents=True)
    base = ["eval", "--dataset", "kanoga", "--root", str(tmp_path), "--subjects", "1", "--models",
            "spectrogram-convnet", "--json", str(tmp_path / "out.json"), "--protocol", "inter-day"]
    one_line_error(capsys, [*base, "--adapt", "none,default", "--pretrain", "myo-armband"], "--pretrain-root DIR")
    one_line_error(capsys, [*base, "--adapt", "none,default", "--pretrain", "myo-armband", "--pretrain-root",
                            str(tmp_path / "missing")], "no folder")
    one_line_error(capsys, [*base, "--adapt", "none,default", "--pretrain", "others", "--pretrain-root",
                            str(tmp_path)], "--pretrain-root does not apply")


def test_summary_names_the_myo_armband_pre_training() -> None:
    from myoxai.evaluation import adaptation_report as report

    rec = {"dataset": "kanoga", "subject": 1, "adapt": "none", "accuracy": 0.5, "balanced_accuracy": 0.5,
           "macro_f1": 0.5, "confusion": [[1, 0], [0, 1]],
           "train": {"variant": adaptation.calibration_variant([1], "myo-armband"), "days": [1],
                     "pretrain": "myo-armband"},
           "test": {"day": 3, "position": "O", "split": "adapt T12 / test others"}}
    assert "| day 1 + myo-armband |" in report.summarize([rec])
