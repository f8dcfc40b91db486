"""Option parsing and the summary table of the adaptation evaluation (no training)."""

from __future__ import annotations

import pytest

from myoxai.errors import MyoxaiError
from myoxai.evaluation import int_list_arg, parse_int_list
from myoxai.evaluation.adaptation import parse_methods
from myoxai.evaluation.adaptation_report import summarize


def test_parse_methods() -> None:
    assert parse_methods("none, dann,scadann") == ["none", "dann", "scadann"]
    with pytest.raises(MyoxaiError):
        parse_methods("none,magic")


def test_int_list_ranges_and_steps() -> None:
    assert parse_int_list("2-30:7", "days") == [2, 9, 16, 23, 30]
    assert parse_int_list("1-4", "days") == [1, 2, 3, 4] and parse_int_list("3,1,3", "days") == [1, 3]
    assert parse_int_list("", "days") is None
    with pytest.raises(MyoxaiError, match="--days"):
        parse_int_list("4-1", "days")
    import argparse

    with pytest.raises(argparse.ArgumentTypeError, match="--trials"):
        int_list_arg("trials")("x")


def test_summary_reports_mean_sd_delta_and_acceptance() -> None:
    recs = []
    for subject, day, pos, none, sca, status in ((1, 2, "I", 0.4, 0.6, "accepted"), (2, 2, "I", 0.5, 0.5, "rejected"),
                                                 (1, 9, "N", 0.6, 0.9, "accepted")):
        base = {"dataset": "kanoga", "subject": subject, "test": {"split": "s", "day": day, "position": pos}}
        recs += [{**base, "adapt": "none", "accuracy": none, "balanced_accuracy": none, "macro_f1": none},
                 {**base, "adapt": "scadann", "accuracy": sca, "balanced_accuracy": sca - 0.1, "macro_f1": sca - 0.2,
                  "status": status}]
    table = summarize(recs)
    row = next(line for line in table.splitlines() if "| all | scadann |" in line)
    # subject-days 0.6, 0.5, 0.9; subjects: S1 mean 0.75, S2 0.5
    assert "| 3 | 66.7 ± 20.8 | 62.5 ± 17.7 | 56.7 ± 20.8 | 46.7 ± 20.8 | +16.7 | 2/3 |" in row
    assert "| I | scadann | 2 | 55.0 ± 7.1 | 55.0 ± 7.1 | 45.0 ± 7.1 | 35.0 ± 7.1 | +10.0 | 1/2 |" in table


def test_day_one_is_refused_as_a_test_day() -> None:
    from myoxai.evaluation.adaptation import kanoga_cells

    with pytest.raises(MyoxaiError, match="day 1 is the calibration day"):
        kanoga_cells([1], [1, 2], ["none"])


def test_adaptation_and_test_windows_never_share_a_trial() -> None:
    import numpy as np

    from myoxai.evaluation.adaptation import kanoga_split

    trials = np.tile(np.repeat([1, 2, 3, 4], 26), 22)
    for split in ("12", "34"):
        a, t = kanoga_split(trials, split)
        assert not set(trials[a]) & set(trials[t]) and len(a) + len(t) == len(trials)
        assert set(trials[a]) == {int(c) for c in split}


def test_myo_readings_halves_share_no_sample() -> None:
    import numpy as np

    from myoxai.evaluation.adaptation_myo import halves_of_file

    start = np.arange(0, 12000 - 50 + 1, 10)
    end = start + 50
    a, t = halves_of_file(start, end)
    assert end[a].max() <= start[t].min()  # no sample of a test window was in an adaptation window
    assert len(a) + len(t) == len(start) - 4  # only the 4 windows straddling the cut are dropped


NEW_METHODS = ("quick+proto+em", "quick+proto3", "quick+kmeans", "quick+kmeans+em", "quick+online-t3a", "calibrate-35s",
               "calibrate-35s+proto", "default")


