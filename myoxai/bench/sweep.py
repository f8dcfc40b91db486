"""``myoxai bench sweep``: every command on hostile inputs, each in its own process.

The corpus (built fresh in a temporary folder) holds lying XDF headers, extreme timestamps,
devices, pipes and folders posing as files, models that are pickles or whose arguments are
inflated, unicode digits in names, names too long, outputs that are inputs, and nonsense
numbers. Every case runs ``python -m myoxai …`` under an address-space limit and a timeout and is
judged on the README's promise: exit 0 or 2, no traceback, no pre-existing file changed, peak
RSS at most 1 GB. The table of cases is printed and kept in the JSON report.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.bench.report import Result

HELP = "run every command on 269 hostile inputs; count tracebacks, destroyed files and peak RSS over 1 GB"
RSS_LIMIT_MB = 1024


@dataclass
class Case:
    """One command line and what it must not change."""

    name: str
    argv: list[str]


def _xdf(path: Path, ts: np.ndarray, fs: float = 200.0, channels: int = 8) -> Path:
    from myoxai.io.xdf import XdfWriter

    with XdfWriter(path) as w:
        sid = w.add_stream("emg", "EMG", channels, fs)
        w.write_samples(sid, ts, np.random.default_rng(0).standard_normal((len(ts), channels)))
    return path


def _unstamped_1ch(path: Path, n: int) -> Path:
    """An EMG stream of ``n`` 1-byte, 1-channel, unstamped samples (2 bytes each): cheap to write, slow to decode."""
    import struct

    from myoxai.io.xdf import XdfWriter

    with XdfWriter(path) as w:
        sid = w.add_stream("emg", "EMG", 1, 200.0, "int8")
        body = struct.pack("<H", 3) + struct.pack("<I", sid) + b"\x04" + struct.pack("<I", n) + bytes(2 * n)
        w._f.write(b"\x08" + struct.pack("<Q", len(body)) + body)  # one raw Samples chunk
    return path


def build_corpus(d: Path) -> dict[str, Path]:
    """The hostile files (and one valid recording and model to pair them with)."""
    from myoxai.bench.lies import LIES
    from myoxai.io.open import BUNDLED_RECORDING
    from myoxai.io.xdf import XdfWriter, read_recording, write_recording
    from myoxai.models import build_model, save_model

    f: dict[str, Path] = {}
    rec = read_recording(BUNDLED_RECORDING)
    f["valid.xdf"] = d / "valid.xdf"
    write_recording(f["valid.xdf"], rec.slice(3000, 9000), chunk_s=0.25)
    base = f["valid.xdf"].read_bytes()
    for name, lie, a, b in (("dup-channels-first.xdf", "xdf-dup-field", 1, 0), ("dup-channels-last.xdf",
                            "xdf-dup-field", 0, 0), ("dup-rate.xdf", "xdf-dup-field", 1, 2),
                            ("dup-format.xdf", "xdf-dup-field", 1, 4), ("inf-stamp.xdf", "xdf-stamp", 3, 0),
                            ("nan-stamp.xdf", "xdf-stamp", 5, 2)):
        f[name] = d / name
        f[name].write_bytes(LIES[lie](base, a, b))
    f["truncated.xdf"] = d / "truncated.xdf"
    f["truncated.xdf"].write_bytes(base[:len(base) * 2 // 3 + 5])
    t = np.arange(1200) / 200.0
    f["gap-1e13.xdf"] = _xdf(d / "gap-1e13.xdf", np.r_[t, 1e13 + t])
    f["backwards.xdf"] = _xdf(d / "backwards.xdf", np.r_[t, t - 1000])
    f["rate-1e-300.xdf"] = _xdf(d / "rate-1e-300.xdf", t, fs=1e-300)
    f["one-channel-100MB.xdf"] = _unstamped_1ch(d / "one-channel-100MB.xdf", 50_000_000)
    f["markers-60k.xdf"] = d / "markers-60k.xdf"
    with XdfWriter(f["markers-60k.xdf"]) as w:
        emg, mk = w.add_stream("emg", "EMG", 8, 200.0), w.add_stream("m", "Markers", 1, 0.0, "string")
        n = 60_000
        w.write_samples(emg, np.arange(n) / 200.0, np.zeros((n, 8)))
        w.write_samples(mk, np.arange(n) / 200.0, [f"g{i}" for i in range(n)])
    f["empty.xdf"] = d / "empty.xdf"
    f["empty.xdf"].write_bytes(b"")
    f["junk.xdf"] = d / "junk.xdf"
    f["junk.xdf"].write_bytes(b"XDF:" + np.random.default_rng(3).bytes(5000))
    f["devzero.xdf"] = d / "devzero.xdf"
    f["devzero.xdf"].symlink_to("/dev/zero")
    f["fifo.xdf"] = d / "fifo.xdf"
    os.mkfifo(f["fifo.xdf"])
    f["folder.xdf"] = d / "folder.xdf"
    f["folder.xdf"].mkdir()
    f["missing.xdf"] = d / "missing.xdf"
    f["long-name.xdf"] = d / ("n" * 5000 + ".xdf")
    sess = d / "12548-1"
    sess.mkdir()
    (sess / "².txt").write_text("1,2,3,4,5,6,7,8,0\n")
    f["unicode-digit.txt"] = sess / "².txt"
    f["unicode-session"] = sess
    # models
    net = build_model("allconvnet", 2, seed=0, channels=(4, 4, 4, 4))
    f["valid.safetensors"] = save_model(net, d / "valid.safetensors", ("rest", "fist"))
    mbase = f["valid.safetensors"].read_bytes()
    for i, name in enumerate(("args-20000.safetensors", "args-16000.safetensors", "args-hidden.safetensors",
                              "args-j30.safetensors", "args-2e40.safetensors")):
        f[name] = d / name
        f[name].write_bytes(LIES["model-args"](mbase, 0, i))
    f["pickle.safetensors"] = d / "pickle.safetensors"
    f["pickle.safetensors"].write_bytes(b"\x80\x04\x95" + bytes(64))
    f["zip.safetensors"] = d / "zip.safetensors"
    f["zip.safetensors"].write_bytes(b"PK\x03\x04" + bytes(64))
    f["recording-as-model.safetensors"] = d / "recording-as-model.safetensors"
    f["recording-as-model.safetensors"].write_bytes(base[:4096])
    day1, day2 = d / "kanoga" / "sub1" / "day1", d / "kanoga" / "sub1" / "day2"
    day1.mkdir(parents=True)
    day2.mkdir(parents=True)
    os.mkfifo(day1 / "D1M1T1.csv")  # a FIFO named like a trial
    (day1 / "notes.csv").symlink_to("/dev/zero")
    (day2 / "D2M1T1.csv").symlink_to(f["valid.xdf"])  # a trial linked out of the dataset folder
    (d / "kanoga" / "sub1" / "day3").mkdir()
    (d / "kanoga" / "sub1" / "day3" / "D3M1T1.csv").write_text("0.1,0.2,0.3,0.4,0.5,0.6,0.7,0.8\n" * 300)
    f["kanoga-root"] = d / "kanoga"
    f["existing.json"] = d / "existing.json"
    f["existing.json"].write_text('{"keep": true}')
    return f


XDF_BAD = ("dup-channels-first.xdf", "dup-channels-last.xdf", "dup-rate.xdf", "dup-format.xdf", "inf-stamp.xdf",
           "nan-stamp.xdf", "truncated.xdf", "gap-1e13.xdf", "backwards.xdf", "rate-1e-300.xdf",
           "one-channel-100MB.xdf", "markers-60k.xdf", "empty.xdf", "junk.xdf", "devzero.xdf", "fifo.xdf",
           "folder.xdf", "missing.xdf", "long-name.xdf", "unicode-digit.txt", "unicode-session")
HEAVY_BAD = ("dup-channels-first.xdf", "inf-stamp.xdf", "truncated.xdf", "gap-1e13.xdf", "backwards.xdf",
             "rate-1e-300.xdf", "one-channel-100MB.xdf", "devzero.xdf", "fifo.xdf", "long-name.xdf",
             "unicode-digit.txt")
MODELS_BAD = ("args-20000.safetensors", "args-16000.safetensors", "args-hidden.safetensors", "args-j30.safetensors",
              "args-2e40.safetensors", "pickle.safetensors", "zip.safetensors", "recording-as-model.safetensors")


def build_cases(f: dict[str, Path], out: Path) -> list[Case]:
    """The command lines: each hostile file through each command that reads one, then bad arguments."""
    s = str
    c: list[Case] = []
    for k in XDF_BAD:
        c += [Case(f"info {k}", ["info", s(f[k])]),
              Case(f"replay {k}", ["replay", s(f[k]), "--speed", "max"]),
              Case(f"record from {k}", ["record", s(out / f"r-{len(c)}.xdf"), "--source", f"replay:{f[k]}",
                                        "--speed", "max"]),
              Case(f"convert {k}", ["convert", s(f[k]), s(out / f"c-{len(c)}.xdf")])]
    for k in HEAVY_BAD:
        c += [Case(f"train on {k}", ["train", "--data", s(f[k]), "--model", "lda", "--out", s(out / f"m{len(c)}.st")]),
              Case(f"drift on {k}", ["drift", "--data", s(f[k])]),
              Case(f"explain on {k}", ["explain", "--model", s(f["valid.safetensors"]), "--data", s(f[k]),
                                       "--methods", "shapley"]),
              Case(f"motion-test on {k}", ["motion-test", "--source", f"replay:{f[k]}", "--speed", "max"]),
              Case(f"live on {k}", ["live", "--headless", "--source", f"replay:{f[k]}", "--seconds", "2",
                                    "--speed", "max"]),
              Case(f"bench dsp on {k}", ["bench", "dsp", "--data", s(f[k])]),
              Case(f"stream {k}", ["stream", "--source", f"replay:{f[k]}", "--seconds", "2", "--lsl-machine-scope"])]
    for k in ("dup-channels-first.xdf", "inf-stamp.xdf", "gap-1e13.xdf", "devzero.xdf", "fifo.xdf", "long-name.xdf"):
        c += [Case(f"adapt on {k}", ["adapt", "--data", s(f[k]), "--out", s(out / f"a{len(c)}.st")]),
              Case(f"export {k}", ["export", s(f[k]), s(out / f"x{len(c)}")])]
    for k in MODELS_BAD:
        c += [Case(f"adapt model {k}", ["adapt", "--model", s(f[k]), "--out", s(out / f"a{len(c)}.st")]),
              Case(f"drift model {k}", ["drift", "--model", s(f[k])]),
              Case(f"explain model {k}", ["explain", "--model", s(f[k]), "--data", s(f["valid.xdf"])]),
              Case(f"live model {k}", ["live", "--headless", "--model", s(f[k]), "--seconds", "1"]),
              Case(f"motion-test model {k}", ["motion-test", "--model", s(f[k]), "--speed", "max"])]
    v, m = s(f["valid.xdf"]), s(f["valid.safetensors"])
    c += [Case(name, argv) for name, argv in (
        ("bench --json = its --data", ["bench", "dsp", "--data", v, "--json", v]),
        ("bench --json = its --data, --overwrite", ["bench", "dsp", "--data", v, "--json", v, "--overwrite"]),
        ("bench --json existing", ["bench", "dsp", "--data", v, "--json", s(f["existing.json"])]),
        ("drift --json = --model --overwrite", ["drift", "--model", m, "--json", m, "--overwrite"]),
        ("drift --json in a missing folder", ["drift", "--json", s(out / "no" / "d.json")]),
        ("drift --json a folder", ["drift", "--json", s(out)]),
        ("drift --shapley-windows -1", ["drift", "--shapley-windows", "-1"]),
        ("drift --thresholds a recording", ["drift", "--thresholds", v]),
        ("motion-test --json a folder", ["motion-test", "--json", s(out)]),
        ("motion-test --json = --model", ["motion-test", "--model", m, "--json", m, "--overwrite"]),
        ("motion-test --png in a missing folder", ["motion-test", "--png", s(out / "no" / "x.png")]),
        ("explain --lime-samples -1", ["explain", "--model", m, "--data", v, "--lime-samples", "-1"]),
        ("explain --ig-steps 0", ["explain", "--model", m, "--data", v, "--ig-steps", "0"]),
        ("explain --json = --data", ["explain", "--model", m, "--data", v, "--json", v, "--overwrite"]),
        ("explain --figures a file", ["explain", "--model", m, "--data", v, "--figures", v]),
        ("train --out = --data", ["train", "--data", v, "--model", "lda", "--out", v, "--overwrite"]),
        ("train --out existing", ["train", "--data", v, "--model", "lda", "--out", s(f["existing.json"])]),
        ("train --epochs -1", ["train", "--data", v, "--model", "allconvnet", "--epochs", "-1",
                               "--out", s(out / "e.st")]),
        ("train --threads 100000", ["train", "--data", v, "--model", "lda", "--threads", "100000",
                                    "--out", s(out / "t.st")]),
        ("train --channels 8,16,20000,20000", ["train", "--data", v, "--model", "allconvnet", "--channels",
                                               "8,16,20000,20000", "--epochs", "1", "--out", s(out / "big.st")]),
        ("adapt --out = --model", ["adapt", "--model", m, "--out", m, "--overwrite"]),
        ("adapt --json = --data", ["adapt", "--data", v, "--out", s(out / "ad.st"), "--json", v, "--overwrite"]),
        ("export into a file", ["export", v, v]),
        ("export into the corpus folder", ["export", v, s(f["valid.xdf"].parent)]),
        ("convert out = in", ["convert", v, v, "--overwrite"]),
        ("convert to a long name", ["convert", v, s(f["long-name.xdf"])]),
        ("convert to a folder", ["convert", v, s(out)]),
        ("record out = its replay", ["record", v, "--source", f"replay:{v}", "--overwrite"]),
        ("record over an existing file", ["record", s(f["existing.json"]), "--source", f"replay:{v}"]),
        ("record to a long name", ["record", s(f["long-name.xdf"]), "--source", f"replay:{v}"]),
        ("record --seconds -1", ["record", s(out / "neg.xdf"), "--source", f"replay:{v}", "--seconds", "-1"]),
        ("record from a missing device", ["record", s(out / "dev.xdf"), "--source", "myo:/dev/ttyNOPE"]),
        ("replay --speed nan", ["replay", v, "--speed", "nan"]),
        ("replay --speed -1", ["replay", v, "--speed", "-1"]),
        ("replay --chunk 0", ["replay", v, "--chunk", "0"]),
        ("replay --chunk ²", ["replay", v, "--chunk", "²"]),
        ("stream --every inf", ["stream", "--source", f"replay:{v}", "--every", "inf"]),
        ("live --vote -3", ["live", "--headless", "--vote", "-3", "--seconds", "1"]),
        ("live --threshold nan", ["live", "--headless", "--threshold", "nan", "--seconds", "1"]),
        ("live lsl:quoted name", ["live", "--headless", "--source", "lsl:x' or name='y", "--seconds", "1"]),
        ("live lsl: nobody", ["live", "--headless", "--source", "lsl:nobody-sends-this@nowhere",
                              "--seconds", "1", "--lsl-machine-scope"]),
        ("info a unicode-digit session", ["info", s(f["unicode-session"])]),
    )]
    kroot, ev = s(f["kanoga-root"]), ["--protocol", "intra-day", "--models", "lda", "--no-progress"]
    d3 = ["--root", kroot, "--days", "3"]  # a day with a readable trial: the run gets as far as the cluster
    c += [Case(name, ["eval", "--dataset", "kanoga", *ev, "--json", s(out / f"e{i}.json"), *argv])
          for i, (name, argv) in enumerate((
              ("eval --subjects ²", ["--root", kroot, "--subjects", "²"]),
              ("eval --days 1-1000000000", ["--root", kroot, "--days", "1-1000000000"]),
              ("eval --subjects 1-99999999", ["--root", kroot, "--subjects", "1-99999999"]),
              ("eval --days ٣", ["--root", kroot, "--days", "٣"]),
              ("eval --root a recording", ["--root", v]),
              ("eval --workers 1000", [*d3, "--workers", "1000"]),
              ("eval --threads 100000", [*d3, "--threads", "100000"]),
              ("eval --scheduler nobody listening", [*d3, "--scheduler", "tcp://127.0.0.1:9"]),
              ("eval --scheduler tls:// without --security", [*d3, "--scheduler", "tls://127.0.0.1:9"]),
              ("eval --security a recording", [*d3, "--scheduler", "tls://127.0.0.1:9", "--security", v]),
              ("eval --cache a file", [*d3, "--cache", v]),
              ("eval a trial that is a FIFO", ["--root", kroot, "--days", "1"]),
              ("eval a trial linked out of the dataset", ["--root", kroot, "--days", "2"]),
              ("eval --json = --root", ["--root", kroot, "--json", kroot]),
          ))]
    return c


def _digest(folder: Path) -> dict[str, str]:
    out = {}
    for p in folder.iterdir():
        if p.is_file() and not p.is_symlink() and p.stat().st_size < 50_000_000:
            out[p.name] = hashlib.sha256(p.read_bytes()).hexdigest()
    return out


def run_case(case: Case, corpus: Path, env: dict[str, str], timeout: float, limit_bytes: int) -> dict[str, Any]:
    """Run one case; its exit code, traceback, changed files, peak RSS (MB) and seconds."""
    before = _digest(corpus)

    def limits() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (limit_bytes, limit_bytes))

    t0 = time.monotonic()
    proc = subprocess.Popen([sys.executable, "-m", "myoxai", *case.argv], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env, preexec_fn=limits)
    chunks: list[bytes] = []
    reader = threading.Thread(target=lambda: chunks.append(proc.stderr.read()), daemon=True)
    reader.start()
    code: int | str = "timeout"
    while True:  # wait4: this child's own peak RSS, not the largest of all children so far
        pid, status, usage = os.wait4(proc.pid, os.WNOHANG)
        if pid:
            code = os.waitstatus_to_exitcode(status)
            proc.returncode = code
            break
        if time.monotonic() - t0 > timeout:
            proc.kill()
            _, _, usage = os.wait4(proc.pid, 0)
            proc.returncode = -9
            break
        time.sleep(0.05)
    reader.join(5)
    err = b"".join(chunks)
    rss = usage.ru_maxrss / 1024
    text = err.decode("utf-8", "replace")
    after = _digest(corpus)
    changed = sorted(k for k in before if after.get(k) != before[k])
    last = [ln for ln in text.strip().splitlines() if ln.strip()]
    return {"case": case.name, "command": "myoxai " + shlex.join(case.argv)[:160], "exit": code,
            "traceback": "Traceback (most recent call last)" in text, "destroyed": changed,
            "seconds": round(time.monotonic() - t0, 1), "rss_mb": round(rss, 1),
            "message": (last[-1] if last else "")[:160]}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai bench sweep`` options, added to its subcommand parser."""
    parser.add_argument("--only", default=None,
                        help="run only the cases whose name contains one of these comma-separated texts")
    parser.add_argument("--timeout", type=float, default=150.0, help="seconds per case (default 150)")
    parser.add_argument("--memory-gb", type=float, default=4.0,
                        help="address-space limit per case, so a bomb fails alone (default 4)")


