"""The Myo Armband protocol as a grid: one cell per evaluation participant, run by ``run_grid`` like every protocol.

The pre-training (19 people) is shared by every participant's cell: it is memoised per process
and, with ``ArmbandSettings.cache``, kept as model files named by all their settings and a hash of
their data (``myo_armband.cached_pretrain``). A cell's records depend only on the run seed, so
sequential, ``--workers`` and ``--seeds`` runs give the same records cell by cell.

The participants are asserted by name: the paper's 19 pre-training and 17 evaluation people; a
download with other folders is an error, not a different table. The headline comparison is declared
here, before any scoring (``HEADLINE``): the All-ConvNet fine-tuned from the pre-trained model on
one cycle (k = 1, 35 s), which is what the app's quick calibration does. Every other row is
secondary.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from myoxai.errors import MyoxaiError
from myoxai.evaluation.cells import Cell, GridContext, memo
from myoxai.evaluation.myo_armband import (
    ALIGN_MODES,
    TORCH_MODELS,
    ArmbandSettings,
    cached_pretrain,
    kanoga_source,
    participant_records,
    pretraining_set,
)
from myoxai.io import myo_armband as ma

RUNNER = "myoxai.evaluation.myo_armband_run:run_participant"
PRETRAINING = tuple([f"Female{i}" for i in range(7)] + [f"Male{i}" for i in range(12)])
EVALUATION = tuple([f"Female{i}" for i in range(2)] + [f"Male{i}" for i in range(15)])
HEADLINE = {"model": "allconvnet", "variant": "transfer-k1"}  # declared before scoring (see module docstring)


def check_participants(root: str | Path) -> None:
    """The dataset at ``root`` holds exactly the paper's 19 pre-training and 17 evaluation participants."""
    for group, expected in (("pre-training", PRETRAINING), ("evaluation", EVALUATION)):
        found = set(ma.participants(root, group))
        if found != set(expected):
            raise MyoxaiError(f"{ma.group_dir(root, group)} holds {sorted(found)}; the protocol needs exactly the "
                              f"paper's {len(expected)} {group} participants {sorted(expected)} (a different download "
                              "would give a different table)")


def armband_cells(participants: list[str] | None = None) -> list[Cell]:
    """One cell per evaluation participant (default: all 17, in the dataset's order)."""
    people = participants or list(EVALUATION)
    unknown = [p for p in people if p not in EVALUATION]
    if unknown:
        raise MyoxaiError(f"--participants: {unknown} are not evaluation participants; choose from "
                          f"{', '.join(EVALUATION)}")
    pre = [["pre-training", p] for p in PRETRAINING]
    return [Cell(RUNNER, {"dataset": "myo-armband", "protocol": "inter-subject", "subject": p},
                 [["evaluation", p], *pre], f"myo-armband {p}") for p in people]


def _shared(root: str, settings: ArmbandSettings) -> tuple[dict, Any, Any]:
    """Pre-trained models by (kind, name), the population template and energy profile (for alignment)."""
    config = settings.config
    torch_models = [m for m in settings.models if m in TORCH_MODELS]
    source, template, reference = pretraining_set(Path(root), config)
    val = source.meta["cycle"] == ma.N_CYCLES - 1
    sources = {("transfer", n): cached_pretrain(n, source, config, settings.pretrain, val, settings.cache,
                                                "myo-armband") for n in torch_models}
    del source
    if settings.cross_dataset is not None and torch_models:
        kdata, kval = kanoga_source(settings.cross_dataset, config)
        for n in torch_models:
            sources[("transfer-kanoga", n)] = cached_pretrain(n, kdata, config, settings.pretrain, kval,
                                                              settings.cache, "kanoga-s1-4-d1-3")
    return sources, template, reference


def run_participant(params: dict[str, Any], context: GridContext, seed: int) -> dict[str, Any]:
    """Runner of one evaluation participant: every k, model, variant and alignment (``participant_records``)."""
    settings: ArmbandSettings = context.settings
    sources, template, reference = memo(("armband-pretraining", context.root, context.settings_key),
                                        lambda: _shared(context.root, settings))
    recs = ma.load_participant(context.root, "evaluation", params["subject"], ma.ROUNDS)
    return {"records": participant_records(recs, settings.config, settings, sources, template, reference)}


def armband_contexts(root: Path, models: list[str], ks: tuple[int, ...], align: list[str], signal: str,
                     epochs: int, seeds: list[int], threads: int, participants: list[str] | None = None,
                     cross_dataset: Path | None = None, cache: Path | None = None) -> list[GridContext]:
    """One ``GridContext`` per run seed for the Myo Armband grid (typed settings, checked)."""
    from myoxai.config import signal_config
    from myoxai.evaluation.data import unit_hash
    from myoxai.models import TrainSettings

    unknown = [m for m in models if m not in (*TORCH_MODELS, "lda")]
    if unknown or not models:
        raise MyoxaiError(f"--models: unknown {unknown}; with myo-armband choose from lda, {', '.join(TORCH_MODELS)}")
    if not align or any(a not in ALIGN_MODES for a in align):
        raise MyoxaiError(f"--align {','.join(align)}: use a comma list of {', '.join(ALIGN_MODES)}")
    if any(k < 1 or k > ma.N_CYCLES for k in ks):
        raise MyoxaiError("--trials-per-gesture: round 1 has 4 cycles; choose values in 1-4")
    check_participants(root)
    config = signal_config(signal)
    base = ArmbandSettings(models=models, trials_per_gesture=ks, align=tuple(align),
                           pretrain=TrainSettings(epochs=epochs, patience=3, lr_patience=1),
                           participants=participants, cross_dataset=cross_dataset, cache=cache, config=config)
    extra: dict[str, Any] = {"signal": signal, "headline": HEADLINE}
    if cross_dataset is not None:  # its data are read by every cell but are no unit of this dataset
        extra["cross_dataset_data"] = [unit_hash("kanoga", cross_dataset, [s, d]) for s in (1, 2, 3, 4)
                                       for d in (1, 2, 3)]
    contexts = []
    for seed in seeds:
        s = base.for_seed(seed, threads)
        contexts.append(GridContext("myo-armband", str(root), seed, threads, s, {**s.to_dict(), **extra}))
    return contexts
