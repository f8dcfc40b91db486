"""Benchmarks behind ``myoxai bench NAME``: one module per benchmark, one JSON schema for all.

Each module ``myoxai.bench.<name>`` (``-`` in a name becomes ``_``) defines ``HELP``,
``add_arguments(parser)`` and ``run(args) -> list[Result]``; ``myoxai.bench.report`` wraps results with machine facts.
"""

from __future__ import annotations

BENCHMARKS = ("dsp", "models", "shapley", "recalibrate", "live", "acquisition", "fuzz", "soak", "eval-grid",
              "calibrate", "sweep", "delay")