def run(args: argparse.Namespace) -> list[Result]:
    """Run the sweep, print one row per case, and count the broken promises."""
    from myoxai.sources.lsl import LOOPBACK_CFG

    with tempfile.TemporaryDirectory(prefix="myoxai-sweep-") as tmp:
        corpus, out = Path(tmp) / "corpus", Path(tmp) / "out"
        corpus.mkdir()
        out.mkdir()
        files = build_corpus(corpus)
        only = [w for w in (args.only or "").split(",") if w]
        cases = [c for c in build_cases(files, out) if not only or any(w in c.name for w in only)]
        env = {**os.environ, "LSLAPICFG": str(LOOPBACK_CFG), "PYTHONDONTWRITEBYTECODE": "1", "TMPDIR": str(out)}
        rows = []
        for i, case in enumerate(cases):
            row = run_case(case, corpus, env, args.timeout, int(args.memory_gb * 1024**3))
            row["rss_over_1gb"] = row["rss_mb"] > RSS_LIMIT_MB
            ok = row["exit"] in (0, 2) and not row["traceback"] and not row["destroyed"] and not row["rss_over_1gb"]
            row["ok"] = ok
            rows.append(row)
            print(f"{i + 1:3d} {'ok  ' if ok else 'FAIL'} {row['exit']!s:>7} {row['seconds']:6.1f}s "
                  f"{row['rss_mb']:6.0f}MB {case.name[:60]:60s} {row['message'][:90]}", flush=True)
    params = {"cases": len(rows), "timeout_s": args.timeout, "memory_gb": args.memory_gb}
    bad = [r for r in rows if not r["ok"]]
    return [Result("sweep.cases", float(len(rows)), "cases", params),
            Result("sweep.tracebacks", float(sum(r["traceback"] for r in rows)), "cases", params),
            Result("sweep.destroyed", float(sum(bool(r["destroyed"]) for r in rows)), "cases", params),
            Result("sweep.rss_over_1gb", float(sum(r["rss_over_1gb"] for r in rows)), "cases", params),
            Result("sweep.timeouts", float(sum(r["exit"] == "timeout" for r in rows)), "cases", params),
            Result("sweep.failures", float(len(bad)), "cases", params | {"failed": [r["case"] for r in bad]}),
            Result("sweep.table", float(len(rows)), "rows", params | {"rows": rows})]