def test_new_methods_never_see_the_scored_trials(monkeypatch) -> None:
    """Adaptation gets the adaptation windows only (labels only for needs_labels methods, and then only the
    first hold of each gesture counts); the scored windows reach the model only to be classified."""
    import numpy as np

    from myoxai.adapt import SourceData
    from myoxai.adapt.methods import AdaptMethod
    from myoxai.evaluation.adaptation import AdaptEvalSettings, run_methods
    from myoxai.models import TrainSettings, build_model, train_model

    rng = np.random.default_rng(0)

    def data(n_per_class: int, shift: float) -> tuple[np.ndarray, np.ndarray]:
        y = np.repeat(np.arange(4), n_per_class)  # gesture-major, as the long-term buffer is
        d = (np.arange(8)[None, :] - 2 * y[:, None] - shift + 4) % 8 - 4
        bump = np.exp(-0.5 * d**2) + 0.05
        return (bump[:, None, :, None] * rng.exponential(1.0, (len(y), 4, 8, 10))).astype(np.float32), y

    x, y = data(60, 0.0)
    model = build_model("spectrogram-convnet", 4, seed=0, channels=[8, 8], log_input=True)
    train_model(model, x, y, TrainSettings(epochs=3, batch_size=64, seed=0))
    source = SourceData(x, y)
    xa, ya = data(52, 0.6)
    xt, yt = data(30, 0.6)
    seen: list[tuple[np.ndarray, object]] = []
    original = AdaptMethod.run
    depth = [0]

    def spy(self, m, ctx):
        if depth[0] == 0:  # the method run_methods called (not the pipelines it composes)
            seen.append((ctx.x, ctx.labels))
        depth[0] += 1
        try:
            return original(self, m, ctx)
        finally:
            depth[0] -= 1

    monkeypatch.setattr(AdaptMethod, "run", spy)
    settings = AdaptEvalSettings()
    recs = run_methods(model, source, xa, ya, xt, yt, NEW_METHODS, settings, {})
    for (sx, labels), rec in zip(seen, recs, strict=True):
        assert sx is xa and not (sx[:, None] == xt[None]).all(axis=(2, 3, 4)).any(), rec["adapt"]
        assert (labels is ya) == rec["adapt"].startswith("calibrate-35s"), rec["adapt"]
    # calibrate-35s trains on the first hold (26 windows) of each gesture only: other labels change nothing
    scrambled = ya.copy()
    for k in range(4):
        scrambled[np.flatnonzero(ya == k)[26:]] = -1
    again = run_methods(model, source, xa, scrambled, xt, yt, ["calibrate-35s", "calibrate-35s+proto"], settings, {})
    for rec in again:
        assert rec["accuracy"] == recs[NEW_METHODS.index(rec["adapt"])]["accuracy"], rec["adapt"]
        assert rec["labeled_windows"] == 4 * 26


def test_gain_table_averages_seeds_then_subjects_and_brackets_the_gain() -> None:
    from myoxai.evaluation.adaptation_report import gains

    def rec(subject: int, day: int, method: str, acc: float) -> dict:
        return {"subject": subject, "adapt": method, "accuracy": acc, "test": {"day": day}}

    seed0 = [rec(1, 2, "none", 0.5), rec(1, 9, "none", 0.6), rec(2, 2, "none", 0.7), rec(2, 9, "none", 0.7),
             rec(1, 2, "x", 0.6), rec(1, 9, "x", 0.8), rec(2, 2, "x", 0.7), rec(2, 9, "x", 0.8)]
    seed1 = [{**r, "accuracy": r["accuracy"] + (0.1 if r["adapt"] == "x" else 0.0)} for r in seed0]
    row = next(line for line in gains([seed0, seed1]).splitlines() if line.startswith("| x |"))
    # x per subject-day (seed mean): S1 0.65, 0.85 -> 75.0; S2 0.75, 0.85 -> 80.0; day gains S1 +15, +25,
    # S2 +5, +15 (subject means +20, +10). The interval resamples subjects, then days within them
    # (myoxai.evaluation.stats, as every myoxai eval summary): its ends lie within S2's worst day (+5) and
    # S1's best (+25), and it is wider than resampling days within fixed subjects ((15 + 5) / 2 … (25 + 15) / 2)
    assert row.startswith("| x | 77.5 ± 3.5 | 75.0 | 80.0 | +15.0 [")
    lo, hi = (float(v) for v in row.split("[")[1].split("]")[0].split(","))
    assert 5.0 <= lo < 10.0 and 20.0 < hi <= 25.0
