"""``--calibration-days``: the calibration model trains on several labeled days (synthetic days, tiny model)."""

from __future__ import annotations

import numpy as np
import pytest

from myoxai.errors import MyoxaiError
from myoxai.evaluation import adaptation
from myoxai.evaluation.cells import GridContext
from myoxai.io.kanoga import N_MOTIONS

from conftest import tiny_adapt_context as context

WINDOWS = 2  # windows per trial


def uid(day: int, motion: int, trial: int, w: int) -> int:
    return day * 100_000 + motion * 1000 + trial * 10 + w


def fake_day(root, subject: int, day: int) -> dict[str, np.ndarray]:
    """A day in the shape of ``kanoga_day`` whose every window carries its (day, motion, trial, window) in x[0,0,0]."""
    rng = np.random.default_rng(day)
    motion = np.repeat(np.arange(1, N_MOTIONS + 1), 4 * WINDOWS)  # motion-major, trial-minor
    trial = np.tile(np.repeat([1, 2, 3, 4], WINDOWS), N_MOTIONS)
    w = np.tile(np.arange(WINDOWS), N_MOTIONS * 4)
    x = rng.exponential(1.0, (len(motion), 4, 8, 4)).astype(np.float32) + 0.1
    x[:, 0, 0, 0] = [uid(day, m, t, k) for m, t, k in zip(motion, trial, w, strict=True)]
    return {"x": x, "y": motion - 1, "trial": trial, "motion": motion}


