"""``myoxai bench fuzz``: damaged inputs either load (sanely) or raise ``MyoxaiError`` — never anything else.

Five input classes, each grown from a small valid seed by hypothesis-chosen damage (truncation,
bit flips, byte overwrites, deletions/duplications, inserted junk, splices with another valid
file) and by structure-aware lies (issue 24): a stream-header field stated twice with a hostile
value, sample timestamps set to ±inf/NaN/±1e15, a model's arguments inflated to gigabytes,
unicode digits in dataset text: XDF recordings, myo-readings gesture files, long-term dataset trials, model files, and
BGAPI byte streams from a BLED112. Every class runs in its own child process under an address
space limit (``RLIMIT_AS``, 2 GB by default), so a reader that tries to allocate for what a
damaged header claims fails the run instead of the machine. A loaded input must also be sane
(finite samples, a positive rate, 1–64 channels; a model with finite outputs), so "loads" never
means "silently lies". The CI test (``tests/io/test_fuzz.py``) runs a small corpus; this command
runs a longer one and reports the counts.
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from myoxai.bench.lies import LIES
from myoxai.bench.report import Result

HELP = "fuzz the readers (XDF, dataset text, model files, BGAPI) in memory-limited children; count outcomes"
KINDS = ("xdf", "myo-text", "kanoga-text", "model", "bgapi")
MEMORY_LIMIT = 2 * 1024**3


# -- seeds: small valid inputs of each class ------------------------------------------------
def _seed_xdf(folder: Path) -> list[bytes]:
    from myoxai.io.open import BUNDLED_RECORDING
    from myoxai.io.xdf import read_recording, write_recording

    rec = read_recording(BUNDLED_RECORDING)
    out = []
    for i, (a, b) in enumerate(((5800, 6200), (0, 300))):  # a label change inside, and a plain start
        path = folder / f"seed{i}.xdf"
        write_recording(path, rec.slice(a, b), chunk_s=0.25)
        out.append(path.read_bytes())
    return out


def _seed_myo_text(folder: Path) -> list[bytes]:
    rng = np.random.default_rng(0)
    rows = np.column_stack([rng.integers(-128, 128, (120, 8)), np.where(np.arange(120) < 60, 0, 3)])
    return ["\n".join(",".join(str(int(v)) for v in r) for r in rows).encode() + b"\n"]


def _seed_kanoga_text(folder: Path) -> list[bytes]:
    rows = np.random.default_rng(1).uniform(-1.5, 1.5, (300, 8))
    return ["\n".join(",".join(f"{v:.6e}" for v in r) for r in rows).encode() + b"\n"]


def _seed_model(folder: Path) -> list[bytes]:
    from myoxai.models import build_model, save_model

    lda = build_model("lda", 2)
    rng = np.random.default_rng(0)
    lda.fit(rng.standard_normal((40, 50, 8)).astype(np.float32), np.repeat([0, 1], 20))
    net = build_model("allconvnet", 2, seed=0, channels=(4, 4, 4, 4))
    out = []
    for i, model in enumerate((lda, net)):
        path = save_model(model, folder / f"m{i}.safetensors", ("rest", "fist"))
        out.append(path.read_bytes())
    return out


def _seed_bgapi(folder: Path) -> list[bytes]:
    from myoxai.sources import bgapi
    from myoxai.sources import myo_protocol as myo

    rng = np.random.default_rng(2)
    parts = [bgapi.response(bgapi.ATTCLIENT_ATTRIBUTE_WRITE, b"\x00\x00\x00")]
    for k in range(24):
        value = rng.integers(-128, 128, 16).astype(np.int8).tobytes()
        handle = myo.EMG_HANDLES[k % 4]
        parts.append(bgapi.event(bgapi.EVT_ATTCLIENT_ATTRIBUTE_VALUE,
                                 bgapi.struct.pack("<BHBB", 0, handle, 1, 16) + value))
    parts.append(bgapi.event(bgapi.EVT_ATTCLIENT_ATTRIBUTE_VALUE, bgapi.struct.pack("<BHBB", 0, myo.H_IMU, 1, 20)
                             + bytes(range(20))))
    parts.append(bgapi.event(bgapi.EVT_CONNECTION_DISCONNECTED, b"\x00\x13\x02"))
    return [b"".join(parts)]


SEEDS: dict[str, Callable[[Path], list[bytes]]] = {
    "xdf": _seed_xdf, "myo-text": _seed_myo_text, "kanoga-text": _seed_kanoga_text, "model": _seed_model,
    "bgapi": _seed_bgapi}


# -- targets: the real readers, plus the sanity a loaded input must have ---------------------
def _sane_recording(rec: Any) -> None:
    assert np.isfinite(rec.samples).all(), "loaded non-finite samples"
    assert np.isfinite(rec.timestamps).all(), "loaded non-finite timestamps"
    assert rec.fs > 0 and np.isfinite(rec.fs), f"loaded rate {rec.fs}"
    assert 1 <= rec.n_channels <= 64 and len(rec) > 0, f"loaded shape {rec.samples.shape}"
    if rec.labels is not None:
        assert rec.labels.max() < max(len(rec.class_names), 1), "label beyond the class names"


def _target_xdf(data: bytes, folder: Path) -> None:
    from myoxai.io.xdf import read_recording

    path = folder / "in.xdf"
    path.write_bytes(data)
    _sane_recording(read_recording(path))


def _target_myo_text(data: bytes, folder: Path) -> None:
    from myoxai.io.myo_readings import load_file

    path = folder / "3.txt"
    path.write_bytes(data)
    for strict in (True, False):
        from myoxai.errors import MyoxaiError

        try:
            _sane_recording(load_file(path, strict=strict))
        except MyoxaiError:
            if not strict:
                raise


def _target_kanoga_text(data: bytes, folder: Path) -> None:
    from myoxai.io.kanoga import load_trial

    path = folder / "D3M4T2.csv"
    path.write_bytes(data)
    _sane_recording(load_trial(path, strict=False))


def _target_model(data: bytes, folder: Path) -> None:
    import torch

    from myoxai.models import load_model, predict_logits

    path = folder / "in.safetensors"
    path.write_bytes(data)
    model = load_model(path)
    assert len(model.class_names) == model.n_classes
    x = np.random.default_rng(0).standard_normal((2, 50, 8)).astype(np.float32)
    if getattr(model, "input_kind", "window") == "spectrogram":
        from myoxai.config import DEFAULT_CONFIG
        from myoxai.dsp import spectrogram

        x = spectrogram(x, DEFAULT_CONFIG).astype(np.float32)
    with torch.no_grad():
        logits = np.asarray(predict_logits(model, x))
    assert logits.shape == (2, model.n_classes), logits.shape


def _target_bgapi(data: bytes, folder: Path) -> None:
    """The BLED112 driver's read path (``bled112._poll``) on the stream, fed in uneven pieces."""
    from myoxai.sources import bgapi
    from myoxai.sources import myo_protocol as myo

    framer, asm = bgapi.Framer(), myo.EmgAssembler()
    cuts = [0, *sorted({(i * 37) % (len(data) + 1) for i in range(1, 6)}), len(data)]
    for k, (a, b) in enumerate(zip(cuts[:-1], cuts[1:], strict=True)):
        emg = []
        for p in framer.feed(data[a:b]):
            if p.type == bgapi.EVENT and p.key == bgapi.EVT_ATTCLIENT_ATTRIBUTE_VALUE:
                _conn, handle, value = bgapi.attribute_value(p)
                if handle in myo.EMG_HANDLES and len(value) == 16:
                    emg.append((myo.EMG_HANDLES.index(handle), value))
                elif handle == myo.H_IMU and len(value) == 20:
                    assert np.isfinite(myo.decode_imu(value)).all()
        if emg:
            d = asm.decode(emg, float(k))
            assert d.samples.shape == (2 * len(emg), 8) and (np.abs(d.samples) <= 128).all()
    assert framer.garbage <= len(data)


