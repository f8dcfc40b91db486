"""One minute of the pipeline at full speed with exact Shapley while recording: nothing lost, nothing leaks.

The hour-long version is ``myoxai bench soak --minutes 60``; figures go in the closing note, not here.
"""

from __future__ import annotations

import pytest

from myoxai.bench.soak import soak


@pytest.mark.slow
@pytest.mark.timeout(420)
def test_one_minute_soak_loses_nothing(tmp_path):
    r = soak(1.0, block_minutes=0.2, warmup_s=15.0, xdf=tmp_path / "soak.xdf", progress=False)
    assert r["samples_in"] == r["samples_processed"] == r["samples_in_file"] > 0
    assert r["samples_lost"] == 0 and r["samples_dropped"] == 0
    assert r["decisions"] == r["decisions_expected"]
    assert r["rss_growth_pct"] < 10.0
    per_sample = [b["bytes_per_sample"] for b in r["blocks"] if b["samples"] > 1000]
    assert max(per_sample) < 1.05 * min(per_sample)  # the file grows with the samples, nothing else
    assert len(r["blocks"]) >= 4
