"""Run a grid of cells sequentially, on a local Dask cluster or on any Dask cluster, with a result cache.

One loop (``run_grid``) does everything but the execution itself: cache look-up, progress,
writing each finished cell's JSON, collecting failures. Outcomes come from one of two sources:

- no ``workers`` and no ``scheduler``: a plain in-process loop, and Dask is never imported;
- ``workers=N`` (a ``LocalCluster`` of N processes with one thread each, bound to 127.0.0.1, TLS with
  temporary credentials) or ``scheduler="tls://HOST:PORT"`` (an existing cluster, checked first;
  ``evaluation.dask_cluster``): both through ``distributed.Client`` with
  ``submit`` + ``as_completed``, so a laptop and a SLURM cluster run the same code.

``distributed.Client`` was chosen over joblib's Dask backend because it is what joblib would use
underneath anyway, and it gives directly what the grid needs: results as they complete (each is
cached at once, so an interrupted run loses only the cells in flight), a per-future error instead
of one exception for the whole batch, the dashboard link, and ``Client.run`` to check before
submitting anything that every worker runs the same myoxai version and sees the dataset.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from myoxai import __version__
from myoxai.errors import MyoxaiError
from myoxai.evaluation.cells import Cell, GridContext, canonical, run_cell
from myoxai.evaluation.dask_cluster import dask_client, dask_outcomes, prepare_workers
from myoxai.evaluation.fingerprint import cache_identity, code_fingerprint


@dataclass
class GridResult:
    """Records in cell order, one entry per cell (status, cached, seconds, error), and timings."""

    records: list[dict[str, Any]]
    cells: list[dict[str, Any]]
    wall_seconds: float
    startup_seconds: float = 0.0
    teardown_seconds: float = 0.0
    dashboard: str | None = None
    workers: int = 1
    code: dict[str, Any] = field(default_factory=dict)
    foreign_cache: dict[str, int] = field(default_factory=dict)

    @property
    def failed(self) -> list[dict[str, Any]]:
        """The cells that raised."""
        return [c for c in self.cells if c["status"] == "failed"]


@dataclass
class CellCache:
    """One JSON file per finished cell, named by its key, written through ``io.outputs`` (atomic, no leftovers).

    A file that is not a finished cell's entry (damaged, ``[]``, "done" without records, another
    key) is ignored and the cell recomputed; a cache folder that cannot be written is refused
    before any cell runs.
    """

    folder: Path | None
    _hashes: dict[str, str] = field(default_factory=dict)

    def check(self) -> None:
        """Refuse, before any work, a cache folder that cannot be created or written."""
        if self.folder is None:
            return
        from myoxai.io.outputs import check_output

        try:
            self.folder.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise MyoxaiError(f"--cache {self.folder}: cannot create it ({exc.strerror or exc}); choose another "
                              "folder") from None
        check_output(self.folder / ".probe.json", overwrite=True)  # a read-only or full place: one line, now

    def _load(self, path: Path) -> dict[str, Any] | None:
        try:
            stored = json.loads(path.read_text())
        except (OSError, ValueError, UnicodeDecodeError, RecursionError):
            return None
        return stored if isinstance(stored, dict) else None

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored entry of a finished cell, or None (no cache, no file, unreadable or not a finished entry)."""
        if self.folder is None:
            return None
        stored = self._load(self.folder / f"{key}.json")
        if stored is None or stored.get("key") != key or stored.get("status") != "done":
            return None
        records = stored.get("records")
        if not isinstance(records, list) or not all(isinstance(r, dict) for r in records):
            return None
        return stored

    def foreign(self, sources: str) -> dict[str, int]:
        """How many stored cells each *other* code fingerprint wrote (never served: their keys differ)."""
        out: dict[str, int] = {}
        if self.folder is None or not self.folder.is_dir():
            return out
        for path in self.folder.glob("*.json"):
            stored = self._load(path)
            if stored is None:
                continue
            code = stored.get("code") if isinstance(stored.get("code"), dict) else {}
            other = str(code.get("sources", "unknown (written before code fingerprints)"))
            if other != sources:
                out[other] = out.get(other, 0) + 1
        return out

    def put(self, key: str, entry: dict[str, Any]) -> None:
        """Store a cell's entry atomically (a no-op without a cache folder); a failure is one ``MyoxaiError``."""
        if self.folder is None:
            return
        from myoxai.io.outputs import write_text

        write_text(self.folder / f"{key}.json", json.dumps(entry, indent=1, default=str), overwrite=True)


def pipeline_constants() -> dict[str, Any]:
    """Numbers that shape results without being a cell parameter: signal config, adaptation pipeline, supports."""
    from myoxai.adapt import DEFAULT_PIPELINE
    from myoxai.adapt.quick import PROTOTYPE_SUPPORTS
    from myoxai.config import DEFAULT_CONFIG

    return {"signal_config": DEFAULT_CONFIG.to_dict(), "default_pipeline": DEFAULT_PIPELINE,
            "prototype_supports": PROTOTYPE_SUPPORTS}


