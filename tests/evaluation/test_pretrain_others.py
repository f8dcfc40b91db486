"""``--pretrain others``: pre-training on the root's other subjects (synthetic days, tiny model)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from myoxai.errors import MyoxaiError
from myoxai.evaluation import adaptation, pretrain_others
from myoxai.evaluation.cells import GridContext
from myoxai.io.kanoga import N_MOTIONS

from conftest import tiny_adapt_context as context

WINDOWS = 2  # windows per trial


def fake_day(root, subject: int, day: int) -> dict[str, np.ndarray]:
    """A day in the shape of ``kanoga_day`` whose every window carries its subject in x[0,0,0] and day in x[0,0,1]."""
    rng = np.random.default_rng(100 * subject + day)
    motion = np.repeat(np.arange(1, N_MOTIONS + 1), 4 * WINDOWS)
    trial = np.tile(np.repeat([1, 2, 3, 4], WINDOWS), N_MOTIONS)
    x = rng.exponential(1.0, (len(motion), 4, 8, 4)).astype(np.float32) + 0.1
    x[:, 0, 0, 0] = subject
    x[:, 0, 0, 1] = day
    return {"x": x, "y": motion - 1, "trial": trial, "motion": motion}


def subjects_days(x: np.ndarray) -> set[tuple[int, int]]:
    return set(zip(x[:, 0, 0, 0].astype(int).tolist(), x[:, 0, 0, 1].astype(int).tolist(), strict=True))


@pytest.fixture
def spy(monkeypatch):
    """Fake days; records what the pre-training and the calibration training receive (and start from)."""
    from myoxai.evaluation import data
    from myoxai.models import train_model

    seen: dict[str, list] = {"pretrain": [], "calibration": []}
    monkeypatch.setattr(adaptation, "kanoga_day", fake_day)
    monkeypatch.setattr(data, "unit_hash", lambda dataset, root, unit: f"{dataset}{unit}")  # no files: fake days

    def spying(name):
        def train(model, x, y, settings, groups=None):
            weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
            report = train_model(model, x, y, settings, groups=groups)
            seen[name].append({"x": x, "groups": groups, "start": weights, "end": model.state_dict(),
                               "val_groups": report.get("val_groups")})
            return report
        return train

    monkeypatch.setattr(pretrain_others, "train_model", spying("pretrain"))
    monkeypatch.setattr(adaptation, "train_model", spying("calibration"))
    return seen


def run(subject: int, ctx: GridContext, pretrain: str = "others", available=(1, 2, 3)) -> list[dict]:
    (cell,) = adaptation.kanoga_cells([subject], [5], ["none"], pretrain=pretrain, available=available)
    return adaptation.run_kanoga_cell(cell.params, ctx, 0)["records"]


def test_the_scored_subject_never_reaches_its_pre_training_set(spy, tmp_path) -> None:
    records = run(2, context(str(tmp_path / "r")))
    (pre,), (cal,) = spy["pretrain"], spy["calibration"]
    assert subjects_days(pre["x"]) == {(s, d) for s in (1, 3) for d in (1, 2, 3)}  # never subject 2
    assert subjects_days(cal["x"]) == {(2, 1)}
    # early stopping holds out whole trials of the other subjects: one group per subject-day-gesture-trial
    assert len(np.unique(pre["groups"])) == 2 * 3 * N_MOTIONS * 4
    assert {g // 100_000 for g in pre["val_groups"]} <= {1, 3}
    assert {(r["train"]["pretrain"], r["train"]["variant"], tuple(r["train"]["pretrain_subjects"]))
            for r in records} == {("others", "fixed+others", (1, 3))}


def test_the_calibration_starts_from_the_pre_trained_weights(spy, tmp_path) -> None:
    run(1, context(str(tmp_path / "r")))
    (pre,), (cal,) = spy["pretrain"], spy["calibration"]
    weights = [k for k in pre["end"] if "standardize" not in k and "num_batches" not in k]
    assert weights and all(torch.equal(cal["start"][k], pre["end"][k]) for k in weights)
    run(1, context(str(tmp_path / "fresh")), pretrain="none")
    fresh = spy["calibration"][1]["start"]
    assert not all(torch.equal(fresh[k], pre["end"][k]) for k in weights)
    assert len(spy["pretrain"]) == 1  # no pre-training without --pretrain others


def test_pretrained_model_is_computed_once_and_kept_under_its_own_name(spy, tmp_path) -> None:
    cache = tmp_path / "models"
    run(1, context(str(tmp_path / "r1"), cache))
    names = sorted(p.name.split("-")[0] for p in cache.iterdir())
    assert names == ["calibration", "pretrain"] and len(spy["pretrain"]) == 1
    run(1, context(str(tmp_path / "r2"), cache))  # another process (new memo key): both files served
    assert len(spy["pretrain"]) == 1 and len(spy["calibration"]) == 1
    run(3, context(str(tmp_path / "r3"), cache))  # another scored subject: other pre-training subjects, its own file
    assert len(spy["pretrain"]) == 2 and len(list(cache.glob("pretrain-others-*"))) == 2


def test_model_cache_never_serves_a_non_pretrained_model_for_others(spy, tmp_path) -> None:
    from myoxai.models import load_model

    cache = tmp_path / "models"
    run(1, context(str(tmp_path / "r1"), cache), pretrain="none")
    run(1, context(str(tmp_path / "r1"), cache), pretrain="others")  # not the plain model
    assert len(spy["calibration"]) == 2 and len(list(cache.glob("calibration-*"))) == 2
    kinds = sorted("pretrain" in load_model(p).description["training"]["recipe"]["data"]
                   for p in cache.glob("calibration-*"))
    assert kinds == [False, True]
    ident = pretrain_others.identity("r", 1, [2, 3], context("r").settings)
    assert pretrain_others.key_of(ident) != pretrain_others.key_of({**ident, "subjects": [2]})
    assert pretrain_others.key_of(ident) != pretrain_others.key_of({**ident, "code": "other"})


def test_cell_key_and_params_see_the_pretrain_option(monkeypatch, tmp_path) -> None:
    from myoxai.evaluation import data, executor

    monkeypatch.setattr(data, "unit_hash", lambda dataset, root, unit: f"{dataset}{unit}")
    ctx = context(str(tmp_path))
    plain = adaptation.kanoga_cells([1], [3], ["none"], available=[1, 2, 3, 4])
    others = adaptation.kanoga_cells([1], [3], ["none"], pretrain="others", available=[1, 2, 3, 4])
    assert "pretrain" not in plain[0].params
    assert others[0].params["pretrain"] == "others" and others[0].params["pretrain_subjects"] == [2, 3, 4]
    assert [2, 1] in others[0].reads and not any(r[0] != 1 for r in plain[0].reads)
    assert executor.cell_keys(plain, ctx) != executor.cell_keys(others, ctx)
    assert adaptation.calibration_variant([1], "others") != adaptation.calibration_variant([1])


def test_pretrain_is_refused_where_it_does_not_apply(capsys, tmp_path) -> None:
    from conftest import one_line_error

    with pytest.raises(MyoxaiError, match="no subject other than 1"):
        adaptation.kanoga_cells([1], [3], ["none"], pretrain="others", available=[1])
    with pytest.raises(MyoxaiError, match="--pretrain maybe"):
        adaptation.kanoga_cells([1], [3], ["none"], pretrain="maybe", available=[1, 2])
    (tmp_path / "data" / "sub1").mkdir(parents=True)
    base = ["eval", "--dataset", "kanoga", "--root", str(tmp_path), "--subjects", "1", "--models",
            "spectrogram-convnet", "--json", str(tmp_path / "out.json"), "--pretrain", "others"]
    one_line_error(capsys, [*base, "--protocol", "inter-day", "--adapt", "none,default"],
                   "no subject other than 1")
    one_line_error(capsys, [*base, "--protocol", "inter-day"], "--pretrain does not apply")
    one_line_error(capsys, [*base, "--protocol", "intra-day"], "--pretrain does not apply")


def test_summary_keeps_pretrained_and_plain_calibrations_apart() -> None:
    from myoxai.evaluation import adaptation_report as report

    def rec(pretrain: str, subject: int, acc: float) -> dict:
        return {"dataset": "kanoga", "subject": subject, "adapt": "none", "accuracy": acc, "balanced_accuracy": acc,
                "macro_f1": acc, "confusion": [[1, 0], [0, 1]],
                "train": {"variant": adaptation.calibration_variant([1], pretrain), "days": [1], "pretrain": pretrain},
                "test": {"day": 3, "position": "O", "split": "adapt T12 / test others"}}

    table = report.summarize([rec("none", 1, 0.4), rec("none", 2, 0.6), rec("others", 1, 0.8), rec("others", 2, 0.8)])
    assert "| kanoga | day 1 | adapt T12 / test others | all | none | 2 | 50.0 ± 14.1 |" in table
    assert "| kanoga | day 1 + others | adapt T12 / test others | all | none | 2 | 80.0 ± 0.0 |" in table
