"""Option parsing and the summary table of the adaptation evaluation (no training)."""

from __future__ import annotations

import pytest

from myoxai.errors import MyoxaiError
from myoxai.evaluation import int_list_arg, parse_int_list
from myoxai.evaluation.adaptation import parse_methods, summarize


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
        base = {"dataset": "kanoga", "split": "s", "subject": subject, "day": day, "position": pos}
        recs += [{**base, "adapt": "none", "accuracy": none},
                 {**base, "adapt": "scadann", "accuracy": sca, "status": status}]
    table = summarize(recs)
    row = next(line for line in table.splitlines() if "| all | scadann |" in line)
    assert "| 3 | 66.7 ± 20.8 | +16.7 | 2/3 |" in row
    assert "| I | scadann | 2 | 55.0 ± 7.1 | +10.0 | 1/2 |" in table