TARGETS: dict[str, Callable[[bytes, Path], None]] = {
    "xdf": _target_xdf, "myo-text": _target_myo_text, "kanoga-text": _target_kanoga_text, "model": _target_model,
    "bgapi": _target_bgapi}


# -- damage ------------------------------------------------------------------------------------
def damage(data: bytes, ops: list[tuple], seeds: list[bytes]) -> bytes:
    """Apply damage operations; positions are taken modulo the current length (so any int works)."""
    buf = bytearray(data)
    for op in ops:
        kind, a, b = op[0], op[1], op[2]
        n = len(buf)
        if kind == "truncate":
            del buf[a % (n + 1):]
        elif kind == "flip" and n:
            buf[a % n] ^= 1 << (b % 8)
        elif kind == "flip-head" and n:  # headers and first chunks: where structure lives
            buf[a % min(n, 2048)] ^= 1 << (b % 8)
        elif kind == "byte" and n:
            buf[a % n] = b % 256
        elif kind == "splice":  # delete [a, b) or, with b < a, duplicate [b, a)
            i, j = a % (n + 1), b % (n + 1)
            buf = buf[:i] + buf[j:] if i <= j else buf[:i] + buf[j:i] + buf[i:]
        elif kind == "insert":
            i = a % (n + 1)
            buf[i:i] = op[3]
        elif kind == "other":  # the start of this file joined to the end of another valid one
            other = seeds[b % len(seeds)]
            buf = buf[:a % (n + 1)] + other[op[3] % (len(other) + 1):]
        elif kind in LIES:
            buf = bytearray(LIES[kind](bytes(buf), a, b))
    return bytes(buf)


