"""Issue 24 items 8, 9, 16, 18, 21: data hashing, bounded ranges and counts, cache faults, the scheduler probe
and TLS. Dask and every socket here bind to 127.0.0.1 only."""

from __future__ import annotations

import errno
import json
import os
import pathlib
import socket
import threading
import time

import pytest

from myoxai.cli import main
from myoxai.cliargs import parse_int_list
from myoxai.errors import MyoxaiError
from myoxai.evaluation.data import unit_files, unit_hash
from myoxai.evaluation.executor import CellCache


def _day(root: pathlib.Path) -> pathlib.Path:
    day = root / "sub1" / "day1"
    day.mkdir(parents=True)
    (day / "D1M1T1.csv").write_text("1,2,3,4,5,6,7,8\n")
    return day


def test_hashing_reads_only_the_datasets_own_regular_files(tmp_path):  # item 8
    root = tmp_path / "kanoga"
    day = _day(root)
    (day / "notes.csv").symlink_to("/dev/zero")  # not a trial name: never read
    assert [p.name for p in unit_files("kanoga", root, [1, 1])] == ["D1M1T1.csv"]
    assert len(unit_hash("kanoga", root, [1, 1])) == 64
    os.mkfifo(day / "D1M2T1.csv")  # a pipe named like a trial would block a read forever
    with pytest.raises(MyoxaiError, match="not a regular file"):
        unit_hash("kanoga", root, [1, 1])
    (day / "D1M2T1.csv").unlink()
    outside = tmp_path / "elsewhere.csv"
    outside.write_text("1\n")
    (day / "D1M3T1.csv").symlink_to(outside)
    with pytest.raises(MyoxaiError, match="outside the dataset folder"):
        unit_hash("kanoga", root, [1, 1])


def test_ranges_and_counts_are_bounded(tmp_path, capsys):  # item 9
    t0 = time.monotonic()
    for text in ("1-1000000000", "1-99999999", "1-5000,6000-20000"):
        with pytest.raises(MyoxaiError, match="more than 10000 numbers"):
            parse_int_list(text, "days")
    assert time.monotonic() - t0 < 1
    assert parse_int_list("1-3,7", "days") == [1, 2, 3, 7]
    root = tmp_path / "kanoga"
    _day(root)
    args = ["eval", "--dataset", "kanoga", "--root", str(root), "--protocol", "intra-day", "--json",
            str(tmp_path / "e.json")]
    assert main([*args, "--workers", "1000"]) == 2
    assert "--workers 1000: at most" in capsys.readouterr().err
    assert main([*args, "--subjects", "1-99999999"]) == 2
    assert "more than 10000" in capsys.readouterr().err
    with pytest.raises(SystemExit) as exit_:
        main(["train", "--data", str(root), "--threads", "100000"])
    assert exit_.value.code == 2 and "this machine's cores" in capsys.readouterr().err


def test_cache_entries_that_are_not_finished_cells_are_recomputed(tmp_path):  # item 16
    cache = CellCache(tmp_path / "cells")
    cache.check()
    (tmp_path / "cells" / "a.json").write_text("[]")
    (tmp_path / "cells" / "b.json").write_text(json.dumps({"key": "b", "status": "done"}))  # no records
    (tmp_path / "cells" / "c.json").write_text(json.dumps({"key": "c", "status": "done", "records": [{"acc": 1}]}))
    assert cache.get("a") is None and cache.get("b") is None and cache.get("c") is not None
    assert cache.foreign("mine") == {"unknown (written before code fingerprints)": 2}


def test_an_unwritable_cache_is_refused_before_any_work(tmp_path):  # item 16
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.raises(MyoxaiError, match="--cache"):
        CellCache(blocker / "cells").check()


def test_a_full_disk_while_caching_is_one_line_and_leaves_nothing(tmp_path, monkeypatch):  # item 16
    cache = CellCache(tmp_path / "cells")
    cache.check()

    def full(self, *a, **k):
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(pathlib.Path, "write_text", full)
    with pytest.raises(MyoxaiError, match="the disk is full"):
        cache.put("k", {"key": "k", "status": "done", "records": []})
    monkeypatch.undo()
    assert list((tmp_path / "cells").iterdir()) == []  # no empty .tmp left behind


def _server(reply: bytes | None) -> tuple[socket.socket, int]:
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(4)

    def serve() -> None:
        while True:
            try:
                conn, _ = srv.accept()
            except OSError:
                return
            if reply is not None:
                conn.sendall(reply)
            threading.Timer(5, conn.close).start()

    threading.Thread(target=serve, daemon=True).start()
    return srv, srv.getsockname()[1]


@pytest.mark.timeout(60)
@pytest.mark.parametrize("reply, words", [(None, "no Dask handshake within"),
                                          (b"HTTP/1.1 400 Bad Request\r\n\r\n" * 4, "not a Dask scheduler"),
                                          (b"\xff" * 64, "not a Dask scheduler")])
def test_a_scheduler_that_is_not_dask_fails_within_the_timeout(reply, words):  # item 18
    from myoxai.evaluation.dask_cluster import probe_scheduler

    srv, port = _server(reply)
    try:
        t0 = time.monotonic()
        with pytest.raises(MyoxaiError, match=words):
            probe_scheduler(f"tcp://127.0.0.1:{port}", timeout=2)
        assert time.monotonic() - t0 < 5
    finally:
        srv.close()


@pytest.mark.timeout(120)
def test_local_cluster_is_tls_and_a_tls_scheduler_needs_the_security_file(tmp_path):  # item 21
    from distributed import LocalCluster, Security

    from myoxai.evaluation.dask_cluster import dask_client, load_security, probe_scheduler

    with dask_client(1, None) as client:
        address = client.scheduler.address
        assert address.startswith("tls://127.0.0.1:")
        with pytest.raises(MyoxaiError, match="needs --security"):
            probe_scheduler(address)
    sec = Security.temporary()
    files = {}
    for key in ("tls_ca_file", "tls_client_cert", "tls_client_key"):
        (tmp_path / f"{key}.pem").write_text(getattr(sec, key))
        files[key] = f"{key}.pem"
    (tmp_path / "security.yaml").write_text(json.dumps(files))
    with LocalCluster(n_workers=0, host="127.0.0.1", dashboard_address=None, security=sec) as cluster:
        probe_scheduler(cluster.scheduler_address, load_security(tmp_path / "security.yaml"))
    with pytest.raises(MyoxaiError, match="expected the keys"):
        (tmp_path / "bad.yaml").write_text("tls_ca_file: [1]\n")
        load_security(tmp_path / "bad.yaml")