def ids(x: np.ndarray) -> set[tuple[int, int, int]]:
    """(day, motion, trial) of each window."""
    v = x[:, 0, 0, 0].astype(np.int64)
    return set(zip((v // 100_000).tolist(), (v // 1000 % 100).tolist(), (v // 10 % 100).tolist(), strict=True))


@pytest.fixture
def spy(monkeypatch):
    """Fake days; records what training, the adaptation and the scoring receive."""
    from myoxai.models import train_model

    seen: dict[str, list] = {"train": [], "adapt": [], "test": [], "source": []}
    monkeypatch.setattr(adaptation, "kanoga_day", fake_day)

    def train(model, x, y, settings, groups=None):
        report = train_model(model, x, y, settings, groups=groups)
        seen["train"].append((x, groups, report["val_groups"]))
        return report

    def methods(model, source, x_adapt, y_adapt, x_test, y_test, *args, **kwargs):
        seen["adapt"].append(x_adapt)
        seen["test"].append(x_test)
        seen["source"].append(source)
        return real_methods(model, source, x_adapt, y_adapt, x_test, y_test, *args, **kwargs)

    real_methods = adaptation.run_methods
    monkeypatch.setattr(adaptation, "train_model", train)
    monkeypatch.setattr(adaptation, "run_methods", methods)
    return seen


def run(days: list[int], cal: list[int], ctx: GridContext) -> list[dict]:
    (cell,) = adaptation.kanoga_cells([1], days, ["none"], calibration_days=cal)
    return adaptation.run_kanoga_cell(cell.params, ctx, 0)["records"]


def test_days_one_and_two_train_on_all_their_trials_and_never_on_the_test_day(spy, tmp_path) -> None:
    records = run([3], [1, 2], context(str(tmp_path / "split")))
    (x_train, groups, val_groups), = spy["train"]
    trained = ids(x_train)
    assert trained == {(d, m, t) for d in (1, 2) for m in range(1, N_MOTIONS + 1) for t in (1, 2, 3, 4)}
    # one group per trial of a gesture on a day; the held-out trials are whole, from either calibration day
    v = x_train[:, 0, 0, 0].astype(np.int64) // 10
    assert len(np.unique(groups)) == 2 * N_MOTIONS * 4
    assert all(len(np.unique(v[groups == g])) == 1 for g in np.unique(groups))
    assert {g // 1000 for g in val_groups} <= {1, 2} and len(val_groups) == 2 * N_MOTIONS  # 2 of 8 per gesture
    (x_adapt,), (x_test,), (source,) = spy["adapt"], spy["test"], spy["source"]
    assert ids(x_adapt) == {(3, m, t) for m in range(1, N_MOTIONS + 1) for t in (1, 2)}
    assert ids(x_test) == {(3, m, t) for m in range(1, N_MOTIONS + 1) for t in (3, 4)}
    assert not ids(x_test) & (trained | ids(x_adapt)) and not {d for d, _, _ in trained} & {3}
    assert ids(source.x) == trained and set(source.validation_groups.tolist()) == set(val_groups)
    assert {r["train"]["days"] == [1, 2] and r["train"]["variant"] == "fixed-days1+2" for r in records} == {True}


def test_a_calibration_day_is_refused_as_a_test_day(capsys, tmp_path) -> None:
    from conftest import one_line_error

    with pytest.raises(MyoxaiError, match="day 2 is a calibration day .*--days 3-30"):
        adaptation.kanoga_cells([1], [2, 3], ["none"], calibration_days=[1, 2])
    with pytest.raises(MyoxaiError, match="days 1,2 are calibration days"):
        adaptation.kanoga_cells([1], [1, 2, 5], ["none"], calibration_days=[1, 2])
    with pytest.raises(MyoxaiError, match="--calibration-days 0,1"):
        adaptation.kanoga_cells([1], [5], ["none"], calibration_days=[0, 1])
    base = ["eval", "--dataset", "kanoga", "--root", str(tmp_path), "--subjects", "1", "--protocol", "inter-day",
            "--models", "spectrogram-convnet", "--json", str(tmp_path / "out.json")]
    one_line_error(capsys, [*base, "--adapt", "none,default", "--calibration-days", "1,2", "--days", "2-4"],
                   "day 2 is a calibration day")
    one_line_error(capsys, [*base, "--calibration-days", "1,2"], "--calibration-days does not apply")


def test_default_test_days_follow_the_calibration_days(tmp_path) -> None:
    from myoxai.evaluation.plan import EvalOptions, plan

    grid = plan(EvalOptions("kanoga", tmp_path, "inter-day", models=["spectrogram-convnet"], subjects=["1"],
                            adapt=["none", "default"], calibration_days=[1, 2]))
    assert [c.params["days"] for c in grid.cells] == [[d] for d in range(3, 31)]
    assert {tuple(c.params["calibration_days"]) for c in grid.cells} == {(1, 2)}
    assert grid.cells[0].reads == [[1, 1], [1, 2], [1, 3]]


def test_cell_cache_key_sees_the_calibration_days(monkeypatch, tmp_path) -> None:
    from myoxai.evaluation import data, executor

    monkeypatch.setattr(data, "unit_hash", lambda dataset, root, unit: f"{dataset}{unit}")
    ctx = context(str(tmp_path))
    one = adaptation.kanoga_cells([1], [3], ["none"])
    two = adaptation.kanoga_cells([1], [3], ["none"], calibration_days=[1, 2])
    assert executor.cell_keys(one, ctx) != executor.cell_keys(two, ctx)
    assert one[0].seed(0) == two[0].seed(0)  # same subject-day, same seed: only the calibration differs


def test_model_cache_never_serves_a_day_one_model_for_days_one_and_two(spy, tmp_path) -> None:
    from myoxai.models import load_model

    cache = tmp_path / "models"
    run([3], [1], context("r1", cache))
    assert len(spy["train"]) == 1 and len(list(cache.iterdir())) == 1
    run([3], [1, 2], context("r1", cache))  # neither the in-process memo nor the file may serve the day-1 model
    assert len(spy["train"]) == 2 and len(list(cache.iterdir())) == 2
    run([4], [1], context("r3", cache))
    run([4], [1, 2], context("r3", cache))
    assert len(spy["train"]) == 2  # both served from their own files
    days = sorted(load_model(p).description["training"]["recipe"]["data"]["days"] for p in cache.iterdir())
    assert days == [[1], [1, 2]]
    # the same windows described with other calibration days get another file: the days are in the key
    x, y, g = adaptation.calibration_windows("r", 1, [1])
    ctx = context("r4", cache)
    for description in ({"dataset": "kanoga", "subject": 1, "days": [1], "trials": [1, 2, 3, 4]},
                        {"dataset": "kanoga", "subject": 1, "days": [1, 2], "trials": [1, 2, 3, 4]}):
        adaptation.train_calibration_model(x, y, g, N_MOTIONS, ctx.settings, description)
    assert len(spy["train"]) == 3 and len(list(cache.iterdir())) == 3


def test_summary_and_report_keep_two_calibrations_apart(tmp_path, capsys) -> None:
    import json

    from myoxai.evaluation import adaptation_report as report

    def rec(cal: list[int], subject: int, method: str, acc: float) -> dict:
        return {"dataset": "kanoga", "subject": subject, "adapt": method, "accuracy": acc, "balanced_accuracy": acc,
                "macro_f1": acc, "confusion": [[1, 0], [0, 1]],
                "train": {"variant": adaptation.calibration_variant(cal), "days": cal},
                "test": {"day": 3, "position": "O", "split": "adapt T12 / test others"}}

    scores = {(1, "none"): (0.4, 0.6), (2, "none"): (0.5, 0.7), (1, "default"): (0.5, 0.9), (2, "default"): (0.7, 0.9)}
    one = [rec([1], s, m, a) for (s, m), (a, _) in scores.items()]
    two = [rec([1, 2], s, m, b) for (s, m), (_, b) in scores.items()]
    table = report.summarize(one + two)
    assert "| kanoga | day 1 | adapt T12 / test others | all | none | 2 | 45.0 ± 7.1 |" in table
    assert "| kanoga | days 1,2 | adapt T12 / test others | all | none | 2 | 65.0 ± 7.1 |" in table
    assert "| kanoga | days 1,2 | adapt T12 / test others | all | default | 2 | 90.0 ± 0.0 |" in table
    with pytest.raises(MyoxaiError, match="2 calibrations \\(day 1; days 1,2\\)"):
        report.gains([one + two])
    path = tmp_path / "run.json"
    path.write_text(json.dumps({"records": one + two}))
    report.main(["gains", str(path)])
    out = capsys.readouterr().out
    marks = ("calibration: day 1", "| default | 60.0 ± 14.1 |", "calibration: days 1,2", "| default | 90.0 ± 0.0 |")
    assert [out.index(m) for m in marks] == sorted(out.index(m) for m in marks)


def test_day_one_alone_holds_out_the_trials_it_held_out_before(monkeypatch) -> None:
    """The per-day group numbers keep day 1's held-out trials (``motion * 10 + trial`` before)."""
    from myoxai.models.training import group_split

    monkeypatch.setattr(adaptation, "kanoga_day", fake_day)
    d1 = fake_day("r", 1, 1)
    _, y, groups = adaptation.calibration_windows("r", 1, [1])
    for seed in (0, 1, 2):
        before = group_split(y, d1["motion"] * 10 + d1["trial"], 0.25, seed)[1]
        assert np.array_equal(group_split(y, groups, 0.25, seed)[1], before)
