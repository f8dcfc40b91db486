"""The one schema of ``myoxai bench --json``: machine facts plus flat, dotted, one-number records."""

from __future__ import annotations

import json
import os
import platform
import time
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from myoxai import __version__


@dataclass(frozen=True)
class Result:
    """One measured number, e.g. ``Result("dsp.realtime_factor", 1234.5, "x", {"threads": 1})``."""

    name: str
    value: float
    unit: str
    params: dict[str, Any] = field(default_factory=dict)


def machine() -> dict[str, Any]:
    """Facts that make results from different machines and commits comparable."""
    import numpy
    import scipy

    info: dict[str, Any] = {"platform": platform.platform(), "python": platform.python_version(),
                            "processor": platform.processor() or platform.machine(), "cpus": os.cpu_count(),
                            "myoxai": __version__, "numpy": numpy.__version__, "scipy": scipy.__version__,
                            "time": time.strftime("%Y-%m-%dT%H:%M:%S%z")}
    try:
        import torch

        info["torch"] = torch.__version__
    except ImportError:
        pass
    try:
        import subprocess

        info["commit"] = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True,
                                        cwd=Path(__file__).parent, timeout=5).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        info["commit"] = None
    return info


def write_report(results: list[Result], path: str | Path | None, *, overwrite: bool = False,
                 inputs: Iterable[str | Path | None] = ()) -> dict[str, Any]:
    """Print one line per result and, with ``path``, write the JSON report (through ``io.outputs``)."""
    report = {"machine": machine(), "benchmarks": [asdict(r) for r in results]}
    for r in results:
        params = " ".join(f"{k}={v}" for k, v in r.params.items())
        print(f"{r.name:40s} {r.value:14.6g} {r.unit:6s} {params}")
    if path is not None:
        from myoxai.io.outputs import write_text

        write_text(path, json.dumps(report, indent=2), overwrite=overwrite, inputs=inputs)
    return report