def cell_keys(cells: list[Cell], context: GridContext, data_root: str | None = None) -> list[str]:
    """Cache key of every cell.

    A hash of: runner, parameters, seed key, the content hashes of the data it reads, dataset,
    settings (``context.settings_key``: recipe, model arguments, feature set, …), run seed, threads,
    the pipeline constants and the code (``fingerprint.cache_identity``: the package's sources and the
    functions registered for features and models in this process). The data is hashed where this
    process sees it (``data_root``, default ``context.root``).
    """
    from myoxai.evaluation.data import unit_hash

    hashes: dict[str, str] = {}
    keys = []
    code, constants = cache_identity(), pipeline_constants()
    for cell in cells:
        reads = {}
        for unit in cell.reads:
            u = canonical(unit)
            if u not in hashes:
                hashes[u] = unit_hash(context.dataset, data_root or context.root, unit)
            reads[u] = hashes[u]
        ident = {"runner": cell.runner, "params": cell.params, "seed_key": cell.seed_key, "reads": reads,
                 "dataset": context.dataset, "settings": context.settings_key, "seed": context.seed,
                 "threads": context.threads, "constants": constants, "code": code}
        keys.append(hashlib.sha256(canonical(ident).encode()).hexdigest()[:32])
    return keys


def _sequential(todo: list[tuple[str, Cell, GridContext]]) -> Iterator[tuple[str, dict[str, Any], int]]:
    for key, cell, context in todo:
        yield key, run_cell(cell, context), 1


def run_grid(cells: list[Cell], context: GridContext | Sequence[GridContext], workers: int | None = None,
             scheduler: str | None = None, cache_dir: str | Path | None = None, progress: bool = True,
             data_root: str | None = None, security: Any = None) -> GridResult:
    """Run every cell under every context (one per run seed) not already in the cache.

    Finished cells are cached as soon as they complete. Every record gets the run seed of its context
    as ``"seed"``. ``data_root``: where this process sees the dataset, to hash it (default: each
    context's ``root``, where the cells read it).
    """
    from tqdm.auto import tqdm

    t0 = time.perf_counter()
    contexts = [context] if isinstance(context, GridContext) else list(context)
    cache = CellCache(Path(cache_dir) if cache_dir else None)
    cache.check()
    code = code_fingerprint()
    foreign = cache.foreign(code["sources"])
    jobs = [(key, cell, ctx) for ctx in contexts for key, cell in zip(cell_keys(cells, ctx, data_root), cells,
                                                                       strict=True)]
    outcomes: dict[str, dict[str, Any]] = {}
    for key, _, _ in jobs:
        hit = cache.get(key)
        if hit is not None:
            outcomes[key] = {**hit, "cached": True}
    todo = list({k: (k, c, x) for k, c, x in jobs if k not in outcomes}.values())  # identical cells run once
    bar = tqdm(total=len(jobs), initial=len(jobs) - len(todo), desc="cells", unit="cell", disable=not progress)
    if foreign:
        bar.write(f"the cache {cache.folder} also holds cells written by other code ({foreign}); they are not used")
    failed = 0
    startup = 0.0
    dashboard = None
    n_workers = 1
    with contextlib.ExitStack() as stack:
        if (workers or scheduler) and todo:
            client = stack.enter_context(dask_client(workers, scheduler, contexts[0].threads, security))
            prepare_workers(client, contexts[0], sorted({cell.runner for _, cell, _ in todo}))
            startup = time.perf_counter() - t0
            dashboard = client.dashboard_link
            n_workers = sum(client.nthreads().values())
            bar.write(f"Dask: {n_workers} worker threads, dashboard {dashboard}")
            stream = dask_outcomes(todo, client)
        else:
            stream = _sequential(todo)
        labels = {key: cell for key, cell, _ in jobs}
        for key, outcome, running in stream:
            outcome["cached"] = False
            outcomes[key] = outcome
            if outcome["status"] == "done":
                cell = labels[key]
                cache.put(key, {"key": key, "label": cell.label, "runner": cell.runner, "params": cell.params,
                                "myoxai": __version__, "code": code, **outcome})
            else:
                failed += 1
                bar.write(f"cell failed: {labels[key].label}: {outcome['error']}")
            n = bar.n + 1
            bar.set_postfix(done=n - failed, running=running if n < len(jobs) else 0, failed=failed, refresh=False)
            bar.update(1)
        t_done = time.perf_counter()
    bar.close()
    teardown = time.perf_counter() - t_done
    records, entries = [], []
    for key, cell, ctx in jobs:
        out = outcomes[key]
        entry = {"id": key, "label": cell.label, "run_seed": ctx.seed, "status": out["status"],
                 "cached": out["cached"], "seed": out.get("seed"), "seconds": out.get("seconds"),
                 "cpu_seconds": out.get("cpu_seconds")}
        if out["cached"]:
            entry["code"] = out.get("code")
        if out["status"] == "done":
            records.extend({**r, "seed": ctx.seed} for r in out["records"])
            if out.get("details"):
                entry["details"] = out["details"]
        else:
            entry["error"] = out["error"]
        entries.append(entry)
    return GridResult(records, entries, time.perf_counter() - t0, startup, teardown, dashboard, n_workers, code,
                      foreign)
