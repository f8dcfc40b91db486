"""Offline evaluation protocols on real recordings (``myoxai eval``).

- ``data``: ``WindowSet`` (spectrograms, windows, labels, per-window metadata) of a dataset selection,
  and the data units (subject-day, participant-session) that cells read and hash;
- ``cells``: ``Cell`` (one independent unit of a grid, described as JSON), per-cell seeds, per-process memo;
- ``executor``: ``run_grid`` runs cells sequentially or on Dask (``--workers``/``--scheduler``) with a
  resumable per-cell result cache;
- ``protocols``: intra-day / inter-day / inter-subject (long-term dataset) and intra-/inter-session
  (myo-readings) as train-then-test cells, with an adaptation hook between training and each test set;
- ``adaptation``: unsupervised recalibration (DANN, SCADANN, …) on separated adapt/test splits,
  one cell per subject-day;
- ``plan``: typed ``EvalOptions`` → cells and one context per run seed (refuses options a protocol ignores);
- ``fingerprint``: the code fingerprint in every cache key (package sources, registered functions);
- ``myo_armband`` / ``myo_armband_run``: the Myo Armband inter-subject protocol, one cell per participant;
- ``drift_validation``: does the drift score predict accuracy loss (``myoxai drift --dataset kanoga``);
- ``metrics``: accuracy, balanced accuracy, macro-F1, confusion, summary over subjects (seeds averaged first);
- ``stats``: each method against a reference over subjects: bootstrap interval, Wilcoxon, Friedman + Holm;
- ``figures``: accuracy-vs-day and confusion-matrix PNGs.
"""

from __future__ import annotations

from myoxai.cliargs import int_list_arg, parse_int_list  # the shared argument types (one module for all commands)

__all__ = ["int_list_arg", "parse_int_list"]
