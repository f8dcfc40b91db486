"""Damaged inputs of every class load sanely or raise MyoxaiError, in children limited to 2 GB of address space.

A small corpus per class keeps CI fast; ``myoxai bench fuzz`` runs the long version.
"""

from __future__ import annotations

import pytest

from myoxai.bench.fuzz import KINDS, damage, run_child

EXAMPLES = {"xdf": 200, "myo-text": 150, "kanoga-text": 150, "model": 150, "bgapi": 200}


@pytest.mark.slow
@pytest.mark.timeout(300)
@pytest.mark.parametrize("kind", KINDS)
def test_damaged_inputs_load_or_raise_myoxai_error(kind):
    code, summary, err = run_child(kind, EXAMPLES[kind], seed=0, timeout=240)
    assert code == 0 and summary is not None, err
    assert summary["examples"] == EXAMPLES[kind]
    assert summary["peak_rss_mb"] < 2048
    if kind != "bgapi":  # a byte stream never "refuses": garbage is skipped and counted
        assert summary["refused"] > 0 and summary["loaded"] > 0


def test_damage_operations():
    seeds = [b"0123456789", b"abcdef"]
    assert damage(seeds[0], [("truncate", 3, 0)], seeds) == b"012"
    assert damage(seeds[0], [("flip", 0, 0)], seeds) == b"1123456789"
    assert damage(seeds[0], [("splice", 2, 5)], seeds) == b"0156789"  # delete [2, 5)
    assert damage(seeds[0], [("splice", 5, 2)], seeds) == b"01234234" + b"56789"  # duplicate [2, 5)
    assert damage(seeds[0], [("insert", 1, 0, b"XY")], seeds) == b"0XY123456789"
    assert damage(seeds[0], [("other", 4, 1, 2)], seeds) == b"0123cdef"


def test_a_reader_that_allocates_for_a_damaged_header_fails_the_child():
    """The memory limit is real: a child that tries to allocate 3 GB dies with an error, not a pass."""
    import subprocess
    import sys

    code = ("import resource, numpy as np; resource.setrlimit(resource.RLIMIT_AS, (2 * 1024**3, 2 * 1024**3)); "
            "np.ones(3 * 1024**3 // 8)")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0 and "MemoryError" in proc.stderr


def test_each_lie_changes_the_file_and_is_refused(tmp_path):
    """Issue 24: duplicate header fields, timestamp extremes, argument inflation, unicode digits."""
    from myoxai.bench.fuzz import SEEDS, TARGETS
    from myoxai.bench.lies import LIES
    from myoxai.errors import MyoxaiError
    from myoxai.io.myo_readings import load_file

    cases = [("xdf", "xdf-dup-field", b) for b in range(6)] + [("xdf", "xdf-stamp", b) for b in range(3)] \
        + [("model", "model-args", b) for b in range(8)]
    seeds = {kind: SEEDS[kind](tmp_path) for kind in ("xdf", "model", "myo-text")}
    for kind, lie, b in cases:
        seed = seeds[kind][-1]
        data = LIES[lie](seed, 1, b)
        assert data != seed, (lie, b)
        with pytest.raises(MyoxaiError):
            TARGETS[kind](data, tmp_path)
    for b in range(8):  # a unicode digit: the strict reader refuses the line, the lenient one drops it
        data = LIES["unicode-digit"](seeds["myo-text"][0], 5, b)
        (tmp_path / "3.txt").write_bytes(data)
        with pytest.raises(MyoxaiError, match="line 1"):
            load_file(tmp_path / "3.txt", strict=True)
        assert load_file(tmp_path / "3.txt", strict=False).meta["dropped_lines"] == [1]