def _ops_strategy():
    from hypothesis import strategies as st

    pos = st.integers(0, 2**20)
    op = st.one_of(
        st.tuples(st.just("truncate"), pos, st.just(0)),
        st.tuples(st.sampled_from(["flip", "flip-head"]), pos, st.integers(0, 7)),
        st.tuples(st.just("byte"), pos, st.sampled_from([0, 1, 4, 8, 0x7F, 0x80, 0xFF, ord(","), ord("\n"),
                                                         ord("n"), ord("<"), ord("{")])),
        st.tuples(st.just("splice"), pos, pos),
        st.tuples(st.just("insert"), pos, st.just(0), st.binary(min_size=1, max_size=48)),
        st.tuples(st.just("other"), pos, st.integers(0, 7), pos),
        st.tuples(st.sampled_from(sorted(LIES)), pos, st.integers(0, 63)),
    )
    return st.lists(op, min_size=1, max_size=4)


def fuzz_kind(kind: str, examples: int, seed: int) -> dict[str, Any]:
    """Run ``examples`` damaged inputs of ``kind`` in this process; raise on the first bad outcome."""
    from hypothesis import HealthCheck, given, settings
    from hypothesis import seed as hyp_seed
    from hypothesis import strategies as st

    from myoxai.errors import MyoxaiError

    folder = Path(tempfile.mkdtemp(prefix=f"myoxai-fuzz-{kind}-"))
    seeds = SEEDS[kind](folder)
    target = TARGETS[kind]
    for s in seeds:  # the seeds themselves must load
        target(s, folder)
    outcomes: Counter[str] = Counter()
    refusals: Counter[str] = Counter()

    @hyp_seed(seed)
    @settings(max_examples=examples, deadline=None, database=None, derandomize=False,
              suppress_health_check=list(HealthCheck))
    @given(which=_ops_strategy(), pick=st.integers(0, 7))
    def check(which: list[tuple], pick: int) -> None:
        data = damage(seeds[pick % len(seeds)], which, seeds)
        try:
            target(data, folder)
            outcomes["loaded"] += 1
        except MyoxaiError as exc:
            outcomes["refused"] += 1
            refusals[str(exc).split(":")[-1].split(";")[0].strip()[:60]] += 1

    t0 = time.perf_counter()
    check()
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {"kind": kind, "examples": sum(outcomes.values()), "loaded": outcomes["loaded"],
            "refused": outcomes["refused"], "seconds": round(time.perf_counter() - t0, 2),
            "peak_rss_mb": round(usage.ru_maxrss / 1024, 1), "top_refusals": refusals.most_common(8)}


def run_child(kind: str, examples: int, seed: int, memory_limit: int = MEMORY_LIMIT,
              timeout: float = 3600) -> tuple[int, dict[str, Any] | None, str]:
    """Fuzz ``kind`` in a child process under ``RLIMIT_AS``; (exit code, summary or None, stderr tail)."""
    cmd = [sys.executable, "-m", "myoxai.bench.fuzz", kind, str(examples), str(seed), str(memory_limit)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return -1, None, f"{kind}: no result within {timeout:g} s (a reader hangs?)"
    summary = None
    for line in proc.stdout.splitlines():
        if line.startswith("{"):
            summary = json.loads(line)
    return proc.returncode, summary, proc.stderr[-4000:]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The ``myoxai bench fuzz`` options, added to its subcommand parser."""
    parser.add_argument("--examples", type=int, default=3000, help="damaged inputs per class (default 3000)")
    parser.add_argument("--kinds", default=",".join(KINDS), help=f"comma-separated subset of {','.join(KINDS)}")
    parser.add_argument("--seed", type=int, default=0)


def run(args: argparse.Namespace) -> list[Result]:
    """Outcome counts of each reader fed damaged inputs in a memory-limited child process."""
    from myoxai.errors import MyoxaiError

    results = []
    for kind in [k.strip() for k in args.kinds.split(",") if k.strip()]:
        if kind not in KINDS:
            raise MyoxaiError(f"unknown fuzz class {kind!r}; choose from {', '.join(KINDS)}")
        code, summary, err = run_child(kind, args.examples, args.seed)
        params = {"seed": args.seed, "memory_limit_gb": MEMORY_LIMIT / 1024**3}
        if code != 0 or summary is None:
            print(err, file=sys.stderr)
            results.append(Result(f"fuzz.{kind}.failures", 1.0, "runs", params))
            continue
        for key, unit in (("examples", "inputs"), ("loaded", "inputs"), ("refused", "inputs"),
                          ("seconds", "s"), ("peak_rss_mb", "MB")):
            results.append(Result(f"fuzz.{kind}.{key}", float(summary[key]), unit, params))
        results.append(Result(f"fuzz.{kind}.failures", 0.0, "runs", params | {"top_refusals": summary["top_refusals"]}))
    return results


def _child_main(argv: list[str]) -> int:
    kind, examples, seed, limit = argv[0], int(argv[1]), int(argv[2]), int(argv[3])
    resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    import logging

    logging.disable(logging.WARNING)  # damaged files warn by design; the outcome is what counts
    summary = fuzz_kind(kind, examples, seed)
    print(json.dumps(summary), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(_child_main(sys.argv[1:]))
