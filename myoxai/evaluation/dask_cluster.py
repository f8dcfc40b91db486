"""Dask for the evaluation grid: a TLS-secured loopback ``LocalCluster``, or a scheduler checked before use.

A Dask scheduler runs whatever code its clients submit (cells travel as pickles), so it must be
trusted. ``--workers N`` starts one on 127.0.0.1 with TLS and temporary credentials
(``security=True``): another user of the machine cannot connect. ``--scheduler`` takes
``tls://HOST:PORT`` with ``--security FILE`` (CA, client certificate and key), or ``tcp://`` on a
trusted network (with a warning off this machine); ``probe_scheduler`` checks the endpoint greets
like a Dask scheduler before Dask's client reads from it.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from myoxai import __version__
from myoxai.errors import MyoxaiError
from myoxai.evaluation.cells import Cell, GridContext, run_cell
from myoxai.evaluation.fingerprint import code_fingerprint

log = logging.getLogger(__name__)


def _worker_facts(root: str, runners: list[str]) -> tuple[str, bool, int, str]:
    """The worker's myoxai version, whether it sees ``root``, its torch threads and its code fingerprint.

    Imports the runners (and torch) once, so the first cell of each worker does not pay for it.
    """
    import torch

    import myoxai
    from myoxai.evaluation.cells import resolve
    from myoxai.evaluation.fingerprint import code_fingerprint

    for runner in runners:
        resolve(runner)
    return myoxai.__version__, os.path.isdir(root), torch.get_num_threads(), code_fingerprint()["sources"]


PROBE_TIMEOUT_S = 10.0
"""Seconds a scheduler address has to accept a connection and greet like a Dask scheduler."""


def _read_exactly(sock: Any, n: int) -> bytes:
    data = b""
    while len(data) < n:
        part = sock.recv(n - len(data))
        if not part:
            raise OSError("the connection was closed")
        data += part
    return data


def probe_scheduler(address: str, security: Any = None, timeout: float = PROBE_TIMEOUT_S) -> None:
    """Check that ``address`` greets like a Dask scheduler before Dask's client trusts what it sends.

    A Dask scheduler sends its handshake (a few dozen bytes: frame count, frame lengths, a msgpack
    map with ``pickle-protocol``) as soon as a connection opens. An HTTP server sends nothing (Dask
    would wait past its own timeout) and other services send bytes that Dask reads as a frame length
    of exabytes; both are refused here within ``timeout`` seconds, in one line.
    """
    import socket
    import struct
    from urllib.parse import urlsplit

    import msgpack

    parts = urlsplit(address if "://" in address else f"tcp://{address}")
    if parts.scheme not in ("tcp", "tls") or not parts.hostname or not parts.port:
        raise MyoxaiError(f"--scheduler {address}: give tls://HOST:PORT (or tcp://HOST:PORT on a trusted network)")
    where = f"--scheduler {address}"
    try:
        raw = socket.create_connection((parts.hostname, parts.port), timeout=timeout)
    except OSError as exc:
        raise MyoxaiError(f"{where}: cannot connect ({exc.strerror or exc}); start the scheduler first (dask "
                          "scheduler / dask-jobqueue) and pass its address") from None
    try:
        with raw:
            raw.settimeout(timeout)
            sock = raw
            if parts.scheme == "tls":
                ctx = (security.get_connection_args("client") if security is not None else {}).get("ssl_context")
                if ctx is None:
                    raise MyoxaiError(f"{where}: a tls:// scheduler needs --security FILE (CA, certificate, key)")
                sock = ctx.wrap_socket(raw, server_hostname=parts.hostname)
            (total,) = struct.unpack("<Q", _read_exactly(sock, 8))
            if not 16 <= total <= 65536:
                raise ValueError(f"a first message of {total} bytes")
            body = _read_exactly(sock, total)
            (n_frames,) = struct.unpack("<Q", body[:8])
            lengths = struct.unpack(f"<{n_frames}Q", body[8:8 + 8 * n_frames]) if 0 < n_frames < 16 else ()
            start = 8 + 8 * n_frames
            greeting = msgpack.unpackb(body[start:start + lengths[0]]) if lengths else None
            if not isinstance(greeting, dict) or "pickle-protocol" not in greeting:
                raise ValueError("no Dask handshake")
    except MyoxaiError:
        raise
    except TimeoutError:
        raise MyoxaiError(f"{where}: no Dask handshake within {timeout:g} s (is it a Dask scheduler, and is the "
                          "address right?)") from None
    except (OSError, ValueError, struct.error, msgpack.exceptions.ExtraData, msgpack.exceptions.UnpackException) \
            as exc:
        raise MyoxaiError(f"{where}: not a Dask scheduler ({' '.join(str(exc).split())[:120]}); start one (dask "
                          "scheduler) and pass its address") from None


def load_security(path: str | Path) -> Any:
    """A ``distributed.Security`` (encryption required) from a YAML/JSON security file.

    The file holds ``tls_ca_file``, ``tls_client_cert`` and ``tls_client_key``: paths, relative to
    the file.
    """
    import yaml
    from distributed import Security

    path = Path(path).expanduser()
    try:
        doc = yaml.safe_load(path.read_text())
    except (OSError, yaml.YAMLError, UnicodeDecodeError) as exc:
        raise MyoxaiError(f"--security {path}: cannot read it ({' '.join(str(exc).split())[:120]})") from None
    keys = ("tls_ca_file", "tls_client_cert", "tls_client_key")
    if not isinstance(doc, dict) or set(doc) - set(keys) or not all(isinstance(doc.get(k), str) for k in keys):
        raise MyoxaiError(f"--security {path}: expected the keys {', '.join(keys)}, each a file path")
    files = {k: str((path.parent / doc[k]).expanduser()) for k in keys}
    missing = [f for f in files.values() if not Path(f).is_file()]
    if missing:
        raise MyoxaiError(f"--security {path}: {missing[0]} does not exist")
    return Security(**files, require_encryption=True)


@contextlib.contextmanager
def dask_client(workers: int | None, scheduler: str | None, threads: int = 1,
                security: Any = None) -> Iterator[Any]:
    """A ``distributed.Client`` on a new loopback ``LocalCluster`` with TLS, or on ``scheduler``.

    The local cluster has ``workers`` processes, each running one task at a time with ``threads``
    torch threads, and talks TLS with temporary credentials (``security=True``): another user of
    the machine cannot submit code to it. A scheduler is probed first (``probe_scheduler``); a
    Dask scheduler runs whatever its clients submit, so only connect to one you trust.
    """
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise MyoxaiError("--workers/--scheduler need Dask: pip install 'myoxai[cluster]'") from None
    with contextlib.ExitStack() as stack:
        if scheduler:
            if scheduler.startswith("tcp://") and not _loopback(scheduler):
                log.warning("--scheduler %s is not encrypted: anyone on the path can read or change the cells "
                            "and their code; use tls:// with --security", scheduler)
            probe_scheduler(scheduler, security)
            try:
                client = stack.enter_context(Client(scheduler, timeout="30s", security=security))
            except (OSError, TimeoutError) as exc:
                raise MyoxaiError(f"--scheduler {scheduler}: cannot connect ({exc}); start the scheduler first "
                                  "(dask scheduler / dask-jobqueue) and pass its address") from None
        else:
            import dask

            if not logging.getLogger().isEnabledFor(logging.DEBUG):  # Dask logs every start and stop at INFO
                logging.getLogger("distributed").setLevel(logging.WARNING)

            # Dask's defaults slow torch training down: MALLOC_TRIM_THRESHOLD_ switches off glibc's dynamic
            # mmap threshold (every large tensor becomes an mmap/munmap pair) and the statistical profiler
            # samples the training thread every 10 ms (see the README).
            stack.enter_context(dask.config.set({"distributed.nanny.pre-spawn-environ.MALLOC_TRIM_THRESHOLD_": None,
                                                 "distributed.worker.profile.enabled": False}))
            env = {k: str(threads) for k in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS")}
            cluster = stack.enter_context(LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                                       host="127.0.0.1", dashboard_address="127.0.0.1:0",
                                                       env=env, security=True))
            client = stack.enter_context(Client(cluster))
        yield client


def _loopback(address: str) -> bool:
    from urllib.parse import urlsplit

    return (urlsplit(address).hostname or "") in ("127.0.0.1", "localhost", "::1")


def prepare_workers(client: Any, context: GridContext, runners: list[str]) -> None:
    """Check every worker (same myoxai, sees the dataset) and import the runners there."""
    facts = client.run(_worker_facts, context.root, runners)
    if not facts:
        raise MyoxaiError("the Dask cluster has no workers; start some (dask worker ADDRESS) and retry")
    mine = code_fingerprint()["sources"]
    for address, (version, has_root, threads, sources) in facts.items():
        if version != __version__ or sources != mine:
            raise MyoxaiError(f"worker {address} runs myoxai {version} (code {sources}), this client {__version__} "
                              f"(code {mine}); install the same code on every worker")
        if not has_root:
            raise MyoxaiError(f"worker {address} cannot see {context.root}; put the dataset on a filesystem the "
                              "workers share at that path, or pass --worker-root with the workers' path")
        if threads != context.threads:  # cells run off the worker's main thread, which cannot set it per cell
            raise MyoxaiError(f"worker {address} runs torch with {threads} threads, --threads is {context.threads}; "
                              f"start the workers with OMP_NUM_THREADS={context.threads} (records depend on it)")


def dask_outcomes(todo: list[tuple[str, Cell, GridContext]], client: Any) -> Iterator[tuple[str, dict, int]]:
    """(key, outcome, cells running) of each cell as it completes on the cluster."""
    from distributed import as_completed

    slots = sum(client.nthreads().values())
    futures = {client.submit(run_cell, cell, context, key=f"cell-{key}", pure=False): key
               for key, cell, context in todo}
    for future in as_completed(futures):
        key = futures[future]
        try:
            outcome = future.result()
        except Exception as exc:  # the worker died (e.g. out of memory): the cell fails, the grid goes on
            outcome = {"status": "failed", "error": f"{type(exc).__name__}: {exc}", "seconds": None}
        running = sum(len(v) for v in client.processing().values())
        yield key, outcome, min(running, slots)
