"""Evaluation cells: the independent units of work of ``myoxai eval``, described as data.

A ``Cell`` is one training and the test sets it is scored on (or, for the adaptation protocols,
one subject-day with every method). It holds no arrays and no functions, only JSON: the dotted
name of the function that runs it (``runner``), its parameters and the data units it reads
(``(subject, day)`` or ``(participant, session)``). So a cell can be hashed for the result cache,
shipped to another process or machine, and run there against the dataset at ``GridContext.root``.

Reproducibility: a cell's seed is ``derive_seed(run seed, cell.seed_key)``; the runner seeds from
it alone, so a cell gives the same records whichever process runs it, in whatever order. Shared
intermediate models (the adaptation calibration model, inter-subject pre-training) are memoised
per process with ``memo`` and seeded from their own key, which makes them identical wherever
they are (re)trained.
"""

from __future__ import annotations

import hashlib
import importlib
import json
import time
import traceback
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np


def canonical(obj: Any) -> str:
    """Stable JSON text of ``obj`` (sorted keys, no spaces): the input of every hash here."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), default=str)


def derive_seed(run_seed: int, key: Any) -> int:
    """A 31-bit seed from the run seed and a JSON key: stable across processes, machines and Python runs."""
    digest = hashlib.sha256(f"{int(run_seed)}|{canonical(key)}".encode()).digest()
    return int.from_bytes(digest[:4], "little") & 0x7FFFFFFF


@dataclass(frozen=True)
class Cell:
    """One independent unit of an evaluation grid.

    Parameters
    ----------
    runner:
        ``"module:function"``; the function is called as ``fn(params, context, seed)`` and returns
        ``{"records": [...], "details": {...}}`` (details: timings and diagnostics kept out of records).
    params:
        JSON description of the work; goes into the cache key.
    reads:
        Data units the cell reads, e.g. ``[[1, 1], [1, 2]]`` (subject, day); their content hashes
        go into the cache key.
    seed_key:
        What the cell's seed derives from (default: ``params``).
    label:
        Short human-readable name for progress and failure lists.
    """

    runner: str
    params: dict[str, Any]
    reads: list[list[Any]]
    label: str
    seed_key: Any = None

    def seed(self, run_seed: int) -> int:
        """The cell's seed, derived from the run seed and ``seed_key`` (stable across runs)."""
        return derive_seed(run_seed, self.params if self.seed_key is None else self.seed_key)


@dataclass
class GridContext:
    """What every cell of a run shares: dataset, run seed, torch threads and the settings object.

    ``settings_key`` is the JSON description of ``settings`` used in cache keys; ``root`` is not in
    the key (the same data may sit at different paths), the data's content hashes are.
    """

    dataset: str
    root: str
    seed: int
    threads: int
    settings: Any
    settings_key: dict[str, Any] = field(default_factory=dict)


def resolve(runner: str) -> Callable[..., dict[str, Any]]:
    """The runner function named ``"module:function"``."""
    module, _, name = runner.partition(":")
    return getattr(importlib.import_module(module), name)


def run_cell(cell: Cell, context: GridContext) -> dict[str, Any]:
    """Run one cell in this process and never raise: the outcome holds records or the error.

    Torch gets ``context.threads`` threads (on the main thread; a Dask worker's task thread cannot set
    them, so ``executor`` starts and checks its workers with that count); the global numpy and torch
    generators are seeded from the cell's seed as well, so even a stray global draw cannot make
    results depend on which cells ran before in the same process.
    """
    import torch

    from myoxai.models import torch_threads

    seed = cell.seed(context.seed)
    t0, cpu0 = time.perf_counter(), time.thread_time()  # torch on one thread computes in this thread
    try:
        np.random.seed(seed)
        torch.manual_seed(seed)
        with torch_threads(context.threads):
            out = resolve(cell.runner)(cell.params, context, seed)
        return {"status": "done", "seed": seed, "records": out["records"], "details": out.get("details", {}),
                "seconds": time.perf_counter() - t0, "cpu_seconds": time.thread_time() - cpu0}
    except Exception as exc:  # a failed cell is recorded and the grid goes on
        return {"status": "failed", "seed": seed, "error": f"{type(exc).__name__}: {exc}",
                "traceback": traceback.format_exc(), "seconds": time.perf_counter() - t0}


_MEMO: OrderedDict[str, Any] = OrderedDict()
MEMO_SIZE = 96  # about 96 subject-days of windows (~7 MB each) plus a few models per process


def memo(key: Any, make: Callable[[], Any]) -> Any:
    """Per-process least-recently-used cache of loaded data and shared models.

    Only for things that are a pure function of ``key`` (deterministic given their seed), so a
    hit and a recomputation are interchangeable. Callers must not modify what they get.
    """
    k = canonical(key)
    if k in _MEMO:
        _MEMO.move_to_end(k)
        return _MEMO[k]
    value = make()
    _MEMO[k] = value
    while len(_MEMO) > MEMO_SIZE:
        _MEMO.popitem(last=False)
    return value
